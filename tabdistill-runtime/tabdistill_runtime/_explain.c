/* Python glue of the contribution kernels (_treeshap.h): per-row feature contributions and
 * top-k reason codes of a tree or linear runtime, compiled ahead of time with the package.
 *
 * Trees decide splits by the rules of tabdistill_runtime/rules.py, on the canonical arrays
 * (flags, value, cat_bounds, cat_bits), exactly as the scoring kernels do.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* rules.py */
#define DEFAULT_LEFT 1
#define MISSING_ZERO 1
#define MISSING_NAN 2
#define CATEGORICAL 8
#define FLOAT32 16

/* layout.py node kinds */
#define KIND_NAN_LEFT 0
#define KIND_NAN_RIGHT 1
#define KIND_CAT64 2

typedef struct {
    const uint8_t *flags;
    const double *value;
    const int32_t *cat_bounds;
    const uint32_t *cat_bits;
    const int32_t *kind; /* layout.py: how each split decides, resolved once */
    const double *u;     /* its threshold, or (KIND_CAT64) its category mask's bits */
    double zero;
} rules_t;

/* The rules in full, for splits of no fast kind. */
static int slow_left(const rules_t *r, int node, double v)
{
    uint8_t fl = r->flags[node];
    int miss;
    if (fl & CATEGORICAL) {
        int64_t iv, k;
        int32_t start, n_words;
        if (!(v > -1.0 && v < 2147483648.0)) /* NaN, negative, huge: right */
            return 0;
        iv = (int64_t)v;
        k = (int64_t)r->value[node];
        start = r->cat_bounds[k];
        n_words = r->cat_bounds[k + 1] - start;
        if ((iv >> 5) >= n_words)
            return 0;
        return (int)((r->cat_bits[start + (iv >> 5)] >> (iv & 31)) & 1u);
    }
    if (fl & FLOAT32)
        v = (double)(float)v;
    miss = (fl >> 1) & 3;
    if (isnan(v) && miss != MISSING_NAN)
        v = 0.0;
    if ((miss == MISSING_ZERO && v >= -r->zero && v <= r->zero) || (miss == MISSING_NAN && isnan(v)))
        return fl & DEFAULT_LEFT;
    return v <= r->value[node];
}

static inline int rule_left(const void *rules, int node, double v)
{
    const rules_t *r = (const rules_t *)rules;
    int kind = r->kind[node];
    if (kind <= KIND_NAN_RIGHT)
        return !((v > r->u[node]) | ((v != v) & kind));
    if (kind == KIND_CAT64) {
        uint64_t mask;
        int in = (v > -1.0) & (v < 64.0);
        memcpy(&mask, &r->u[node], 8);
        return in && ((mask >> (int)(in ? v : 0.0)) & 1u);
    }
    return slow_left(r, node, v);
}

#define TD_WITH_TREES
#define TD_WITH_LINEAR
#define TD_LEFT(rules, node, v) rule_left(rules, node, v)
#include "_treeshap.h"

/* ------------------------------------------------------------------ shared glue */

#define MAX_BUFS 48
#define STACK_DOUBLES 2048
/* A block of a tree (explain.py: tree_blocks) gets its contributions tabulated for every key
 * (block_key: the row's agreement with the path above it, its decisions inside), while the
 * tables hold at most the `tables` values Trees was given: a row then costs a lookup a block. */
/* A leaf no block table covers, of at most LEAF_TABLE_FEATURES distinct features on its path
 * and none of zero share, gets a table of td_leaf_mass over the patterns of the row's
 * agreement with them (td_leaf_lookup), the fewest features first, within the `tables`
 * values Trees was given (as many again as the blocks' tables). */
#define LEAF_TABLE_FEATURES 12
/* scratch of the pass over a tree's nodes kept on the stack, for trees of at most so many */
#define STACK_NODES 512

/* Blocks of trees (explain.py: tree_blocks): per tree its blocks, per block what its key
 * reads, the features it adds to and its leaves. */
typedef struct {
    const int *block_first, *block_stop; /* per tree */
    /* per block: the features split on above it (key_start into key_mask, key_want: their
     * splits there and those the path goes left at), its own splits (inside_first ..
     * inside_first + inside_count - 1), the features its table holds, its leaves, its first
     * node (its nodes: root .. root + 2 inside_count) */
    const int *key_start, *inside_first, *inside_count, *feat_start, *feats;
    const int *leaf_first, *leaf_stop, *root;
    const uint64_t *key_mask, *key_want;
    long n_blocks;
} blocks_t;

