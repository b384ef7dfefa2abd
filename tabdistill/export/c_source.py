"""A runtime as one dependency-free C file and its header.

A tree runtime's node table is emitted as ``static const`` arrays (every
double as an exact hexadecimal literal) and walked by a small function
implementing the rules of :mod:`tabdistill_runtime.rules`; a linear runtime's
per-feature encoding (one-hot codes, standardisation, the missing-value
indicator) and coefficients are emitted the same way and applied term by term
as the runtime's linear kernel does. So the exported scores equal the
runtime's. C99, no library but ``<math.h>``. A binary model exports
``<name>_score`` (one probability); a model of K classes exports
``<name>_proba`` (K probabilities, in the estimator's ``classes_`` order).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from tabdistill_runtime.model import CompiledModel
from tabdistill_runtime.rules import OUT_SIGMOID, OUT_SOFTMAX, ZERO

from .supported import check_exportable

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_WALKER = """
static int {p}_left(int node, double v)
{{
    unsigned char fl = {p}_flags[node];
    double t = {p}_value[node];
    int miss;
    if (fl & 8) {{ /* categorical: the category set cat_bits[cat_bounds[k]..] */
        long iv, k, start, n_words;
        if (!(v > -1.0 && v < 2147483648.0)) return 0; /* NaN, negative, huge: right */
        iv = (long)v;
        k = (long)t;
        start = {p}_cat_bounds[k];
        n_words = {p}_cat_bounds[k + 1] - start;
        if ((iv >> 5) >= n_words) return 0;
        return (int)(({p}_cat_bits[start + (iv >> 5)] >> (iv & 31)) & 1u);
    }}
    if (fl & 16) v = (double)(float)v; /* compared as float32, like scikit-learn */
    miss = (fl >> 1) & 3;
    if (v != v && miss != 2) v = 0.0; /* missing type None or Zero: NaN is 0 */
    if ((miss == 1 && v >= -{zero} && v <= {zero}) || (miss == 2 && v != v))
        return fl & 1; /* the default direction */
    return v <= t;
}}
"""

_SCORE = """
double {p}_score(const double *row)
{{
    double raw = 0.0;
    int t;
    for (t = 0; t < {p_upper}_N_TREES; t++) {{
        int node = {p}_roots[t];
        while ({p}_feature[node] >= 0)
            node = {p}_left(node, row[{p}_feature[node]]) ? node + 1 : {p}_right[node];
        raw += {p}_value[node];
    }}
    raw += {base};
{transform}
}}

void {p}_score_batch(const double *rows, long n_rows, double *out)
{{
    long i;
    for (i = 0; i < n_rows; i++)
        out[i] = {p}_score(rows + i * {p_upper}_N_FEATURES);
}}
"""

_PROBA = """
static const int {p}_tree_output[{p_upper}_N_TREES] = {{ {outputs} }};

void {p}_proba(const double *row, double *proba)
{{
    double raw[{p_upper}_N_CLASSES], top, sum = 0.0;
    int t, k;
    for (k = 0; k < {p_upper}_N_CLASSES; k++)
        raw[k] = {base};
    for (t = 0; t < {p_upper}_N_TREES; t++) {{
        int node = {p}_roots[t];
        while ({p}_feature[node] >= 0)
            node = {p}_left(node, row[{p}_feature[node]]) ? node + 1 : {p}_right[node];
        raw[{p}_tree_output[t]] += {p}_value[node];
    }}
    top = raw[0];
    for (k = 1; k < {p_upper}_N_CLASSES; k++)
        if (raw[k] > top) top = raw[k];
    (void)top;
    for (k = 0; k < {p_upper}_N_CLASSES; k++) {{
{transform}
        sum += proba[k];
    }}
    for (k = 0; k < {p_upper}_N_CLASSES; k++)
        proba[k] /= sum;
}}
"""
_LINEAR_RAW = """
/* intercept + coef . design(row): a categorical code picks its level's coefficient (NaN,
 * unseen or out of range: none); a number is standardised (NaN: the training median, plus
 * the missing indicator's coefficient) */
static double {p}_raw(const double *row, const double *coef)
{{
    double z = coef[{p_upper}_N_DESIGN];
    int j;
    for (j = 0; j < {p_upper}_N_FEATURES; j++) {{
        double v = row[j];
        long at = {p}_offset[j], n_levels = {p}_n_levels[j];
        if (n_levels > 0) {{
            if (v == v && v >= 0.0 && v < (double)n_levels)
                z += coef[at + (long)v];
        }} else if (v != v) {{
            z += coef[at] * ({p}_median[j] - {p}_mean[j]) / {p}_scale[j];
            if ({p}_has_missing[j])
                z += coef[at + 1];
        }} else {{
            z += coef[at] * (v - {p}_mean[j]) / {p}_scale[j];
        }}
    }}
    return z;
}}
"""

_LINEAR_SCORE = """
double {p}_score(const double *row)
{{
    return 1.0 / (1.0 + exp(-{p}_raw(row, {p}_coef)));
}}

