"""A tree runtime as one dependency-free C file and its header.

The node table is emitted as ``static const`` arrays (every double as an exact
hexadecimal literal) and walked by a small function implementing the rules of
:mod:`tabdistill.runtime.rules`, so the exported scores equal the runtime's.
C99, no library but ``<math.h>``. A binary model exports ``<name>_score``
(one probability); a model of K classes exports ``<name>_proba`` (K
probabilities, in the estimator's ``classes_`` order).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from ..runtime.model import CompiledModel
from ..runtime.rules import OUT_SIGMOID, OUT_SOFTMAX, ZERO

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
    """``(source, header)``: the C code of a tree runtime.

    Parameters
    ----------
    model : CompiledModel
        A tree runtime.
    name : str, default="tabdistill_model"
        Prefix of every exported symbol; a C identifier.

    Raises
    ------
    ValueError
        If ``name`` is not a C identifier.
    TypeError
        For a linear runtime (not exported to C yet).
    """
    if not _IDENT.match(name):
        raise ValueError(f"name must be a C identifier (letters, digits, _), got {name!r}.")
    if model.kind != "trees":
        raise TypeError("only tree runtimes can be exported to C for now.")
    from .._proba import EPS

    a, schema, p, up = model.arrays, model.schema, name, name.upper()
    k = model.n_outputs
    if k > 1:
        transform = (
            _SOFTMAX_K if model.meta["output"] == OUT_SOFTMAX else _CLIP_K.format(eps=repr(EPS))
        )
    else:
        transform = _SIGMOID if model.meta["output"] == OUT_SIGMOID else _CLIP.format(eps=repr(EPS))
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
    header = f"""/* {name}: a tabdistill student, exported to C (generated code, do not edit).
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
#define {up}_N_TREES {model.n_trees}
{classes}
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
    data = [
        _array("int", f"{p}_feature", a["feature"].tolist()),
        _array("int", f"{p}_right", a["right"].tolist()),
        _array("unsigned char", f"{p}_flags", a["flags"].tolist(), per_line=16),
        _array("double", f"{p}_value", a["value"].tolist(), _double, per_line=4),
        _array("int", f"{p}_roots", a["roots"].tolist()),
        _array("long", f"{p}_cat_bounds", a["cat_bounds"].tolist()),
        _array("unsigned long", f"{p}_cat_bits", a["cat_bits"].tolist(), lambda v: f"{v}ul"),
    ]
    names = ", ".join(_c_string(f) for f in schema.features) or '""'
    fill = dict(
        p=p,
        p_upper=up,
        zero=float(ZERO).hex(),
        base=_double(model.meta["base"]),
        transform=transform,
        outputs=", ".join(map(str, a["tree_output"].tolist())),
    )
    source = (
        f"/* {name}: generated by tabdistill from a {model.meta.get('source', 'tree')} "
        f"student ({model.n_trees} trees, {len(a['feature'])} nodes). Do not edit. */\n"
        f'#include <math.h>\n#include "{name}.h"\n\n'
        f"const char *const {name}_feature_names[{max(schema.n_features, 1)}] = {{{names}}};\n\n"
        + "\n".join(data)
        + _WALKER.format(**fill)
        + (_PROBA if k > 1 else _SCORE).format(**fill)
    )
    return source, header


def write_c(model: CompiledModel, directory, name: str = "tabdistill_model") -> list[Path]:
    """Write ``<name>.c`` and ``<name>.h`` into ``directory``; returns both paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    source, header = to_c(model, name)
    paths = [directory / f"{name}.c", directory / f"{name}.h"]
    paths[0].write_text(source)
    paths[1].write_text(header)
    return paths