typedef struct {
    PyObject_HEAD
    Py_buffer bufs[MAX_BUFS];
    int n_bufs;
    PyObject *names;  /* tuple: the name of each group (input column) */
    const int32_t *group; /* per encoded feature: its group */
    int n_groups, n_features, n_outputs;
    int kind; /* 0: trees, 1: linear */
    td_trees trees;
    td_leaves leaves; /* trees listed leaf by leaf (leaves.first[t] >= 0) */
    Py_ssize_t leaves_count;
    const int *slot;  /* per split of a listed tree: its feature's bit in the patterns below */
    int *node_leaf;   /* per node: the listed leaf a row computes there, else -1 */
    int *todo_start, *todo; /* per tree: those leaves, in pre-order */
    int *split_start, *splits; /* per tree: its splits (node indices, pre-order) */
    rules_t rules;
    td_linear linear;
    double *expected; /* n_outputs values */
    blocks_t blocks;
    long *block_off; /* per block: where its table starts in block_tab (-1: none) */
    double *block_tab;
    long *leaf_tab_off; /* per listed leaf: where its table starts in leaf_tab (-1: none) */
    double *leaf_tab, *leaf_ratio; /* leaf_ratio: per entry, (1 - z) / z */
    long table_values; /* in block_tab and leaf_tab */
} Explainer;

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
    if (view->itemsize != itemsize || f[0] == '\0' || strchr(fmts, f[0]) == NULL || f[1] != '\0') {
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

static void Explainer_dealloc(Explainer *self)
{
    for (int k = 0; k < self->n_bufs; k++)
        PyBuffer_Release(&self->bufs[k]);
    Py_XDECREF(self->names);
    free(self->expected);
    free(self->block_off);
    free(self->block_tab);
    free(self->leaf_tab_off);
    free(self->leaf_tab);
    free(self->leaf_ratio);
    free(self->node_leaf);
    free(self->todo_start);
    free(self->todo);
    free(self->split_start);
    free(self->splits);
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

/* ------------------------------------------------------------------ construction */

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
    td_leaves *L = &self->leaves;
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
    self->leaves_count = len[2];
    self->slot = ptr[10];
    if (len[10] != n_nodes || len[0] != n_trees || len[1] != n_trees || len[3] != len[2] + 1 ||
        len[5] != len[4] || len[6] != len[4] || len[7] != len[4] || len[8] != len[9] || len[3] < 1)
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

/* Per tree its splits (node indices, pre-order). 0, or -1 with MemoryError set. */
static int map_splits(Explainer *self)
{
    const td_trees *m = &self->trees;
    int n_splits = 0;
    self->splits = malloc(sizeof(int) * (size_t)(m->n_nodes + 1));
    self->split_start = malloc(sizeof(int) * (size_t)(m->n_trees + 1));
    if (self->splits == NULL || self->split_start == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (long t = 0; t < m->n_trees; t++) {
        int end = t + 1 < m->n_trees ? m->roots[t + 1] : (int)m->n_nodes;
        self->split_start[t] = n_splits;
        for (int n = m->roots[t]; n < end; n++)
            if (m->feature[n] >= 0)
                self->splits[n_splits++] = n;
    }
    self->split_start[m->n_trees] = n_splits;
    return 0;
}

/* The listed leaves a row computes, per node (node_leaf: -1 for a split, a leaf of a walked
 * tree and a leaf of a tabulated block, looked up with its block) and per tree (todo).
 * Called after build_block_tables. 0, or -1 with MemoryError set. */
static int map_leaves(Explainer *self)
{
    const td_trees *m = &self->trees;
    const blocks_t *B = &self->blocks;
    char *covered = calloc((size_t)self->leaves_count + 1, 1);
    int n_todo = 0;
    self->node_leaf = malloc(sizeof(int) * (size_t)(m->n_nodes + 1));
    self->todo = malloc(sizeof(int) * (size_t)(m->n_nodes + 1));
    self->todo_start = malloc(sizeof(int) * (size_t)(m->n_trees + 1));
    if (!covered || !self->node_leaf || !self->todo || !self->todo_start) {
        free(covered);
        PyErr_NoMemory();
        return -1;
    }
    for (long k = 0; k < B->n_blocks; k++)
        if (self->block_off[k] >= 0)
            for (long l = B->leaf_first[k]; l < B->leaf_stop[k]; l++)
                covered[l] = 1;
    for (long t = 0; t < m->n_trees; t++) {
        int end = t + 1 < m->n_trees ? m->roots[t + 1] : (int)m->n_nodes;
        int l = self->leaves.first[t]; /* pre-order: the listed leaves in order */
        self->todo_start[t] = n_todo;
        for (int n = m->roots[t]; n < end; n++) {
            self->node_leaf[n] = -1;
            if (m->feature[n] < 0 && l >= 0 && !covered[l++])
                self->todo[n_todo++] = self->node_leaf[n] = l - 1;
        }
    }
    self->todo_start[m->n_trees] = n_todo;
    free(covered);
    return 0;
}

/* Whether leaf l may have a table: d features, within LEAF_TABLE_FEATURES, none of zero z
 * (whose ratio (1 - z) / z does not exist). */
static int leaf_tabulable(const td_leaves *L, long l, int d)
{
    if (d < 1 || d > LEAF_TABLE_FEATURES || L->entry[l + 1] - L->entry[l] != d)
        return 0;
    for (int e = L->entry[l]; e < L->entry[l + 1]; e++)
        if (L->z[e] == 0.0)
            return 0;
    return 1;
}

/* The ratios (1 - z) / z of every entry, and the tables of td_leaf_mass of the leaves rows
 * compute (map_leaves) that may have one (leaf_tabulable), the fewest features first while
 * they hold at most `budget` values: a table's row `pattern` for the row's
 * agreement pattern. 0, or -1 with MemoryError set. */
static int build_leaf_tables(Explainer *self, long budget)
{
    const td_leaves *L = &self->leaves;
    const td_trees *m = &self->trees;
    const long n_entries = L->entry[self->leaves_count];
    long used = 0;
    self->leaf_ratio = malloc(sizeof(double) * (size_t)(n_entries + 1));
    if (self->leaf_ratio == NULL)
        goto nomem;
    for (long e = 0; e < n_entries; e++)
        self->leaf_ratio[e] = L->z[e] == 0.0 ? 0.0 : (1.0 - L->z[e]) / L->z[e];
    for (int d = 1; d <= LEAF_TABLE_FEATURES; d++)
        for (long n = 0; n < m->n_nodes; n++) {
            const long l = self->node_leaf[n];
            if (l >= 0 && leaf_tabulable(L, l, d) && used + (1L << d) <= budget) {
                self->leaf_tab_off[l] = used;
                used += 1L << d;
            }
        }
    self->table_values += used;
    self->leaf_tab = malloc(sizeof(double) * (size_t)(used + 1));
    if (self->leaf_tab == NULL)
        goto nomem;
    for (long l = 0; l < self->leaves_count; l++) {
        const long d = L->entry[l + 1] - L->entry[l];
        for (uint64_t p = 0; self->leaf_tab_off[l] >= 0 && p < ((uint64_t)1 << d); p++)
            self->leaf_tab[self->leaf_tab_off[l] + (long)p] = td_leaf_mass(L, l, p);
    }
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

/* The tree_blocks arrays of `blocks` (see Trees), checked: every index within its array. */
static int take_blocks(Explainer *self, PyObject *blocks, Py_ssize_t n_trees, int n_features)
{
    static const char *names[12] = {"block_first", "block_stop", "key_start", "inside_first",
                                    "inside_count", "feat_start", "feats", "leaf_first",
                                    "leaf_stop", "root", "key_mask", "key_want"};
    const void *ptr[12];
    Py_ssize_t len[12], n_leaves = self->leaves_count;
    blocks_t *B = &self->blocks;
    if (PyTuple_GET_SIZE(blocks) != 12) {
        PyErr_SetString(PyExc_ValueError, "Trees: expected 12 block arrays");
        return -1;
    }
    for (int k = 0; k < 12; k++)
        if (take(self, PyTuple_GET_ITEM(blocks, k), k < 10 ? "i" : "LQ", k < 10 ? 4 : 8,
                 &ptr[k], &len[k], names[k]) < 0)
            return -1;
    *B = (blocks_t){ptr[0], ptr[1], ptr[2], ptr[3], ptr[4],  ptr[5], ptr[6],
                    ptr[7], ptr[8], ptr[9], ptr[10], ptr[11], (long)len[7]};
    if (len[0] != n_trees || len[1] != n_trees || len[2] != B->n_blocks + 1 ||
        len[3] != B->n_blocks || len[4] != B->n_blocks || len[5] != B->n_blocks + 1 ||
        len[8] != B->n_blocks || len[9] != B->n_blocks || len[10] != len[11])
        goto bad;
    for (Py_ssize_t t = 0; t < n_trees; t++)
        if (B->block_first[t] < 0 || B->block_stop[t] < B->block_first[t] ||
            B->block_stop[t] > B->n_blocks ||
            (B->block_stop[t] > B->block_first[t] && self->leaves.first[t] < 0))
            goto bad;
    for (long k = 0; k < B->n_blocks; k++) {
        int na = B->key_start[k + 1] - B->key_start[k], u = B->feat_start[k + 1] - B->feat_start[k];
        int nk = na + B->inside_count[k];
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

/* Block k's key for a row going left at the splits `left` sets: whether it follows the path
 * at every split on the j-th feature split on above the block (bit j), then its decisions at
 * the block's own splits (numbered consecutively). */
static inline uint64_t block_key(const blocks_t *B, long k, uint64_t left)
{
    const int first = B->key_start[k], na = B->key_start[k + 1] - first, count = B->inside_count[k];
    uint64_t key = ((left >> B->inside_first[k]) & (((uint64_t)1 << count) - 1)) << na;
    for (int j = 0; j < na; j++)
        key |= (uint64_t)(((left ^ B->key_want[first + j]) & B->key_mask[first + j]) == 0) << j;
    return key;
}

/* Add block k's leaves' contributions for a row of that key to its table row (column col[f]
 * for feature f, -1: none): a pass over its nodes as large_contrib's, from its root's
 * agreement (the key's low bits for the features split on above it) and the decisions the
 * key's next bits give. agree: scratch of a word a node of the tree. */
static void block_row(const Explainer *self, long k, uint64_t key, const int *col,
                      uint64_t *agree, double *row)
{
    const blocks_t *B = &self->blocks;
    const td_leaves *L = &self->leaves;
    const td_trees *m = &self->trees;
    const int na = B->key_start[k + 1] - B->key_start[k], root = B->root[k];
    long l = B->leaf_first[k];
    int bit = na;
    double out[64];
    agree[0] = key | (~(uint64_t)0 << na); /* features first split on below: agreed so far */
    for (int n = root; n < root + 2 * B->inside_count[k] + 1; n++) {
        const uint64_t a = agree[n - root];
        if (m->feature[n] >= 0) {
            const int goes = (key >> bit++) & 1;
            const uint64_t off = a & ~((uint64_t)1 << self->slot[n]);
            agree[n + 1 - root] = goes ? a : off;
            agree[m->right[n] - root] = goes ? off : a;
        } else if (l < B->leaf_stop[k]) {
            const int e0 = L->entry[l], d = L->entry[l + 1] - e0;
            td_leaf_direct(L, l++, d < 64 ? a & (((uint64_t)1 << d) - 1) : a, out);
            for (int b = 0; b < d; b++)
                if (col[L->feature[e0 + b]] >= 0)
                    row[col[L->feature[e0 + b]]] += out[b];
        }
    }
}

/* Tabulate the blocks, the first first, within `budget` values: row `key` of a block's table
 * holds its leaves' contributions, summed, to its features for a row of that key
 * (block_key). 0, or -1 with MemoryError set. */
static int build_block_tables(Explainer *self, long budget)
{
    const blocks_t *B = &self->blocks;
    long used = 0;
    uint64_t *agree = malloc(sizeof(uint64_t) * (size_t)self->trees.max_nodes);
    int *col = malloc(sizeof(int) * (size_t)(self->n_features + 1));
    self->block_off = malloc(sizeof(long) * (size_t)(B->n_blocks + 1));
    if (self->block_off == NULL || agree == NULL || col == NULL)
        goto nomem;
    for (int f = 0; f < self->n_features; f++)
        col[f] = -1;
    for (long k = 0; k < B->n_blocks; k++) {
        long nk = B->key_start[k + 1] - B->key_start[k] + B->inside_count[k];
        long u = B->feat_start[k + 1] - B->feat_start[k];
        self->block_off[k] = -1;
        if ((u << nk) + used <= budget) {
            self->block_off[k] = used;
            used += u << nk;
        }
    }
    self->table_values += used;
    self->block_tab = calloc((size_t)(used + 1), sizeof(double));
    if (self->block_tab == NULL)
        goto nomem;
    for (long k = 0; k < B->n_blocks; k++) {
        const int nk = B->key_start[k + 1] - B->key_start[k] + B->inside_count[k];
        const int u = B->feat_start[k + 1] - B->feat_start[k], *feats = B->feats + B->feat_start[k];
        for (int j = 0; j < u; j++)
            col[feats[j]] = j;
        for (uint64_t key = 0; self->block_off[k] >= 0 && key < ((uint64_t)1 << nk); key++)
            block_row(self, k, key, col, agree,
                      self->block_tab + self->block_off[k] + (long)key * u);
        for (int j = 0; j < u; j++)
            col[feats[j]] = -1;
    }
    free(agree);
    free(col);
    return 0;
nomem:
    free(agree);
    free(col);
    PyErr_NoMemory();
    return -1;
}

/* Add listed leaf l's contributions to phi for a row agreeing with the path's features
 * `pattern` sets: from its table, else computed. */
static inline void add_leaf(const Explainer *self, long l, uint64_t pattern, double *phi)
{
    const td_leaves *L = &self->leaves;
    const int e0 = L->entry[l], d = L->entry[l + 1] - e0;
    double out[64];
    pattern &= d < 64 ? ((uint64_t)1 << d) - 1 : ~(uint64_t)0; /* bits of the path's features */
    if (self->leaf_tab_off[l] >= 0) {
        td_leaf_lookup(L->feature + e0, self->leaf_ratio + e0,
                       self->leaf_tab + self->leaf_tab_off[l], d, pattern, phi);
        return;
    }
    td_leaf_direct(L, l, pattern, out);
    for (int b = 0; b < d; b++)
        phi[L->feature[e0 + b]] += out[b];
}

#if defined(__GNUC__)
#define TD_PREFETCH(p) __builtin_prefetch(p)
#else
#define TD_PREFETCH(p) ((void)(p))
#endif

/* Bit b set iff row x goes left at the b-th split of tree t (of at most 64). */
static inline uint64_t left_bits(const Explainer *self, long t, const double *x)
{
    const int *split = self->splits + self->split_start[t];
    const int n = self->split_start[t + 1] - self->split_start[t];
    const int *feature = self->trees.feature;
    uint64_t bits = 0;
    for (int b = 0; b < n; b++)
        bits |= (uint64_t)rule_left(&self->rules, split[b], x[feature[split[b]]]) << b;
    return bits;
}

/* Add listed tree t's contributions for row x to phi, for a tree of at most 64 splits: from
 * the row's decisions at them, a lookup a tabulated block and its other leaves one by one. */
static inline void small_contrib(const Explainer *self, long t, const double *x, double *phi)
{
    const blocks_t *B = &self->blocks;
    const uint64_t left = left_bits(self, t, x);
    const long k0 = B->block_first[t], n_blocks = B->block_stop[t] - k0;
    const double *row[65]; /* a block has a leaf at least */
    for (long i = 0; i < n_blocks; i++) { /* fetch the rows early: large tables miss the caches */
        const long k = k0 + i, u = B->feat_start[k + 1] - B->feat_start[k];
        row[i] = NULL;
        if (self->block_off[k] >= 0) { /* else its leaves are in todo */
            row[i] = self->block_tab + self->block_off[k] + (long)block_key(B, k, left) * u;
            TD_PREFETCH(row[i]);
        }
    }
    for (int i = self->todo_start[t]; i < self->todo_start[t + 1]; i++) {
        const int l = self->todo[i];
        add_leaf(self, l, td_leaf_pattern(&self->leaves, l, left), phi);
    }
    for (long i = 0; i < n_blocks; i++) {
        const int *feats = B->feats + B->feat_start[k0 + i];
        const int u = B->feat_start[k0 + i + 1] - B->feat_start[k0 + i];
        for (int j = 0; row[i] && j < u; j++)
            phi[feats[j]] += row[i][j];
    }
}

/* Add listed tree t's contributions for row x to phi, for a tree of more than 64 splits: one
 * pass over its nodes in pre-order decides its splits (into dec, by number) and carries down
 * which features of the path the row agrees with (bit slot[n] for split n's: cleared on the
 * side the row does not take), for its leaves one by one; then a lookup a tabulated block,
 * keyed by the agreement at its root and its decisions. agree, dec: scratch of a word and a
 * byte a node. */
static inline void large_contrib(const Explainer *self, long t, const double *x, double *phi,
                                 uint64_t *agree, unsigned char *dec)
{
    const td_trees *m = &self->trees;
    const blocks_t *B = &self->blocks;
    const int root = m->roots[t], end = t + 1 < m->n_trees ? m->roots[t + 1] : (int)m->n_nodes;
    int b = 0;
    agree[0] = ~(uint64_t)0;
    for (int n = root; n < end; n++) {
        const uint64_t a = agree[n - root];
        if (m->feature[n] >= 0) {
            const int goes = dec[b++] = (unsigned char)rule_left(&self->rules, n, x[m->feature[n]]);
            const uint64_t off = a & ~((uint64_t)1 << self->slot[n]);
            agree[n + 1 - root] = goes ? a : off;
            agree[m->right[n] - root] = goes ? off : a;
        } else if (self->node_leaf[n] >= 0) {
            add_leaf(self, self->node_leaf[n], a, phi);
        }
    }
    for (long k = B->block_first[t]; k < B->block_stop[t]; k++) {
        const int na = B->key_start[k + 1] - B->key_start[k];
        const int u = B->feat_start[k + 1] - B->feat_start[k], *feats = B->feats + B->feat_start[k];
        const unsigned char *inside = dec + B->inside_first[k];
        uint64_t key = agree[B->root[k] - root] & (((uint64_t)1 << na) - 1);
        const double *row;
        if (self->block_off[k] < 0) /* its leaves were computed in the pass */
            continue;
        for (int i = 0; i < B->inside_count[k]; i++)
            key |= (uint64_t)inside[i] << (na + i);
        row = self->block_tab + self->block_off[k] + (long)key * u;
        for (int j = 0; j < u; j++)
            phi[feats[j]] += row[j];
    }
}

/* Add tree t's contributions for row x to phi: listed, or walked. */
static inline void tree_contrib(const Explainer *self, long t, const double *x, double *phi,
                                td_scratch *s, uint64_t *agree, unsigned char *dec)
{
    if (self->leaves.first[t] < 0)
        td_tree_contrib(&self->trees, t, x, phi, s);
    else if (self->split_start[t + 1] - self->split_start[t] <= 64)
        small_contrib(self, t, x, phi);
    else
        large_contrib(self, t, x, phi, agree, dec);
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
                  ((m->repeat[n] & TD_ABOVE) && (m->prev_edge[n] <= root || m->prev_edge[n] > n)))))
                goto bad;
    }
    return 0;
bad:
    PyErr_SetString(PyExc_ValueError, "Trees: a node or tree index is out of range");
    return -1;
}

/* Each listed tree has as many leaves as it lists, its splits' slots within a word and its
 * blocks' nodes and splits within it. 0, or -1 with ValueError set. */
static int check_listed(const Explainer *self)
{
    const td_trees *m = &self->trees;
    const td_leaves *L = &self->leaves;
    const blocks_t *B = &self->blocks;
    for (long t = 0; t < m->n_trees; t++) {
        int end = t + 1 < m->n_trees ? m->roots[t + 1] : (int)m->n_nodes, leaves = 0, splits = 0;
        if (L->first[t] < 0)
            continue;
        for (int n = m->roots[t]; n < end; n++) {
            leaves += m->feature[n] < 0;
            splits += m->feature[n] >= 0;
            if (m->feature[n] >= 0 && (self->slot[n] < 0 || self->slot[n] >= 64))
                goto bad;
        }
        /* a block has a leaf at least: at most 65 in a tree of 64 splits (small_contrib) */
        if (leaves != L->stop[t] - L->first[t] ||
            (splits <= 64 && B->block_stop[t] - B->block_first[t] > 65))
            goto bad;
        for (long k = B->block_first[t]; k < B->block_stop[t]; k++)
            if (B->root[k] < m->roots[t] || B->root[k] + 2L * B->inside_count[k] + 1 > end ||
                B->inside_first[k] + B->inside_count[k] > splits)
                goto bad;
    }
    return 0;
bad:
    PyErr_SetString(PyExc_ValueError, "Trees: leaf paths inconsistent with the trees");
    return -1;
}

/* The blocks' tables, which leaf each node computes and the leaves' tables, each at most
 * `tables` values. 0, or -1 with an exception set. */
static int build_tables(Explainer *self, long tables)
{
    self->leaf_tab_off = malloc(sizeof(long) * (size_t)(self->leaves_count + 1));
    if (self->leaf_tab_off == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t l = 0; l < self->leaves_count; l++)
        self->leaf_tab_off[l] = -1;
    if (map_splits(self) < 0 || build_block_tables(self, tables) < 0 || map_leaves(self) < 0 ||
        build_leaf_tables(self, tables) < 0)
        return -1;
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
static PyObject *Trees_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static const char *fmts[N_TREE_ARRAYS] = {"i", "i", "d", "d", "B", "i", "i", "i",
                                              "B", "i", "I", "d", "d", "i", "d"};
    static const Py_ssize_t sizes[N_TREE_ARRAYS] = {4, 4, 8, 8, 1, 4, 4, 4, 1, 4, 4, 8, 8, 4, 8};
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
    if (check_trees(m) < 0)
        goto fail;
    self->expected = calloc((size_t)n_outputs, sizeof(double));
    {
        double *work = malloc(sizeof(double) * (size_t)max_nodes);
        if (self->expected == NULL || work == NULL) {
            free(work);
            PyErr_NoMemory();
            goto fail;
        }
        td_expected(m, self->expected, work);
        free(work);
    }
    for (int k = 0; k < n_outputs; k++)
        self->expected[k] += base;
    if (check_listed(self) < 0 || build_tables(self, tables) < 0)
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
static PyObject *Linear_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
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
            PyErr_SetString(PyExc_ValueError, "Linear: a feature points outside the coefficients");
            goto fail;
        }
    }
    return (PyObject *)self;
fail:
    Py_DECREF(self);
    return NULL;
}

