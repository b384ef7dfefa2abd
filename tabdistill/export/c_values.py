"""Raw values in the exported C: a record's values encoded as the runtime encodes them.

The exported file embeds the runtime's reader of raw values (``_rawvalues.h`` and
``_rawdates.h`` of :mod:`tabdistill_runtime`, the rules the runtime's compiled record reader
follows) with the schema's tables, so a C caller passes a record's values rather than an
encoded row. Adds:

* ``<name>_input``: one input column's value, ``{text, number}``: ``text`` (UTF-8) when not
  NULL, else ``number`` (NaN: missing);
* ``int <name>_encode(const <name>_input *values, double *row)``: the values of the
  ``<NAME>_N_COLUMNS`` input columns (in the order of ``<name>_column_names``) encoded into a
  row of ``<NAME>_N_FEATURES`` doubles; returns how many values did not read (strays, read
  as missing, as ``score_record`` reads them after its warning);
* ``double <name>_score_values(const <name>_input *values)`` (binary) or
  ``void <name>_proba_values(const <name>_input *values, double *proba)`` (K classes).

A number column reads text in its number format (currency, thousands, decimal mark,
percent, accounting negatives) and numbers as they are (+/-inf: the fitted extremes); a
categorical column finds a level by its text or number as ``levels.level_key`` compares
them (``"4"``, ``"4.0"`` and 4.0 are one level; ``"True"`` is 1), an unseen level is
missing (or the frequency 0); a date column reads text in its fitted layout and Unix
times as numbers or text. What the reader does not read is a stray here where Python
may still read it: ISO 8601 forms other than ``YYYY-MM-DD[(T| )HH:MM[:SS[.fff|.ffffff]]]``
with an optional ``Z`` or ``+HH:MM``, non-ASCII digits, text longer than 400 bytes.
Dates outside 1685-2255 may differ from the runtime in the last bit of their
timestamp part.
"""

from __future__ import annotations

from importlib import resources

from tabdistill_runtime.dates import ISO, PARTS, UNIX_MILLISECONDS, UNIX_SECONDS
from tabdistill_runtime.levels import level_key
from tabdistill_runtime.model import CompiledModel
from tabdistill_runtime.number_formats import PLAIN

NUMBER, CATEGORY, DATE = 0, 1, 2
_LAYOUTS = {ISO: 0, UNIX_SECONDS: 1, UNIX_MILLISECONDS: 2}  # as _rawvalues.h; else 3

_READER = """
typedef struct {{
    int kind, first, n; /* NUMBER, CATEGORY, DATE; its outputs first .. first + n - 1 */
    tdr_number_format format;
    int layout;
    const char *pattern;
}} {p}_column;

/* The level table `table`'s value for `key`, or `unseen` (keys sorted by their bytes). */
static double {p}_level(int table, const char *key, double unseen)
{{
    long lo = {p}_level_bounds[table], hi = {p}_level_bounds[table + 1] - 1;
    while (lo <= hi) {{
        long mid = lo + (hi - lo) / 2;
        int c = strcmp({p}_level_keys[mid], key);
        if (c == 0)
            return {p}_level_values[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }}
    return unseen;
}}

/* The level key of a number (levels.level_key): its integer text when whole and below 2^53,
 * else Python's repr (the shortest text that reads back). */
static void {p}_number_key(double x, char *buf)
{{
    int precision;
    if (tdr_integer_key(x, buf) > 0)
        return;
    if (x == floor(x) && fabs(x) < 1e16) {{
        sprintf(buf, "%.0f.0", x);
        return;
    }}
    for (precision = 1; precision < 17; precision++) {{
        sprintf(buf, "%.*g", precision, x);
        if (strtod(buf, NULL) == x)
            return;
    }}
    sprintf(buf, "%.17g", x);
}}

/* The level key of a value (text or number) into buf; 0 if the value is missing. */
static int {p}_key(const {p}_input *v, char *buf, const char **key)
{{
    size_t n;
    int truth;
    double x;
    *key = buf;
    if (v->text == NULL) {{
        if (v->number != v->number)
            return 0;
        {p}_number_key(v->number, buf);
        return 1;
    }}
    n = strlen(v->text);
    if (tdr_number_text(v->text, n) && n <= TDR_MAX_TEXT && TDR_STRTOD(v->text, &x) == 0) {{
        {p}_number_key(x, buf);
        return 1;
    }}
    truth = tdr_bool_text(v->text, n);
    if (truth >= 0)
        buf[0] = truth ? '1' : '0', buf[1] = '\\0';
    else
        *key = v->text;
    return 1;
}}

static int {p}_read_category(const {p}_column *c, const {p}_input *v, double *row)
{{
    char buf[48];
    const char *key;
    int o, present = {p}_key(v, buf, &key);
    for (o = c->first; o < c->first + c->n; o++)
        row[{p}_out_pos[o]] = present ? {p}_level({p}_out_arg[o], key, {p}_out_unseen[o])
                                      : tdr_nan();
    return 0;
}}

static int {p}_read_number(const {p}_column *c, const {p}_input *v, double *row)
{{
    int o = c->first, stray = 0;
    double x = v->number;
    if (v->text != NULL && tdr_read_number(v->text, strlen(v->text), &c->format, &x) == TDR_STRAY)
        x = tdr_nan(), stray = 1;
    if (x - x != 0 && x == x) /* +/-inf: the fitted extreme */
        x = x > 0 ? {p}_out_upper[o] : {p}_out_lower[o];
    row[{p}_out_pos[o]] = x;
    return stray;
}}

static int {p}_read_date(const {p}_column *c, const {p}_input *v, double *row)
{{
    double parts[TDR_N_PARTS];
    int64_t us = 0;
    int o, zoned = 0, status;
    if (v->text != NULL)
        status = tdr_read_date_text(v->text, strlen(v->text), c->layout, c->pattern, &us, &zoned);
    else if (v->number != v->number)
        status = TDR_MISSING;
    else if (c->layout == TDR_UNIX_S || c->layout == TDR_UNIX_MS)
        status = tdr_unix_us(v->number * (c->layout == TDR_UNIX_MS ? 1e-3 : 1.0), &us);
    else
        status = TDR_STRAY;
    if (status == TDR_VALUE)
        tdr_date_parts(us, parts);
    for (o = c->first; o < c->first + c->n; o++)
        row[{p}_out_pos[o]] = status == TDR_VALUE ? parts[{p}_out_arg[o]] : tdr_nan();
    return status == TDR_STRAY;
}}

int {p}_encode(const {p}_input *values, double *row)
{{
    int i, strays = 0;
    for (i = 0; i < {P}_N_COLUMNS; i++) {{
        const {p}_column *c = &{p}_columns[i];
        if (c->kind == {category})
            strays += {p}_read_category(c, &values[i], row);
        else if (c->kind == {date})
            strays += {p}_read_date(c, &values[i], row);
        else
            strays += {p}_read_number(c, &values[i], row);
    }}
    return strays;
}}
"""

