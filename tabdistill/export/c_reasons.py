"""Reason codes in the exported C: per-row contributions and the top-k input columns.

The runtime's own contribution kernels (``_treeshap.h`` of :mod:`tabdistill_runtime`: exact
TreeSHAP for trees, the linear terms) are embedded in the exported file with the tables
they read, so the exported contributions are the runtime's (:mod:`tabdistill_runtime.explain`).
A tree runtime's splits are decided by the export's own walker (``<name>_left``). Adds:

* ``void <name>_contributions(const double *row, double *out)``: each encoded feature's
  contribution to each output's raw score, then the expected value (K blocks of
  ``N_FEATURES + 1`` doubles);
* ``int <name>_reasons(const double *row, int k, int *index, double *value)``: the ``k``
  input columns with the largest contributions (of the most probable class for K classes),
  largest first, as indices into ``<name>_reason_names``.

A tree runtime saved without node covers exports without them.
"""

from __future__ import annotations

from importlib import resources

from tabdistill_runtime.model import CompiledModel

_TREES = """
#define {P}_REASON_WORK {work}
#define {P}_REASON_INTS {ints}
#define TD_WITH_TREES
#define TD_LEFT(rules, node, v) ((void)(rules), {p}_left(node, v))
{core}
static const td_trees {p}_trees = {{{p}_feature, {p}_right, {p}_value, {p}_share, {p}_repeat,
    {p}_prev_edge, {p}_roots, {outputs}, {p}_gauss_t, {p}_gauss_w, 0, {P}_N_TREES,
    {n_nodes}, {P}_N_FEATURES, {k}, {n_points}, {max_nodes}}};

void {p}_contributions(const double *row, double *out)
{{
    double work[{P}_REASON_WORK];
    int ints[{P}_REASON_INTS], j, k;
    for (k = 0; k < {k}; k++) {{
        for (j = 0; j < {P}_N_FEATURES; j++)
            out[k * ({P}_N_FEATURES + 1) + j] = 0.0;
        out[k * ({P}_N_FEATURES + 1) + {P}_N_FEATURES] = {p}_expected[k];
    }}
    td_contrib(&{p}_trees, row, -1, out, {P}_N_FEATURES + 1, work, ints);
}}

int {p}_reasons(const double *row, int k, int *index, double *value)
{{
    double phi[{k} * ({P}_N_FEATURES + 1)], work[{P}_REASON_WORK], sums[{P}_N_REASON_NAMES];
    int ints[{P}_REASON_INTS], j, out = 0;
{pick}    for (j = 0; j < {P}_N_FEATURES; j++)
        phi[out * ({P}_N_FEATURES + 1) + j] = 0.0;
    td_contrib(&{p}_trees, row, out, phi, {P}_N_FEATURES + 1, work, ints);
    return td_top_reasons(phi + out * ({P}_N_FEATURES + 1), {P}_N_FEATURES, {p}_reason_group,
                          {P}_N_REASON_NAMES, k, sums, index, value);
}}
"""

_LINEAR = """
#define TD_WITH_LINEAR
{core}
static const td_linear {p}_linear = {{{p}_offset, {p}_n_levels, {p}_has_missing, {p}_median,
    {p}_mean, {p}_scale, {p}_coef, {P}_N_FEATURES, {k}, {P}_N_DESIGN}};

void {p}_contributions(const double *row, double *out)
{{
    int k;
    for (k = 0; k < {k}; k++)
        td_linear_terms(&{p}_linear, row, k, out + k * ({P}_N_FEATURES + 1));
}}

int {p}_reasons(const double *row, int k, int *index, double *value)
{{
    double phi[{P}_N_FEATURES + 1], sums[{P}_N_REASON_NAMES];
    int out = 0;
{pick}    td_linear_terms(&{p}_linear, row, out, phi);
    return td_top_reasons(phi, {P}_N_FEATURES, {p}_reason_group, {P}_N_REASON_NAMES, k, sums,
                          index, value);
}}
"""

#: The most probable class of the row (models of K classes), into `out`.
_ARGMAX = """    double proba[{k}];
    int c;
    {p}_proba(row, proba);
    for (c = 1; c < {k}; c++)
        if (proba[c] > proba[out])
            out = c;
"""