/* ------------------------------------------------------------------ scoring */

typedef struct {
    double *phi, *work, *sums;
    int *ints;
    uint64_t *agree;    /* per node of a tree: large_contrib's agreement bits */
    unsigned char *dec; /* per split of a tree: large_contrib's decisions */
    void *heap, *heap_agree, *heap_dec;
    double stack[STACK_DOUBLES];
    uint64_t agree_stack[STACK_NODES];
    unsigned char dec_stack[STACK_NODES];
} scratch_t;

static void scratch_free(scratch_t *s)
{
    free(s->heap);
    free(s->heap_agree);
    free(s->heap_dec);
}

/* Scratch of one row's contributions (every output) and reasons; 0 or -1 (MemoryError set). */
static int scratch_init(const Explainer *self, scratch_t *s)
{
    long n_phi = (long)self->n_outputs * (self->n_features + 1);
    long n_work = self->kind == 0 ? td_work_doubles(&self->trees) : 0;
    long n_ints = self->kind == 0 ? td_work_ints(&self->trees) : 0;
    long total = n_phi + n_work + self->n_groups + (n_ints + 1) / 2 + 1;
    double *base = s->stack;
    s->heap = s->heap_agree = s->heap_dec = NULL;
    s->agree = s->agree_stack;
    s->dec = s->dec_stack;
    if (total > STACK_DOUBLES)
        base = s->heap = malloc(sizeof(double) * (size_t)total);
    if (self->kind == 0 && self->trees.max_nodes > STACK_NODES) {
        s->agree = s->heap_agree = malloc(sizeof(uint64_t) * (size_t)self->trees.max_nodes);
        s->dec = s->heap_dec = malloc((size_t)self->trees.max_nodes);
    }
    if (base == NULL || s->agree == NULL || s->dec == NULL) {
        scratch_free(s);
        PyErr_NoMemory();
        return -1;
    }
    s->phi = base;
    s->work = s->phi + n_phi;
    s->sums = s->work + n_work;
    s->ints = (int *)(s->sums + self->n_groups);
    return 0;
}

