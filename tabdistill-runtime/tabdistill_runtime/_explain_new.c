/* An explainer (_explain.h) built from a runtime's arrays: Trees and Linear, their arrays
 * held as buffers and checked, so that no call reads outside them; the trees' tables built
 * (_shaptables.h).
 */
#include "_explain.h"

static int take(Explainer *self, PyObject *obj, const char *fmts, Py_ssize_t itemsize,
                const void **ptr, Py_ssize_t *count, const char *name)
{
    Py_buffer *view = &self->bufs[self->n_bufs];
    const char *f;
    if (self->n_bufs >= MAX_BUFS) {
        PyErr_SetString(PyExc_RuntimeError, "Explainer: too many arrays");
        return -1;
    }
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    f = view->format;
    if (f[0] == '<' || f[0] == '=' || f[0] == '@')
        f++;
    if (view->itemsize != itemsize || f[0] == '\0' || strchr(fmts, f[0]) == NULL ||
        f[1] != '\0') {
        PyErr_Format(PyExc_TypeError, "%s: expected items of type '%s', got '%s'", name, fmts,
                     view->format);
        PyBuffer_Release(view);
        return -1;
    }
    self->n_bufs++;
    *ptr = view->buf;
    *count = view->len / itemsize;
    return 0;
}

void td_explain_dealloc(Explainer *self)
{
    for (int k = 0; k < self->n_bufs; k++)
        PyBuffer_Release(&self->bufs[k]);
    Py_XDECREF(self->names);
    free(self->expected);
    td_tables_free(&self->tables);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* groups: int32 array of n_features entries in [0, len(names)) */
static int take_groups(Explainer *self, PyObject *groups, PyObject *names)
{
    const void *ptr;
    Py_ssize_t n;
    if (!PyTuple_Check(names)) {
        PyErr_SetString(PyExc_TypeError, "names must be a tuple");
        return -1;
    }
    if (take(self, groups, "i", 4, &ptr, &n, "groups") < 0)
        return -1;
    if (n != self->n_features) {
        PyErr_SetString(PyExc_ValueError, "groups must hold one entry a feature");
        return -1;
    }
    self->group = ptr;
    self->n_groups = (int)PyTuple_GET_SIZE(names);
    for (Py_ssize_t j = 0; j < n; j++)
        if (self->group[j] < 0 || self->group[j] >= self->n_groups) {
            PyErr_SetString(PyExc_ValueError, "a feature's group is out of range");
            return -1;
        }
    Py_INCREF(names);
    self->names = names;
    return 0;
}

/* The td_leaves arrays of `paths` (see Trees), then the slots, checked: every index within
 * its array (the slots with the nodes, in check_listed). */
static int take_paths(Explainer *self, PyObject *paths, Py_ssize_t n_trees, Py_ssize_t n_nodes,
                      int n_features)
{
    static const char *fmts[11] = {"i", "i", "d", "i", "i", "d", "LQ", "LQ", "d", "d", "i"};
    static const Py_ssize_t sizes[11] = {4, 4, 8, 4, 4, 8, 8, 8, 8, 8, 4};
    static const char *names[11] = {"first", "stop", "value", "entry", "feature", "z",
                                    "mask", "want", "rule_t", "rule_w", "slot"};
    const void *ptr[11];
    Py_ssize_t len[11];
    td_tables *T = &self->tables;
    td_leaves *L = &T->leaves;
    if (PyTuple_GET_SIZE(paths) != 11) {
        PyErr_SetString(PyExc_ValueError, "Trees: expected 11 leaf-path arrays");
        return -1;
    }
    for (int k = 0; k < 11; k++)
        if (take(self, PyTuple_GET_ITEM(paths, k), fmts[k], sizes[k], &ptr[k], &len[k],
                 names[k]) < 0)
            return -1;
    *L = (td_leaves){ptr[0], ptr[1], ptr[2], ptr[3], ptr[4], ptr[5], ptr[6], ptr[7], ptr[8],
                     ptr[9]};
    T->n_leaves = (long)len[2];
    T->slot = ptr[10];
    if (len[10] != n_nodes || len[0] != n_trees || len[1] != n_trees || len[3] != len[2] + 1 ||
        len[5] != len[4] || len[6] != len[4] || len[7] != len[4] || len[8] != len[9] ||
        len[3] < 1)
        goto bad;
    for (Py_ssize_t t = 0; t < n_trees; t++)
        if (L->first[t] >= 0 && (L->stop[t] < L->first[t] || L->stop[t] > len[2]))
            goto bad;
    for (Py_ssize_t l = 0; l < len[2]; l++) {
        int d = L->entry[l + 1] - L->entry[l], n = (d + 1) / 2;
        if (L->entry[l] < 0 || d < 0 || d > 64 || L->entry[l + 1] > len[4] ||
            (Py_ssize_t)n * (n + 1) / 2 > len[8])
            goto bad;
    }
    for (Py_ssize_t e = 0; e < len[4]; e++)
        if (L->feature[e] < 0 || L->feature[e] >= n_features)
            goto bad;
    return 0;
bad:
    PyErr_SetString(PyExc_ValueError, "Trees: leaf-path arrays of inconsistent sizes");
    return -1;
}

/* The tree_blocks arrays of `blocks` (see Trees), checked: every index within its array. */
static int take_blocks(Explainer *self, PyObject *blocks, Py_ssize_t n_trees, int n_features)
{
    static const char *names[12] = {"block_first", "block_stop", "key_start", "inside_first",
                                    "inside_count", "feat_start", "feats", "leaf_first",
                                    "leaf_stop", "root", "key_mask", "key_want"};
    const void *ptr[12];
    Py_ssize_t len[12], n_leaves = self->tables.n_leaves;
    td_blocks *B = &self->tables.blocks;
    if (PyTuple_GET_SIZE(blocks) != 12) {
        PyErr_SetString(PyExc_ValueError, "Trees: expected 12 block arrays");
        return -1;
    }
    for (int k = 0; k < 12; k++)
        if (take(self, PyTuple_GET_ITEM(blocks, k), k < 10 ? "i" : "LQ", k < 10 ? 4 : 8,
                 &ptr[k], &len[k], names[k]) < 0)
            return -1;
    *B = (td_blocks){ptr[0], ptr[1], ptr[2], ptr[3], ptr[4],  ptr[5], ptr[6],
                     ptr[7], ptr[8], ptr[9], ptr[10], ptr[11], (long)len[7]};
    if (len[0] != n_trees || len[1] != n_trees || len[2] != B->n_blocks + 1 ||
        len[3] != B->n_blocks || len[4] != B->n_blocks || len[5] != B->n_blocks + 1 ||
        len[8] != B->n_blocks || len[9] != B->n_blocks || len[10] != len[11])
        goto bad;
    for (Py_ssize_t t = 0; t < n_trees; t++)
        if (B->block_first[t] < 0 || B->block_stop[t] < B->block_first[t] ||
            B->block_stop[t] > B->n_blocks ||
            (B->block_stop[t] > B->block_first[t] && self->tables.leaves.first[t] < 0))
            goto bad;
    for (long k = 0; k < B->n_blocks; k++) {
        int na = B->key_start[k + 1] - B->key_start[k];
        int u = B->feat_start[k + 1] - B->feat_start[k], nk = na + B->inside_count[k];
        if (na < 0 || nk > 20 || B->key_start[k] < 0 || B->key_start[k + 1] > len[10] || u < 0 ||
            B->inside_count[k] < 0 || B->inside_first[k] < 0 || u > 64 || B->feat_start[k] < 0 ||
            B->feat_start[k + 1] > len[6] || B->leaf_first[k] < 0 ||
            B->leaf_stop[k] < B->leaf_first[k] || B->leaf_stop[k] > n_leaves)
            goto bad;
    }
    for (Py_ssize_t j = 0; j < len[6]; j++)
        if (B->feats[j] < 0 || B->feats[j] >= n_features)
            goto bad;
    return 0;
bad:
    PyErr_SetString(PyExc_ValueError, "Trees: block arrays of inconsistent sizes");
    return -1;
}

/* Every tree within the nodes and of at most max_nodes, adding to an output; children after
 * their split and inside its tree, previous edges before it. 0, or -1 with ValueError set. */
static int check_trees(const td_trees *m)
{
    for (long t = 0; t < m->n_trees; t++) {
        long root = m->roots[t], end = t + 1 < m->n_trees ? m->roots[t + 1] : m->n_nodes;
        if (root < 0 || end > m->n_nodes || end <= root || end - root > m->max_nodes ||
            m->tree_output[t] < 0 || m->tree_output[t] >= m->n_outputs)
            goto bad;
        for (long n = root; n < end; n++)
            if (m->feature[n] >= m->n_features ||
                (m->feature[n] >= 0 &&
                 (n + 1 >= end || m->right[n] <= n + 1 || m->right[n] >= end ||
                  ((m->repeat[n] & TD_ABOVE) &&
                   (m->prev_edge[n] <= root || m->prev_edge[n] > n)))))
                goto bad;
    }
    return 0;
bad:
    PyErr_SetString(PyExc_ValueError, "Trees: a node or tree index is out of range");
    return -1;
}

/* Each output's expected value: the trees' (td_expected) plus base. 0, or -1 with
 * MemoryError set. */
static int take_expected(Explainer *self, double base)
{
    double *work = malloc(sizeof(double) * (size_t)self->trees.max_nodes);
    self->expected = calloc((size_t)self->n_outputs, sizeof(double));
    if (self->expected == NULL || work == NULL) {
        free(work);
        PyErr_NoMemory();
        return -1;
    }
    td_expected(&self->trees, self->expected, work);
    free(work);
    for (int k = 0; k < self->n_outputs; k++)
        self->expected[k] += base;
    return 0;
}

/* The listed trees' leaves and blocks checked against the trees, then their tables built
 * (_shaptables.h), each of at most `tables` values. 0, or -1 with an exception set. */
static int build_tables(Explainer *self, long tables)
{
    if (td_check_listed(&self->trees, &self->tables) < 0) {
        PyErr_SetString(PyExc_ValueError, "Trees: leaf paths inconsistent with the trees");
        return -1;
    }
    if (td_build_tables(&self->trees, &self->tables, tables) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* Trees(arrays, paths, blocks, n_features, n_outputs, max_nodes, base, zero, groups, names,
 * tables): paths: the td_leaves arrays first, stop, value, entry, feature, z, mask, want,
 * rule_t, rule_w, then each node's slot (explain.py: leaf_paths); blocks: those of
 * explain.py's tree_blocks; tables: the most values the blocks' tables may hold, and the
 * leaves' (0: no tables); arrays in the order: feature, right, value, share, repeat,
 * prev_edge, roots, tree_output, flags, cat_bounds, cat_bits, points, weights, kind, u (see
 * tabdistill_runtime/explain.py). */
#define N_TREE_ARRAYS 15
PyObject *td_explain_trees_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static const char *fmts[N_TREE_ARRAYS] = {"i", "i", "d", "d", "B", "i", "i", "i",
                                              "B", "i", "I", "d", "d", "i", "d"};
    static const Py_ssize_t sizes[N_TREE_ARRAYS] = {4, 4, 8, 8, 1, 4, 4, 4,
                                                    1, 4, 4, 8, 8, 4, 8};
    static const char *names[N_TREE_ARRAYS] = {
        "feature", "right", "value", "share", "repeat", "prev_edge", "roots", "tree_output",
        "flags", "cat_bounds", "cat_bits", "points", "weights", "kind", "u"};
    PyObject *arrays, *paths, *blocks, *groups, *group_names;
    int n_features, n_outputs, max_nodes;
    long tables;
    double base, zero;
    const void *ptr[N_TREE_ARRAYS];
    Py_ssize_t len[N_TREE_ARRAYS], n_nodes;
    Explainer *self;
    td_trees *m;
    (void)kwds;
    if (!PyArg_ParseTuple(args, "O!O!O!iiiddOOl:Trees", &PyTuple_Type, &arrays, &PyTuple_Type,
                          &paths, &PyTuple_Type, &blocks, &n_features, &n_outputs, &max_nodes,
                          &base, &zero, &groups, &group_names, &tables))
        return NULL;
    if (PyTuple_GET_SIZE(arrays) != N_TREE_ARRAYS) {
        PyErr_SetString(PyExc_ValueError, "Trees: expected 15 arrays");
        return NULL;
    }
    if (n_features < 0 || n_outputs < 1 || max_nodes < 1) {
        PyErr_SetString(PyExc_ValueError, "Trees: bad sizes");
        return NULL;
    }
    self = (Explainer *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->n_features = n_features;
    self->n_outputs = n_outputs;
    for (int k = 0; k < N_TREE_ARRAYS; k++)
        if (take(self, PyTuple_GET_ITEM(arrays, k), fmts[k], sizes[k], &ptr[k], &len[k],
                 names[k]) < 0)
            goto fail;
    if (take_groups(self, groups, group_names) < 0)
        goto fail;
    n_nodes = len[0];
    if (take_paths(self, paths, len[6], n_nodes, n_features) < 0 ||
        take_blocks(self, blocks, len[6], n_features) < 0)
        goto fail;
    /* the arrays come from a validated table (tabdistill_runtime/validation.py); sizes and
     * indices are checked again here, so that no call can read outside them */
    for (int k = 1; k < 6; k++)
        if (len[k] != n_nodes)
            goto bad_size;
    if (len[8] != n_nodes || len[13] != n_nodes || len[14] != n_nodes || len[7] != len[6] ||
        len[11] != len[12] || len[11] < 1 || len[9] < 1)
        goto bad_size;
    self->rules = (rules_t){ptr[8], ptr[2], ptr[9], ptr[10], ptr[13], ptr[14], zero};
    m = &self->trees;
    *m = (td_trees){ptr[0], ptr[1], ptr[2], ptr[3], ptr[4], ptr[5], ptr[6], ptr[7], ptr[11],
                    ptr[12], &self->rules, (long)len[6], (long)n_nodes, n_features, n_outputs,
                    (int)len[11], max_nodes};
    if (check_trees(m) < 0 || take_expected(self, base) < 0 || build_tables(self, tables) < 0)
        goto fail;
    return (PyObject *)self;
bad_size:
    PyErr_SetString(PyExc_ValueError, "Trees: arrays of inconsistent sizes");
fail:
    Py_DECREF(self);
    return NULL;
}

/* Linear(ints, values, coef, n_outputs, groups, names): the arrays of a linear runtime, with
 * ints split into offset (int64), n_levels (int64), has_missing (uint8) columns. */
PyObject *td_explain_linear_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *o[7], *groups, *group_names;
    static const char *fmts[7] = {"lq", "lq", "B", "d", "d", "d", "d"};
    static const Py_ssize_t sizes[7] = {8, 8, 1, 8, 8, 8, 8};
    static const char *names[7] = {"offset", "n_levels", "has_missing", "median", "mean",
                                   "scale", "coef"};
    const void *ptr[7];
    Py_ssize_t len[7];
    int n_outputs;
    Explainer *self;
    (void)kwds;
    if (!PyArg_ParseTuple(args, "OOOOOOOiOO:Linear", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                          &o[6], &n_outputs, &groups, &group_names))
        return NULL;
    if (sizeof(long) != 8) {
        PyErr_SetString(PyExc_TypeError, "Linear: needs a 64-bit C long");
        return NULL;
    }
    self = (Explainer *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->kind = 1;
    for (int k = 0; k < 7; k++)
        if (take(self, o[k], fmts[k], sizes[k], &ptr[k], &len[k], names[k]) < 0)
            goto fail;
    self->n_features = (int)len[0];
    self->n_outputs = n_outputs;
    if (take_groups(self, groups, group_names) < 0)
        goto fail;
    if (n_outputs < 1 || len[1] != len[0] || len[2] != len[0] || len[3] != len[0] ||
        len[4] != len[0] || len[5] != len[0] || len[6] % n_outputs || len[6] / n_outputs < 1) {
        PyErr_SetString(PyExc_ValueError, "Linear: arrays of inconsistent sizes");
        goto fail;
    }
    self->linear = (td_linear){ptr[0], ptr[1], ptr[2], ptr[3], ptr[4], ptr[5], ptr[6],
                               (int)len[0], n_outputs, (long)(len[6] / n_outputs - 1)};
    for (Py_ssize_t j = 0; j < len[0]; j++) {
        long at = self->linear.offset[j], n_levels = self->linear.n_levels[j];
        long width = n_levels > 0 ? n_levels : 1 + (self->linear.has_missing[j] != 0);
        if (at < 0 || n_levels < 0 || at + width > self->linear.n_design) {
            PyErr_SetString(PyExc_ValueError,
                            "Linear: a feature points outside the coefficients");
            goto fail;
        }
    }
    return (PyObject *)self;
fail:
    Py_DECREF(self);
    return NULL;
}