def reasons_c(model: CompiledModel, name: str) -> tuple[str, str, str]:
    """``(source, declarations, contract)`` adding the reasons functions to an export.

    ``source`` goes after the scoring code (it uses the node table, the walker and, for K
    classes, ``<name>_proba``); ``declarations`` into the header, ``contract`` into its
    comment. All empty for a tree runtime without node covers.
    """
    from .c_source import _array, _c_string, _double

    if model.kind == "trees" and "cover" not in model.arrays:
        return "", "", ""
    p, P, k = name, name.upper(), model.n_outputs
    explainer = model.explainer
    names = explainer.groups.names
    data = [
        f"const char *const {p}_reason_names[{P}_N_REASON_NAMES] = "
        f"{{{', '.join(_c_string(n) for n in names) or chr(34) * 2}}};\n",
        _array("int", f"{p}_reason_group", explainer.groups.index.tolist()),
    ]
    pick = _ARGMAX.format(p=p, k=k) if k > 1 else ""
    fill = dict(p=p, P=P, k=k, core=_core(), pick=pick)
    if model.kind == "trees":
        walk = explainer.walk
        q, max_nodes = len(walk["points"]), walk["max_nodes"]
        data += [
            _array("double", f"{p}_share", walk["share"].tolist(), _double, per_line=4),
            _array("unsigned char", f"{p}_repeat", walk["repeat"].tolist(), per_line=16),
            _array("int", f"{p}_prev_edge", walk["prev_edge"].tolist()),
            _array("double", f"{p}_gauss_t", walk["points"].tolist(), _double, per_line=4),
            _array("double", f"{p}_gauss_w", walk["weights"].tolist(), _double, per_line=4),
            _array("double", f"{p}_expected", explainer.expected.tolist(), _double, per_line=4),
        ]
        fill.update(
            outputs=f"{p}_tree_output" if k > 1 else "0",
            n_nodes=len(model.arrays["feature"]),
            n_points=q,
            max_nodes=max_nodes,
            work=max_nodes * (3 + 5 * q) + q,
            ints=2 * max_nodes,
        )
        code = _TREES
        stack = 8 * (max_nodes * (3 + 5 * q) + q + k * (model.n_features + 1)) + 8 * max_nodes
    else:
        code = _LINEAR
        stack = 8 * (model.n_features + 1 + len(names))
    source = "\n/* ---- reason codes (see tabdistill_runtime/_treeshap.h) */\n"
    source += "".join(data) + code.format(**fill)
    return source, _declarations(p, P), _contract(model, p, P, k, stack)


def _core() -> str:
    """The runtime's contribution kernels, as C text."""
    return resources.files("tabdistill_runtime").joinpath("_treeshap.h").read_text()


def _declarations(p, P) -> str:
    return (
        f"#define {P}_N_REASON_NAMES {{n}}\n"
        f"void {p}_contributions(const double *row, double *out);\n"
        f"int {p}_reasons(const double *row, int k, int *index, double *value);\n"
        f"extern const char *const {p}_reason_names[{P}_N_REASON_NAMES];\n"
    )


def _contract(model, p, P, k, stack) -> str:
    unit = "log-odds" if model.meta.get("output", 0) in (0, 2) else "probability"
    if model.kind == "trees":
        how = "exact TreeSHAP, as LightGBM's pred_contrib; the baseline is the mean raw score"
    else:
        how = "a linear model's terms; the baseline is the intercept"
    blocks = f"{P}_N_FEATURES + 1 doubles" if k == 1 else f"{k} x ({P}_N_FEATURES + 1) doubles"
    whose = "the most probable class's score" if k > 1 else "the score"
    return f""" * void {p}_contributions(const double *row, double *out);
 *     Each encoded feature's contribution to the raw score ({unit}), then the baseline:
 *     out holds {blocks}, summing to the raw score ({how}).
 * int {p}_reasons(const double *row, int k, int *index, double *value);
 *     The k input columns that raised {whose} most, largest first (the
 *     contributions of a column's encoded features summed): index[i] into
 *     {p}_reason_names, value[i] the contribution. Returns how many were written,
 *     min(k, {P}_N_REASON_NAMES). Uses about {max(1, round(stack / 1024))} KB of stack."""


def with_reasons(model: CompiledModel, name: str, source: str, header: str) -> tuple[str, str]:
    """``(source, header)`` of :func:`tabdistill.export.c_source.to_c` with the reasons added."""
    more, declarations, contract = reasons_c(model, name)
    if not more:
        return source, header
    n_names = max(len(model.explainer.groups.names), 1)
    anchor = f"extern const char *const {name}_feature_names["
    at = header.index(anchor)
    header = header[:at] + declarations.replace("{n}", str(n_names)) + header[at:]
    header = header.replace(" *\n * A row holds", f"{contract}\n *\n * A row holds", 1)
    return source + more, header