/* Contributions of one row (one output, or every output when only < 0) into phi: output k's
 * n_features contributions then its expected value at phi + k * (n_features + 1). s: the
 * scratch of scratch_init. */
static void row_contrib(const Explainer *self, const double *x, int only, double *phi,
                        const scratch_t *s)
{
    const long stride = self->n_features + 1;
    for (int k = 0; k < self->n_outputs; k++) {
        if (only >= 0 && k != only)
            continue;
        if (self->kind == 1) {
            td_linear_terms(&self->linear, x, k, phi + k * stride);
        } else {
            memset(phi + k * stride, 0, sizeof(double) * (size_t)self->n_features);
            phi[k * stride + self->n_features] = self->expected[k];
        }
    }
    if (self->kind == 0) {
        td_scratch walk = td_scratch_at(&self->trees, s->work, s->ints);
        for (long t = 0; t < self->trees.n_trees; t++) {
            int out = self->trees.tree_output[t];
            if (only < 0 || out == only)
                tree_contrib(self, t, x, phi + out * stride, &walk, s->agree, s->dec);
        }
    }
}

static int row_view(PyObject *obj, Py_buffer *view, int ndim, Py_ssize_t n_features)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    if (view->ndim != ndim || view->itemsize != 8 || strcmp(view->format, "d") != 0 ||
        view->shape[ndim - 1] != n_features) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_ValueError, "expected C-contiguous float64 rows of %zd encoded features",
                     n_features);
        return -1;
    }
    return 0;
}