void {p}_score_batch(const double *rows, long n_rows, double *out)
{{
    long i;
    for (i = 0; i < n_rows; i++)
        out[i] = {p}_score(rows + i * {p_upper}_N_FEATURES);
}}
"""

_LINEAR_PROBA = """
void {p}_proba(const double *row, double *proba)
{{
    double top = -HUGE_VAL, sum = 0.0;
    int k;
    for (k = 0; k < {p_upper}_N_CLASSES; k++) {{
        proba[k] = {p}_raw(row, {p}_coef + k * ({p_upper}_N_DESIGN + 1));
        if (proba[k] > top) top = proba[k];
    }}
    for (k = 0; k < {p_upper}_N_CLASSES; k++) {{
        proba[k] = exp(proba[k] - top);
        sum += proba[k];
    }}
    for (k = 0; k < {p_upper}_N_CLASSES; k++)
        proba[k] /= sum;
}}
"""

#: K-class batch scoring, the same for every kind of model.
_PROBA_BATCH = """
void {p}_proba_batch(const double *rows, long n_rows, double *out)
{{
    long i;
    for (i = 0; i < n_rows; i++)
        {p}_proba(rows + i * {p_upper}_N_FEATURES, out + i * {p_upper}_N_CLASSES);
}}
"""

_SOFTMAX_K = "        proba[k] = exp(raw[k] - top);"
_CLIP_K = "        proba[k] = raw[k] < {eps} ? {eps} : (raw[k] > 1.0 ? 1.0 : raw[k]);"

_SIGMOID = "    return 1.0 / (1.0 + exp(-raw));"
_CLIP = "    return raw < {eps} ? {eps} : (raw > 1.0 - {eps} ? 1.0 - {eps} : raw);"


def _double(x: float) -> str:
    if math.isinf(x):
        return "HUGE_VAL" if x > 0 else "(-HUGE_VAL)"
    return float(x).hex()


def _array(ctype, name, values, fmt=str, per_line=8) -> str:
    values = list(values) or [0]
    items = [fmt(v) for v in values]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{len(values)}] = {{\n    {body}\n}};\n"


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_c(model: CompiledModel, name: str = "tabdistill_model") -> tuple[str, str]:
    """``(source, header)``: the C code of a tree or linear runtime.

    Parameters
    ----------
    model : CompiledModel
        A tree or linear runtime, binary or of K classes.
    name : str, default="tabdistill_model"
        Prefix of every exported symbol; a C identifier.

    Raises
    ------
    ValueError
        If ``name`` is not a C identifier, or for a model the exported C cannot
        score as the runtime does (a compiled teacher, float32 sums: see
        :mod:`tabdistill.export.supported`).
    """
    if not _IDENT.match(name):
        raise ValueError(f"name must be a C identifier (letters, digits, _), got {name!r}.")
    check_exportable(model, "C")
    if model.kind == "trees":
        size = f"{model.n_trees} trees, {len(model.arrays['feature'])} nodes"
        defines, body = f"#define {name.upper()}_N_TREES {model.n_trees}\n", _tree_code(model, name)
    else:
        n_design = int(model.meta["n_design"])
        size = f"{model.n_features} features, {n_design} coefficients a class"
        defines, body = f"#define {name.upper()}_N_DESIGN {n_design}\n", _linear_code(model, name)
    names = ", ".join(_c_string(f) for f in model.schema.features) or '""'
    n_names = max(model.schema.n_features, 1)
    source = (
        f"/* {name}: generated by tabdistill from a {model.meta.get('source', model.kind)} "
        f"student ({size}). Do not edit. */\n"
        f'#include <math.h>\n#include "{name}.h"\n\n'
        f"const char *const {name}_feature_names[{n_names}] = {{{names}}};\n\n" + body
    )
    from .c_reasons import with_reasons
    from .c_values import with_values

    return with_values(
        model, name, *with_reasons(model, name, source, _header(model, name, defines))
    )


def _header(model: CompiledModel, name: str, defines: str) -> str:
    schema, up, k = model.schema, name.upper(), model.n_outputs
    levels = []
    for j, feature in enumerate(schema.features):
        cats = schema.categories.get(feature)
        if cats is not None:
            listed = ", ".join(f"{i}={lev}" for i, lev in enumerate(cats[:50]))
            more = f", ... ({len(cats)} levels)" if len(cats) > 50 else ""
            levels.append(f" *   {j:3d} {feature}: categorical, code = {listed}{more}")
        else:
            role = schema.roles.get(feature, "numeric")
            source = getattr(schema, "derived", {}).get(feature)
            detail = f" ({source[1]} of column {source[0]})" if source else ""
            levels.append(f" *   {j:3d} {feature}: {role}{detail}")
    if k > 1:
        functions = (
            f"void {name}_proba(const double *row, double *proba);\n"
            f"void {name}_proba_batch(const double *rows, long n_rows, double *out);"
        )
        contract = f""" * void {name}_proba(const double *row, double *proba);
 *     The {k} class probabilities (in the estimator's classes_ order) of one encoded row
 *     of {up}_N_FEATURES doubles, written into proba[0 .. {up}_N_CLASSES - 1].
 * void {name}_proba_batch(const double *rows, long n_rows, double *out);
 *     The same for n_rows rows stored one after another; out holds n_rows * {k} doubles."""
    else:
        functions = (
            f"double {name}_score(const double *row);\n"
            f"void {name}_score_batch(const double *rows, long n_rows, double *out);"
        )
        contract = f""" * double {name}_score(const double *row);
 *     Probability of the positive class for one encoded row of {up}_N_FEATURES doubles.
 * void {name}_score_batch(const double *rows, long n_rows, double *out);
 *     The same for n_rows rows stored one after another."""
    classes = f"#define {up}_N_CLASSES {k}\n" if k > 1 else ""
    return f"""/* {name}: a tabdistill student, exported to C (generated code, do not edit).
 *
{contract}
 *
 * A row holds the encoded features, in this order (NaN = missing; a categorical
 * feature is the code of its level below, NaN for a level not listed; date and
 * frequency features are encoded as tabdistill's FeatureSchema encodes them):
{chr(10).join(levels)}
 */
#ifndef {up}_H
#define {up}_H

#define {up}_N_FEATURES {schema.n_features}
{defines}{classes}
#ifdef __cplusplus
extern "C" {{
#endif

{functions}
extern const char *const {name}_feature_names[{max(schema.n_features, 1)}];

#ifdef __cplusplus
}}
#endif

#endif /* {up}_H */
"""


def _tree_code(model: CompiledModel, p: str) -> str:
    """The node table and the walk of a tree runtime."""
    from tabdistill_runtime._proba import EPS

    a, k = model.arrays, model.n_outputs
    if k > 1:
        transform = (
            _SOFTMAX_K if model.meta["output"] == OUT_SOFTMAX else _CLIP_K.format(eps=repr(EPS))
        )
    else:
        transform = _SIGMOID if model.meta["output"] == OUT_SIGMOID else _CLIP.format(eps=repr(EPS))
    data = [
        _array("int", f"{p}_feature", a["feature"].tolist()),
        _array("int", f"{p}_right", a["right"].tolist()),
        _array("unsigned char", f"{p}_flags", a["flags"].tolist(), per_line=16),
        _array("double", f"{p}_value", a["value"].tolist(), _double, per_line=4),
        _array("int", f"{p}_roots", a["roots"].tolist()),
        _array("long", f"{p}_cat_bounds", a["cat_bounds"].tolist()),
        _array("unsigned long", f"{p}_cat_bits", a["cat_bits"].tolist(), lambda v: f"{v}ul"),
    ]
    fill = dict(
        p=p,
        p_upper=p.upper(),
        zero=float(ZERO).hex(),
        base=_double(model.meta["base"]),
        transform=transform,
        outputs=", ".join(map(str, a["tree_output"].tolist())),
    )
    scoring = _PROBA + _PROBA_BATCH if k > 1 else _SCORE
    return "\n".join(data) + _WALKER.format(**fill) + scoring.format(**fill)


def _linear_code(model: CompiledModel, p: str) -> str:
    """The encoding tables, coefficients and scoring functions of a linear runtime."""
    ints, values, coef = model.arrays["ints"], model.arrays["values"], model.arrays["coef"]
    data = [
        _array("long", f"{p}_offset", ints[:, 0].tolist()),
        _array("long", f"{p}_n_levels", ints[:, 1].tolist()),
        _array("unsigned char", f"{p}_has_missing", ints[:, 2].tolist(), per_line=16),
        _array("double", f"{p}_median", values[:, 0].tolist(), _double, per_line=4),
        _array("double", f"{p}_mean", values[:, 1].tolist(), _double, per_line=4),
        _array("double", f"{p}_scale", values[:, 2].tolist(), _double, per_line=4),
        _array("double", f"{p}_coef", coef.ravel().tolist(), _double, per_line=4),
    ]
    fill = dict(p=p, p_upper=p.upper())
    scoring = _LINEAR_PROBA + _PROBA_BATCH if model.n_outputs > 1 else _LINEAR_SCORE
    return "\n".join(data) + _LINEAR_RAW.format(**fill) + scoring.format(**fill)


def write_c(model: CompiledModel, directory, name: str = "tabdistill_model") -> list[Path]:
    """Write ``<name>.c`` and ``<name>.h`` into ``directory``; returns both paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    source, header = to_c(model, name)
    paths = [directory / f"{name}.c", directory / f"{name}.h"]
    paths[0].write_text(source)
    paths[1].write_text(header)
    return paths