_SCORE_VALUES = """
double {p}_score_values(const {p}_input *values)
{{
    double row[{P}_N_FEATURES + 1];
    {p}_encode(values, row);
    return {p}_score(row);
}}
"""

_PROBA_VALUES = """
void {p}_proba_values(const {p}_input *values, double *proba)
{{
    double row[{P}_N_FEATURES + 1];
    {p}_encode(values, row);
    {p}_proba(row, proba);
}}
"""


def _number(x: float) -> str:
    """A double literal; NaN as C99's NAN (a quiet NaN, as NumPy's)."""
    from .c_source import _double

    return "NAN" if x != x else _double(x)


def _core() -> str:
    """The runtime's reader of raw values, as C text: the dates' part after the rest."""
    files = resources.files("tabdistill_runtime")
    return "".join(files.joinpath(name).read_text() for name in ("_rawvalues.h", "_rawdates.h"))


def _c_text(text: str) -> str:
    """A C string literal of ``text``'s UTF-8 bytes (octal escapes beyond printable ASCII)."""
    out = []
    for b in text.encode("utf-8"):
        ch = chr(b)
        if ch in '"\\' or not 32 <= b < 127 or ch == "?":
            out.append(f"\\{b:03o}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _levels(schema, feature) -> list[tuple[bytes, float]]:
    """A categorical or frequency feature's table, by level key, sorted by the key's bytes."""
    if schema.roles[feature] == "frequency":
        items = schema.frequencies[feature].items()
    else:
        items = ((lev, float(i)) for i, lev in enumerate(schema.categories[feature]))
    table: dict = {}
    for lev, value in items:
        table.setdefault(level_key(lev).encode("utf-8"), value)
    return sorted(table.items())


def _tables(model: CompiledModel):
    """Per input column its reader; per output (encoded feature) its position and argument."""
    schema = model.schema
    columns, outputs, tables = [], [], []
    for column in schema.column_plan():
        first = len(outputs)
        spec = schema.formats.get(column.name, PLAIN)
        for j, feature in zip(column.positions, column.features):
            if column.kind == "category":
                arg, unseen = len(tables), schema.unseen(feature)
                tables.append(_levels(schema, feature))
            elif column.kind == "date":
                arg, unseen = PARTS.index(schema.derived[feature][1]), 0.0
            else:
                arg, unseen = 0, 0.0
            outputs.append((j, arg, unseen, schema.lower[j], schema.upper[j]))
        columns.append((column, first, len(outputs) - first, spec))
    return columns, outputs, tables


def _column_entry(column, first, n, spec) -> str:
    kind = {"number": NUMBER, "category": CATEGORY, "date": DATE}[column.kind]
    if kind == NUMBER:
        cur, th = spec["currency"], spec["thousands"]
        fmt = (
            f"{{{_c_text(cur)}, {len(cur.encode())}, {_c_text(th)}, {len(th.encode())}, "
            f"'{spec['decimal']}', {int(spec['percent'])}, {int(spec['parens'])}}}"
        )
    else:
        fmt = '{"", 0, "", 0, \'.\', 0, 0}'
    layout, pattern = 0, '""'
    if kind == DATE:
        layout = _LAYOUTS.get(spec["layout"], 3)
        pattern = _c_text(spec["layout"]) if layout == 3 else '""'
    return f"    {{{kind}, {first}, {n}, {fmt}, {layout}, {pattern}}}"


def values_c(model: CompiledModel, name: str) -> tuple[str, str, str]:
    """``(source, declarations, contract)`` adding the raw-value encoder to an export."""
    from .c_source import _array, _c_string

    p, P = name, name.upper()
    columns, outputs, tables = _tables(model)
    bounds, keys, values = [0], [], []
    for table in tables:
        keys += [_c_text(k.decode("utf-8")) for k, _ in table]
        values += [v for _, v in table]
        bounds.append(len(keys))
    names = ", ".join(_c_string(c.name) for c, *_ in columns) or '""'
    data = [
        f"const char *const {p}_column_names[{P}_N_COLUMNS] = {{{names}}};\n",
        _array("int", f"{p}_out_pos", [o[0] for o in outputs]),
        _array("int", f"{p}_out_arg", [o[1] for o in outputs]),
        _array("double", f"{p}_out_unseen", [o[2] for o in outputs], _number, per_line=4),
        _array("double", f"{p}_out_lower", [o[3] for o in outputs], _number, per_line=4),
        _array("double", f"{p}_out_upper", [o[4] for o in outputs], _number, per_line=4),
        _array("long", f"{p}_level_bounds", bounds),
        _array("char *const", f"{p}_level_keys", keys or ['""'], per_line=4),
        _array("double", f"{p}_level_values", values, _number, per_line=4),
    ]
    entries = ",\n".join(_column_entry(*c) for c in columns)
    fill = dict(p=p, P=P, category=CATEGORY, date=DATE)
    reader = _READER.format(**fill)
    at = reader.index("/* The level table")
    table = f"static const {p}_column {p}_columns[{P}_N_COLUMNS] = {{\n{entries}\n}};\n"
    scoring = (_PROBA_VALUES if model.n_outputs > 1 else _SCORE_VALUES).format(**fill)
    source = (
        "\n/* ---- raw values (see tabdistill_runtime/_rawvalues.h, _rawdates.h) */\n"
        + _core()
        + "".join(data)
        + reader[:at]
        + table
        + "\n"
        + reader[at:]
        + scoring
    )
    return source, _declarations(model, p, P, len(columns)), _contract(model, p, P)


def _declarations(model, p, P, n_columns) -> str:
    score = (
        f"void {p}_proba_values(const {p}_input *values, double *proba);\n"
        if model.n_outputs > 1
        else f"double {p}_score_values(const {p}_input *values);\n"
    )
    return (
        f"#define {P}_N_COLUMNS {max(n_columns, 1)}\n"
        f"typedef struct {{\n    const char *text; /* UTF-8, or NULL: then number */\n"
        f"    double number;    /* NaN: missing */\n}} {p}_input;\n"
        f"int {p}_encode(const {p}_input *values, double *row);\n"
        + score
        + f"extern const char *const {p}_column_names[{P}_N_COLUMNS];\n"
    )


def _contract(model, p, P) -> str:
    scoring = (
        f" * void {p}_proba_values(const {p}_input *values, double *proba);\n"
        f" *     {p}_encode, then {p}_proba."
        if model.n_outputs > 1
        else f" * double {p}_score_values(const {p}_input *values);\n"
        f" *     {p}_encode, then {p}_score."
    )
    return f""" * int {p}_encode(const {p}_input *values, double *row);
 *     A record's raw values, one per input column in the order of {p}_column_names
 *     ({P}_N_COLUMNS): text (UTF-8) when .text is not NULL, else .number (NaN: missing).
 *     Numbers as text in the column's number format, categories by their level text (or
 *     number), dates in the column's fitted layout (Unix times as numbers too), encoded
 *     into row ({P}_N_FEATURES doubles) as the runtime's score_record encodes them.
 *     Returns how many values did not read (read as missing).
{scoring}"""


def with_values(model: CompiledModel, name: str, source: str, header: str) -> tuple[str, str]:
    """``(source, header)`` of :func:`tabdistill.export.c_source.to_c` with the encoder added."""
    more, declarations, contract = values_c(model, name)
    anchor = f"extern const char *const {name}_feature_names["
    at = header.index(anchor)
    header = header[:at] + declarations + header[at:]
    header = header.replace(" *\n * A row holds", f"{contract}\n *\n * A row holds", 1)
    return source + more, header