static int out_view(PyObject *obj, Py_buffer *view, Py_ssize_t nbytes)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0)
        return -1;
    if (view->len != nbytes) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_ValueError, "an output array has the wrong size");
        return -1;
    }
    return 0;
}

/* contrib(X, out): out (n, n_outputs, n_features + 1) float64 */
static PyObject *Explainer_contrib(Explainer *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer xv, ov;
    scratch_t *s;
    Py_ssize_t n, stride = (Py_ssize_t)self->n_outputs * (self->n_features + 1);
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "contrib(X, out)");
        return NULL;
    }
    if (row_view(args[0], &xv, 2, self->n_features) < 0)
        return NULL;
    n = xv.shape[0];
    if (out_view(args[1], &ov, n * stride * 8) < 0) {
        PyBuffer_Release(&xv);
        return NULL;
    }
    s = malloc(sizeof(scratch_t));
    if (s == NULL || scratch_init(self, s) < 0) {
        free(s);
        PyBuffer_Release(&xv);
        PyBuffer_Release(&ov);
        return s == NULL ? PyErr_NoMemory() : NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++)
        row_contrib(self, (const double *)xv.buf + i * self->n_features, -1,
                    (double *)ov.buf + i * stride, s);
    Py_END_ALLOW_THREADS
    scratch_free(s);
    free(s);
    PyBuffer_Release(&xv);
    PyBuffer_Release(&ov);
    Py_RETURN_NONE;
}

static int parse_k(PyObject *obj, int *k)
{
    long v = PyLong_AsLong(obj);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < 0) {
        PyErr_SetString(PyExc_ValueError, "reasons: k must be >= 0");
        return -1;
    }
    *k = v > INT32_MAX ? INT32_MAX : (int)v;
    return 0;
}

/* reasons(row, k, output): [(name, contribution), ...], the k largest by input column */
static PyObject *Explainer_reasons(Explainer *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer xv;
    scratch_t s;
    int k, output, got, idx[64];
    double val[64];
    int *pidx = idx;
    double *pval = val;
    PyObject *result = NULL;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "reasons(row, k, output)");
        return NULL;
    }
    if (parse_k(args[1], &k) < 0)
        return NULL;
    output = (int)PyLong_AsLong(args[2]);
    if (output == -1 && PyErr_Occurred())
        return NULL;
    if (output < 0 || output >= self->n_outputs) {
        PyErr_SetString(PyExc_ValueError, "reasons: output out of range");
        return NULL;
    }
    if (k > self->n_groups)
        k = self->n_groups;
    if (row_view(args[0], &xv, 1, self->n_features) < 0)
        return NULL;
    if (scratch_init(self, &s) < 0) {
        PyBuffer_Release(&xv);
        return NULL;
    }
    if (k > 64) {
        pidx = malloc(sizeof(int) * (size_t)k);
        pval = malloc(sizeof(double) * (size_t)k);
        if (pidx == NULL || pval == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }
    row_contrib(self, (const double *)xv.buf, output, s.phi, &s);
    got = td_top_reasons(s.phi + (long)output * (self->n_features + 1), self->n_features,
                         self->group, self->n_groups, k, s.sums, pidx, pval);
    result = PyList_New(got);
    for (int r = 0; result != NULL && r < got; r++) {
        PyObject *pair = Py_BuildValue("(Od)", PyTuple_GET_ITEM(self->names, pidx[r]), pval[r]);
        if (pair == NULL)
            Py_CLEAR(result);
        else
            PyList_SET_ITEM(result, r, pair);
    }
done:
    if (pidx != idx) {
        free(pidx);
        free(pval);
    }
    scratch_free(&s);
    PyBuffer_Release(&xv);
    return result;
}

/* reasons_batch(X, k, outputs, idx, val): outputs int32 (n,) (the output each row explains),
 * idx int32 (n, k), val float64 (n, k); returns how many reasons a row got (min(k, groups)). */
static PyObject *Explainer_reasons_batch(Explainer *self, PyObject *const *args,
                                         Py_ssize_t nargs)
{
    Py_buffer xv, outv, iv, vv;
    scratch_t *s;
    int k, got = 0;
    Py_ssize_t n;
    const int32_t *outputs;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "reasons_batch(X, k, outputs, idx, val)");
        return NULL;
    }
    if (parse_k(args[1], &k) < 0)
        return NULL;
    if (row_view(args[0], &xv, 2, self->n_features) < 0)
        return NULL;
    n = xv.shape[0];
    if (k > self->n_groups)
        k = self->n_groups;
    if (out_view(args[2], &outv, n * 4) < 0) {
        PyBuffer_Release(&xv);
        return NULL;
    }
    if (out_view(args[3], &iv, n * k * 4) < 0) {
        PyBuffer_Release(&xv);
        PyBuffer_Release(&outv);
        return NULL;
    }
    if (out_view(args[4], &vv, n * k * 8) < 0) {
        PyBuffer_Release(&xv);
        PyBuffer_Release(&outv);
        PyBuffer_Release(&iv);
        return NULL;
    }
    outputs = (const int32_t *)outv.buf;
    for (Py_ssize_t i = 0; i < n; i++)
        if (outputs[i] < 0 || outputs[i] >= self->n_outputs) {
            PyErr_SetString(PyExc_ValueError, "reasons_batch: an output is out of range");
            goto release;
        }
    s = malloc(sizeof(scratch_t));
    if (s == NULL || scratch_init(self, s) < 0) {
        if (s == NULL)
            PyErr_NoMemory();
        free(s);
        goto release;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        row_contrib(self, (const double *)xv.buf + i * self->n_features, outputs[i], s->phi, s);
        got = td_top_reasons(s->phi + (long)outputs[i] * (self->n_features + 1),
                             self->n_features, self->group, self->n_groups, k, s->sums,
                             (int *)iv.buf + i * k, (double *)vv.buf + i * k);
    }
    Py_END_ALLOW_THREADS
    scratch_free(s);
    free(s);
release:
    PyBuffer_Release(&xv);
    PyBuffer_Release(&outv);
    PyBuffer_Release(&iv);
    PyBuffer_Release(&vv);
    if (PyErr_Occurred())
        return NULL;
    return PyLong_FromLong(got);
}

static PyObject *Explainer_expected(Explainer *self, PyObject *unused)
{
    PyObject *out = PyTuple_New(self->n_outputs);
    (void)unused;
    for (int k = 0; out != NULL && k < self->n_outputs; k++) {
        double e = self->kind == 0 ? self->expected[k]
                                   : self->linear.coef[(long)k * (self->linear.n_design + 1) +
                                                       self->linear.n_design];
        PyTuple_SET_ITEM(out, k, PyFloat_FromDouble(e));
    }
    return out;
}

static PyObject *Explainer_points(Explainer *self, PyObject *unused)
{
    (void)unused;
    return PyLong_FromLong(self->kind == 0 ? self->trees.n_points : 0);
}

static PyObject *Explainer_tabulated(Explainer *self, PyObject *unused)
{
    long n = 0;
    (void)unused;
    for (long k = 0; self->kind == 0 && k < self->blocks.n_blocks; k++)
        n += self->block_off[k] >= 0;
    return PyLong_FromLong(n);
}

static PyObject *Explainer_leaf_tables(Explainer *self, PyObject *unused)
{
    long n = 0;
    (void)unused;
    for (long l = 0; self->kind == 0 && l < self->leaves_count; l++)
        n += self->leaf_tab_off[l] >= 0;
    return PyLong_FromLong(n);
}

static PyObject *Explainer_table_bytes(Explainer *self, PyObject *unused)
{
    (void)unused;
    return PyLong_FromLong(self->kind == 0 ? 8 * self->table_values : 0);
}

static PyMethodDef Explainer_methods[] = {
    {"contrib", (PyCFunction)(void (*)(void))Explainer_contrib, METH_FASTCALL,
     "contrib(X, out): contributions and expected value of every output, (n, K, F + 1)."},
    {"reasons", (PyCFunction)(void (*)(void))Explainer_reasons, METH_FASTCALL,
     "reasons(row, k, output): the k largest contributions by input column, as (name, value)."},
    {"reasons_batch", (PyCFunction)(void (*)(void))Explainer_reasons_batch, METH_FASTCALL,
     "reasons_batch(X, k, outputs, idx, val): the k largest contributions of each row."},
    {"expected", (PyCFunction)Explainer_expected, METH_NOARGS,
     "The expected value (baseline) of each output."},
    {"n_points", (PyCFunction)Explainer_points, METH_NOARGS, "Quadrature points (trees)."},
    {"n_tabulated", (PyCFunction)Explainer_tabulated, METH_NOARGS,
     "Blocks of trees looked up in tables."},
    {"n_leaf_tables", (PyCFunction)Explainer_leaf_tables, METH_NOARGS,
     "Leaves looked up in tables."},
    {"table_bytes", (PyCFunction)Explainer_table_bytes, METH_NOARGS, "Bytes of the tables."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject TreesType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tabdistill_runtime._explain.Trees",
    .tp_basicsize = sizeof(Explainer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Contributions of a tree runtime (see tabdistill_runtime/explain.py).",
    .tp_new = Trees_new,
    .tp_dealloc = (destructor)Explainer_dealloc,
    .tp_methods = Explainer_methods,
};

static PyTypeObject LinearType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tabdistill_runtime._explain.Linear",
    .tp_basicsize = sizeof(Explainer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Contributions of a linear runtime (see tabdistill_runtime/explain.py).",
    .tp_new = Linear_new,
    .tp_dealloc = (destructor)Explainer_dealloc,
    .tp_methods = Explainer_methods,
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_explain",
    .m_doc = "Per-row feature contributions (TreeSHAP, linear terms) and reason codes.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__explain(void)
{
    PyObject *m;
    if (PyType_Ready(&TreesType) < 0 || PyType_Ready(&LinearType) < 0)
        return NULL;
    m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
    Py_INCREF(&TreesType);
    if (PyModule_AddObject(m, "Trees", (PyObject *)&TreesType) < 0) {
        Py_DECREF(&TreesType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&LinearType);
    if (PyModule_AddObject(m, "Linear", (PyObject *)&LinearType) < 0) {
        Py_DECREF(&LinearType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
