/* Tree-ensemble scoring kernels, compiled ahead of time when the package is installed.
 *
 * The Python side (tabdistill_runtime/layout.py) packs the canonical node table into
 * node_t records: a split's threshold (or a category mask), feature, kind and both
 * children; a leaf is a node whose children are itself, so walking a tree for a
 * fixed number of steps (its depth) lands every row on its leaf without a branch on
 * "is this a leaf". Rows (batch) or trees (one row) are walked in lockstep so that
 * their independent chains of loads overlap in the CPU.
 *
 * Decision rules are those of tabdistill_runtime/rules.py; nodes whose rule has no
 * fast form (big category sets, zero-as-missing, float32 comparison) take slow_left(),
 * which implements the rules in full from the canonical arrays.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifndef _WIN32
#include <pthread.h>
#define TD_THREADS 1
#endif

/* rules.py */
#define DEFAULT_LEFT 1
#define MISSING_NONE 0
#define MISSING_ZERO 1
#define MISSING_NAN 2
#define CATEGORICAL 8
#define FLOAT32 16
#define OUT_SIGMOID 0
#define OUT_CLIP 1
#define OUT_SOFTMAX 2
/* layout.py node kinds */
#define KIND_NAN_LEFT 0
#define KIND_NAN_RIGHT 1
#define KIND_CAT64 2
#define KIND_SLOW 3

#define TREE_GROUP 8

static PyTypeObject ForestType, LinearType, BlendType;

typedef struct {
    union {
        double t;      /* threshold, or the leaf value */
        uint64_t mask; /* KIND_CAT64: categories 0..63 that go left */
    } u;
    int32_t f;
    int32_t kind;
    int32_t c[2]; /* left, right; a leaf points to itself twice */
} node_t;

#define N_ARRAYS 16
#define N_OPTIONAL 3 /* acc32, widths, vectors */

typedef struct {
    PyObject_HEAD
    Py_buffer bufs[N_ARRAYS + N_OPTIONAL];
    int n_bufs;
    const node_t *nodes;
    const int32_t *roots, *depth, *tree_output;
    /* the same trees as bit-vector tables (QuickScorer): per tree, its splits' feature,
     * kind, threshold/mask and the left-subtree leaves each split removes when a row goes
     * right; the leaf a row reaches is the lowest leaf left standing. */
    const int32_t *qs_start, *qs_node, *qs_f, *qs_kind, *leaf_start;
    const double *qs_u, *leaf_val;
    const uint64_t *qs_mask;
    const uint8_t *flags;
    const double *value;
    const int32_t *cat_bounds;
    const uint32_t *cat_bits;
    Py_ssize_t n_trees, n_features, n_outputs, n_nodes, n_leaves;
    double base, eps, zero;
    int transform;
    /* Optional (a teacher blend, XGBoost): per output, whether its sum is rounded to float32
     * after every tree, as XGBoost accumulates; per tree, how many consecutive outputs its
     * leaves add to (a leaf of a tree of width > 1 holds the offset of its values in
     * vectors). plain: neither, the sums of every student. */
    const uint8_t *acc32;
    const int32_t *width;
    const double *vectors;
    Py_ssize_t n_vectors;
    int plain;
} Forest;

static int slow_left(const Forest *m, int32_t n, double v)
{
    uint8_t fl = m->flags[n];
    if (fl & CATEGORICAL) {
        if (!(v > -1.0 && v < 2147483648.0)) /* NaN, negative, huge: right */
            return 0;
        int64_t iv = (int64_t)v, k = (int64_t)m->value[n];
        int32_t start = m->cat_bounds[k], n_words = m->cat_bounds[k + 1] - start;
        if ((iv >> 5) >= n_words)
            return 0;
        return (int)((m->cat_bits[start + (iv >> 5)] >> (iv & 31)) & 1u);
    }
    if (fl & FLOAT32)
        v = (double)(float)v;
    int miss = (fl >> 1) & 3;
    if (isnan(v) && miss != MISSING_NAN)
        v = 0.0;
    if ((miss == MISSING_ZERO && v >= -m->zero && v <= m->zero) || (miss == MISSING_NAN && isnan(v)))
        return fl & DEFAULT_LEFT;
    return v <= m->value[n];
}

static inline int go_right(const Forest *m, const node_t *nd, int32_t n, double v)
{
    int kind = nd->kind;
    if (kind <= KIND_NAN_RIGHT)
        return (v > nd->u.t) | ((v != v) & kind);
    if (kind == KIND_CAT64) {
        int in = (v > -1.0) & (v < 64.0);
        int iv = (int)(in ? v : 0.0);
        return !(in & (int)((nd->u.mask >> iv) & 1u));
    }
    return !slow_left(m, n, v);
}

static inline double finish(const Forest *m, double raw)
{
    raw += m->base;
    if (m->transform == OUT_SIGMOID)
        return 1.0 / (1.0 + exp(-raw));
    return raw < m->eps ? m->eps : (raw > 1.0 - m->eps ? 1.0 - m->eps : raw);
}

/* K raw scores to K probabilities: softmax, or (OUT_CLIP) clipped to [eps, 1] and rescaled */
static void finish_classes(const Forest *m, const double *raw, double *out)
{
    const Py_ssize_t K = m->n_outputs;
    double sum = 0.0;
    if (m->transform == OUT_SOFTMAX) {
        double top = raw[0];
        for (Py_ssize_t k = 1; k < K; k++)
            top = raw[k] > top ? raw[k] : top;
        for (Py_ssize_t k = 0; k < K; k++) {
            out[k] = exp(raw[k] - top); /* base is common to every class: it cancels */
            sum += out[k];
        }
    } else {
        for (Py_ssize_t k = 0; k < K; k++) {
            double v = raw[k] + m->base;
            out[k] = v < m->eps ? m->eps : (v > 1.0 ? 1.0 : v);
            sum += out[k];
        }
    }
    for (Py_ssize_t k = 0; k < K; k++)
        out[k] /= sum;
}

/* acc[o] += v, rounded to float32 where the output's sum is (XGBoost adds each tree's leaf to
 * a float32 sum; the sum of two float32 values rounded once to double, then to float32, is
 * their float32 sum). */
static inline void add_one(const Forest *m, double *acc, Py_ssize_t o, double v)
{
    double s = acc[o] + v;
    acc[o] = (m->acc32 != NULL && m->acc32[o]) ? (double)(float)s : s;
}

/* Add the leaf value v that tree t reached to the row's sums acc (not plain models). */
static inline void add_leaf(const Forest *m, Py_ssize_t t, double v, double *acc)
{
    const Py_ssize_t o = m->tree_output[t];
    if (m->width != NULL && m->width[t] > 1) {
        const double *vec = m->vectors + (Py_ssize_t)v;
        for (int32_t k = 0; k < m->width[t]; k++)
            add_one(m, acc, o + k, vec[k]);
        return;
    }
    add_one(m, acc, o, v);
}

/* Raw scores of one row, trees walked TREE_GROUP at a time. acc has n_outputs slots. */
static void score_row(const Forest *m, const double *x, double *acc)
{
    const node_t *nodes = m->nodes;
    for (Py_ssize_t k = 0; k < m->n_outputs; k++)
        acc[k] = 0.0;
    for (Py_ssize_t t0 = 0; t0 < m->n_trees; t0 += TREE_GROUP) {
        int g = (int)(m->n_trees - t0 < TREE_GROUP ? m->n_trees - t0 : TREE_GROUP);
        int32_t at[TREE_GROUP];
        int steps = 0;
        for (int j = 0; j < g; j++) {
            at[j] = m->roots[t0 + j];
            if (m->depth[t0 + j] > steps)
                steps = m->depth[t0 + j];
        }
        for (int s = 0; s < steps; s++) {
            for (int j = 0; j < g; j++) {
                const node_t *nd = nodes + at[j];
                at[j] = nd->c[go_right(m, nd, at[j], x[nd->f])];
            }
        }
        if (m->plain) {
            for (int j = 0; j < g; j++)
                acc[m->tree_output[t0 + j]] += nodes[at[j]].u.t;
        } else {
            for (int j = 0; j < g; j++)
                add_leaf(m, t0 + j, nodes[at[j]].u.t, acc);
        }
    }
}


#define QS_BLOCK 64
/* gcc on x86-64 Linux compiles the block kernel twice, for AVX2 and for any x86-64 CPU,
 * and picks one when the module loads */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define TD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TD_CLONES
#endif
#if defined(__GNUC__)
#define TD_INLINE static inline __attribute__((always_inline))
#define lowest_bit(x) __builtin_ctzll(x)
#else
#define TD_INLINE static __forceinline
static int lowest_bit(uint64_t x)
{
    int k = 0;
    while (!(x & 1u)) {
        x >>= 1;
        k++;
    }
    return k;
}
#endif

/* Go-right bits of QS_BLOCK rows at split j, cleared from the rows' leaf sets.
 * xv: the split feature's values of the block's rows (column-major block). */
TD_INLINE void qs_split(const Forest *m, int32_t j, const double *xv, uint64_t *ls)
{
    const uint64_t lm = m->qs_mask[j];
    const int kind = m->qs_kind[j];
    if (kind <= KIND_NAN_RIGHT) {
        const double th = m->qs_u[j];
        const uint64_t nr = (uint64_t)kind;
        for (int r = 0; r < QS_BLOCK; r++) {
            double v = xv[r];
            uint64_t g = (uint64_t)(v > th) | ((uint64_t)(v != v) & nr);
            ls[r] &= ~(-g & lm);
        }
    } else if (kind == KIND_CAT64) {
        uint64_t mk;
        memcpy(&mk, &m->qs_u[j], 8);
        for (int r = 0; r < QS_BLOCK; r++) {
            double v = xv[r];
            int in = (v > -1.0) & (v < 64.0);
            int iv = (int)(in ? v : 0.0);
            uint64_t g = (uint64_t) !(in & (int)((mk >> iv) & 1u));
            ls[r] &= ~(-g & lm);
        }
    } else {
        for (int r = 0; r < QS_BLOCK; r++) {
            uint64_t g = (uint64_t) !slow_left(m, m->qs_node[j], xv[r]);
            ls[r] &= ~(-g & lm);
        }
    }
}

/* QS_BLOCK rows starting at xs (row-major), raw scores added to acc (n_outputs a row); xc is
 * scratch of n_features * QS_BLOCK doubles. Trees with more than 64 leaves are walked, the
 * block's rows in lockstep (their chains of loads overlap). */
TD_CLONES static void qs_block(const Forest *m, const double *xs, double *xc, double *acc)
{
    const Py_ssize_t nf = m->n_features, K = m->n_outputs;
    for (int r = 0; r < QS_BLOCK; r++)
        for (Py_ssize_t f = 0; f < nf; f++)
            xc[f * QS_BLOCK + r] = xs[r * nf + f];
    for (Py_ssize_t t = 0; t < m->n_trees; t++) {
        const double *leaves = m->leaf_val + m->leaf_start[t];
        double *out = acc + m->tree_output[t];
        if (m->leaf_start[t + 1] - m->leaf_start[t] > 64) {
            int32_t at[QS_BLOCK];
            for (int r = 0; r < QS_BLOCK; r++)
                at[r] = m->roots[t];
            for (int s = m->depth[t]; s > 0; s--) {
                for (int r = 0; r < QS_BLOCK; r++) {
                    const node_t *nd = m->nodes + at[r];
                    at[r] = nd->c[go_right(m, nd, at[r], xc[(Py_ssize_t)nd->f * QS_BLOCK + r])];
                }
            }
            for (int r = 0; r < QS_BLOCK; r++) {
                if (m->plain)
                    out[r * K] += m->nodes[at[r]].u.t;
                else
                    add_leaf(m, t, m->nodes[at[r]].u.t, acc + r * K);
            }
            continue;
        }
        uint64_t ls[QS_BLOCK];
        for (int r = 0; r < QS_BLOCK; r++)
            ls[r] = ~(uint64_t)0;
        for (int32_t j = m->qs_start[t]; j < m->qs_start[t + 1]; j++)
            qs_split(m, j, xc + (Py_ssize_t)m->qs_f[j] * QS_BLOCK, ls);
        if (m->plain) {
            for (int r = 0; r < QS_BLOCK; r++)
                out[r * K] += leaves[lowest_bit(ls[r])];
        } else {
            for (int r = 0; r < QS_BLOCK; r++)
                add_leaf(m, t, leaves[lowest_bit(ls[r])], acc + r * K);
        }
    }
}

/* How the rows' tree sums become their outputs: finish(ctx, x, acc, out, scratch) turns the
 * n_outputs sums acc of row x into the width values out of the row, with scratch doubles of
 * work space. A model's own finisher is forest_finish; a teacher blend's is blend_finish. */
typedef void (*finish_fn)(const void *ctx, const double *x, double *acc, double *out,
                          double *scratch);

typedef struct {
    const Forest *m;
    finish_fn finish;
    const void *ctx;
    Py_ssize_t width, scratch;
} rows_t;

static void forest_finish(const void *ctx, const double *x, double *acc, double *out,
                          double *scratch)
{
    const Forest *m = (const Forest *)ctx;
    (void)x;
    (void)scratch;
    if (m->n_outputs == 1)
        out[0] = finish(m, acc[0]);
    else
        finish_classes(m, acc, out);
}

/* Rows [begin, end) of X into out (s->width values a row): QS_BLOCK rows at a time, the rest
 * one by one. */
static void score_rows(const rows_t *s, const double *X, double *out, Py_ssize_t begin,
                       Py_ssize_t end)
{
    const Forest *m = s->m;
    const Py_ssize_t nf = m->n_features, K = m->n_outputs, W = s->width;
    double *scratch = s->scratch ? (double *)malloc(sizeof(double) * s->scratch) : NULL;
    const Py_ssize_t last = end;
    Py_ssize_t i = begin;
    if (s->scratch && scratch == NULL)
        end = begin; /* out of memory: rows not scored are NaN */
    if (end - begin >= QS_BLOCK) {
        double *xc = (double *)malloc(sizeof(double) * (nf > 0 ? nf : 1) * QS_BLOCK);
        double *acc = (double *)malloc(sizeof(double) * K * QS_BLOCK);
        if (xc != NULL && acc != NULL) {
            for (; i + QS_BLOCK <= end; i += QS_BLOCK) {
                memset(acc, 0, sizeof(double) * K * QS_BLOCK);
                qs_block(m, X + i * nf, xc, acc);
                for (int r = 0; r < QS_BLOCK; r++)
                    s->finish(s->ctx, X + (i + r) * nf, acc + r * K, out + (i + r) * W, scratch);
            }
        }
        free(xc);
        free(acc);
    }
    double acc[64];
    double *heap = K > 64 ? (double *)malloc(sizeof(double) * K) : NULL;
    double *a = heap ? heap : acc;
    if (K > 64 && heap == NULL)
        end = i;
    for (; i < end; i++) {
        score_row(m, X + i * nf, a);
        s->finish(s->ctx, X + i * nf, a, out + i * W, scratch);
    }
    for (; i < last; i++)
        for (Py_ssize_t w = 0; w < W; w++)
            out[i * W + w] = NAN;
    free(heap);
    free(scratch);
}

#ifdef TD_THREADS
typedef struct {
    const rows_t *s;
    const double *X;
    double *out;
    Py_ssize_t begin, end;
} job_t;

static void *run_job(void *arg)
{
    job_t *j = (job_t *)arg;
    score_rows(j->s, j->X, j->out, j->begin, j->end);
    return NULL;
}
#endif

static void score_parallel(const rows_t *s, const double *X, double *out, Py_ssize_t n,
                           int n_threads)
{
#ifdef TD_THREADS
    if (n_threads > 1) {
        enum { MAX_THREADS = 64 };
        pthread_t th[MAX_THREADS];
        job_t jobs[MAX_THREADS];
        int started[MAX_THREADS];
        if (n_threads > MAX_THREADS)
            n_threads = MAX_THREADS;
        Py_ssize_t chunk = (n + n_threads - 1) / n_threads;
        chunk = (chunk + QS_BLOCK - 1) / QS_BLOCK * QS_BLOCK;
        for (int k = 0; k < n_threads; k++) {
            Py_ssize_t b = k * chunk, e = b + chunk < n ? b + chunk : n;
            jobs[k] = (job_t){s, X, out, b < n ? b : n, e > b ? e : b};
            started[k] = k > 0 && pthread_create(&th[k], NULL, run_job, &jobs[k]) == 0;
        }
        run_job(&jobs[0]);
        for (int k = 1; k < n_threads; k++) {
            if (started[k])
                pthread_join(th[k], NULL);
            else
                run_job(&jobs[k]); /* could not start a thread: do its share here */
        }
        return;
    }
#endif
    (void)n_threads;
    score_rows(s, X, out, 0, n);
}

/* ------------------------------------------------------------------ Python glue */

static int get_buffer(Forest *self, PyObject *obj, const char *fmt, Py_ssize_t itemsize,
                      const void **ptr, Py_ssize_t *count, const char *name)
{
    Py_buffer *view = &self->bufs[self->n_bufs];
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    const char *f = view->format;
    if (f[0] == '<' || f[0] == '=' || f[0] == '@')
        f++;
    if (view->itemsize != itemsize || f[0] == '\0' || strchr(fmt, f[0]) == NULL || f[1] != '\0') {
        PyErr_Format(PyExc_TypeError, "%s: expected items of type '%s', got '%s'", name, fmt,
                     view->format);
        PyBuffer_Release(view);
        return -1;
    }
    self->n_bufs++;
    *ptr = view->buf;
    *count = view->len / itemsize;
    return 0;
}

static void Forest_dealloc(Forest *self)
{
    for (int k = 0; k < self->n_bufs; k++)
        PyBuffer_Release(&self->bufs[k]);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The optional arrays of Forest(): acc32 (uint8, one an output), widths (int32, one a tree:
 * the outputs its leaves add to, tree_output[t] .. + width - 1) and vectors (float64: the
 * values of the leaves of trees of width > 1, whose leaf value is their offset here). */
static int forest_options(Forest *self, PyObject *acc32, PyObject *widths, PyObject *vectors)
{
    const void *ptr;
    Py_ssize_t len;
    self->plain = 1;
    if (acc32 != Py_None) {
        if (get_buffer(self, acc32, "B", 1, &ptr, &len, "acc32") < 0)
            return -1;
        if (len != self->n_outputs) {
            PyErr_SetString(PyExc_ValueError, "Forest: acc32 needs one entry an output");
            return -1;
        }
        self->acc32 = (const uint8_t *)ptr;
        self->plain = 0;
    }
    if ((widths == Py_None) != (vectors == Py_None)) {
        PyErr_SetString(PyExc_ValueError, "Forest: widths and vectors go together");
        return -1;
    }
    if (widths == Py_None)
        return 0;
    if (get_buffer(self, widths, "i", 4, &ptr, &len, "widths") < 0)
        return -1;
    self->width = (const int32_t *)ptr;
    if (len != self->n_trees) {
        PyErr_SetString(PyExc_ValueError, "Forest: widths needs one entry a tree");
        return -1;
    }
    if (get_buffer(self, vectors, "d", 8, &ptr, &self->n_vectors, "vectors") < 0)
        return -1;
    self->vectors = (const double *)ptr;
    self->plain = 0;
    for (Py_ssize_t t = 0; t < self->n_trees; t++) {
        const int32_t w = self->width[t];
        if (w < 1 || self->tree_output[t] < 0 || self->tree_output[t] > self->n_outputs - w) {
            PyErr_SetString(PyExc_ValueError, "Forest: a tree adds to outputs out of range");
            return -1;
        }
        if (w == 1)
            continue;
        /* every leaf of the tree: in the block kernel's leaf values, and in the nodes */
        const int32_t lo = self->leaf_start[t], hi = self->leaf_start[t + 1];
        if (lo < 0 || hi < lo || hi > self->n_leaves) {
            PyErr_SetString(PyExc_ValueError, "Forest: inconsistent leaf ranges");
            return -1;
        }
        for (int32_t j = lo; j < hi; j++) {
            double off = self->leaf_val[j];
            if (!(off >= 0.0 && off <= (double)(self->n_vectors - w)) || off != floor(off)) {
                PyErr_SetString(PyExc_ValueError, "Forest: a leaf vector is out of range");
                return -1;
            }
        }
        /* the tree's nodes: a pre-order range from its root, which ends where the leaves
         * outnumber the splits */
        Py_ssize_t open = 1;
        for (Py_ssize_t i = self->roots[t]; open > 0; i++) {
            if (i < 0 || i >= self->n_nodes) {
                PyErr_SetString(PyExc_ValueError, "Forest: a tree runs out of its table");
                return -1;
            }
            const node_t *nd = self->nodes + i;
            if (nd->c[0] != i || nd->c[1] != i) {
                open++;
                continue;
            }
            open--;
            double off = nd->u.t;
            if (!(off >= 0.0 && off <= (double)(self->n_vectors - w)) || off != floor(off)) {
                PyErr_SetString(PyExc_ValueError, "Forest: a leaf vector is out of range");
                return -1;
            }
        }
    }
    return 0;
}

static int Forest_init(Forest *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"arrays", "n_features", "n_outputs", "base", "transform", "eps",
                             "zero", "acc32", "widths", "vectors", NULL};
    /* arrays, in this order (layout.py): */
    static const char *names[N_ARRAYS] = {"nodes", "roots", "depth", "tree_output", "flags",
                                          "value", "cat_bounds", "cat_bits", "qs_start",
                                          "qs_node", "qs_f", "qs_kind", "qs_u", "qs_mask",
                                          "leaf_start", "leaf_val"};
    static const char *fmts[N_ARRAYS] = {"B", "i", "i", "i", "B", "d", "i", "I",
                                         "i", "i", "i", "i", "d", "LQ", "i", "d"};
    static const Py_ssize_t sizes[N_ARRAYS] = {1, 4, 4, 4, 1, 8, 4, 4, 4, 4, 4, 4, 8, 8, 4, 8};
    PyObject *arrays, *acc32 = Py_None, *widths = Py_None, *vectors = Py_None;
    const void *ptr[N_ARRAYS];
    Py_ssize_t len[N_ARRAYS];
    if (self->n_bufs) {
        PyErr_SetString(PyExc_RuntimeError, "Forest is already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!nndidd|OOO:Forest", kwlist, &PyTuple_Type,
                                     &arrays, &self->n_features, &self->n_outputs, &self->base,
                                     &self->transform, &self->eps, &self->zero, &acc32, &widths,
                                     &vectors))
        return -1;
    if (PyTuple_GET_SIZE(arrays) != N_ARRAYS) {
        PyErr_Format(PyExc_ValueError, "Forest: expected %d arrays", N_ARRAYS);
        return -1;
    }
    for (int k = 0; k < N_ARRAYS; k++)
        if (get_buffer(self, PyTuple_GET_ITEM(arrays, k), fmts[k], sizes[k], &ptr[k], &len[k],
                       names[k]) < 0)
            return -1;
    self->nodes = ptr[0];
    self->roots = ptr[1];
    self->depth = ptr[2];
    self->tree_output = ptr[3];
    self->flags = ptr[4];
    self->value = ptr[5];
    self->cat_bounds = ptr[6];
    self->cat_bits = ptr[7];
    self->qs_start = ptr[8];
    self->qs_node = ptr[9];
    self->qs_f = ptr[10];
    self->qs_kind = ptr[11];
    self->qs_u = ptr[12];
    self->qs_mask = ptr[13];
    self->leaf_start = ptr[14];
    self->leaf_val = ptr[15];
    Py_ssize_t n_nodes = len[0] / (Py_ssize_t)sizeof(node_t), n_trees = len[1];
    /* layout.py builds these from a validated table; the sizes are checked here all the
     * same, so that no misuse of this class reads out of bounds. */
    if (len[0] % (Py_ssize_t)sizeof(node_t) || n_nodes != len[5] || len[4] != n_nodes ||
        len[2] != n_trees || len[3] != n_trees || len[8] != n_trees + 1 ||
        len[14] != n_trees + 1 || len[9] != len[10] || len[10] != len[11] ||
        len[11] != len[12] || len[12] != len[13] || self->n_outputs < 1 ||
        self->n_features < 0 || len[6] < 1) {
        PyErr_SetString(PyExc_ValueError, "Forest: inconsistent array sizes");
        return -1;
    }
    self->n_trees = n_trees;
    self->n_nodes = n_nodes;
    self->n_leaves = len[15];
    return forest_options(self, acc32, widths, vectors);
}

static int row_view(PyObject *obj, Py_buffer *view, int ndim)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_Clear();
        PyErr_SetString(PyExc_TypeError, "expected a C-contiguous float64 array");
        return -1;
    }
    const char *f = view->format;
    if (f[0] == '<' || f[0] == '=' || f[0] == '@')
        f++;
    if (f[0] != 'd' || f[1] != '\0' || view->ndim != ndim) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_TypeError, "expected a C-contiguous float64 array");
        return -1;
    }
    return 0;
}

/* A 1-D row of n_features doubles (TypeError for another array, ValueError for a length). */
static int one_view(PyObject *row, Py_ssize_t n_features, Py_buffer *view)
{
    if (row_view(row, view, 1) < 0)
        return -1;
    if (view->shape[0] != n_features) {
        PyErr_Format(PyExc_ValueError, "expected a row of %zd encoded features, got %zd.",
                     n_features, view->shape[0]);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* X, n rows of n_features doubles, and out, writable, per_row items of itemsize bytes a row.
 * Returns n, or -1 with an exception set and no buffer held. */
static Py_ssize_t batch_views(PyObject *X, PyObject *out, Py_ssize_t n_features,
                              Py_ssize_t per_row, Py_ssize_t itemsize, Py_buffer *xv,
                              Py_buffer *ov)
{
    if (row_view(X, xv, 2) < 0)
        return -1;
    if (PyObject_GetBuffer(out, ov, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(xv);
        return -1;
    }
    Py_ssize_t n = xv->shape[0];
    if (xv->shape[1] != n_features || ov->itemsize != itemsize ||
        ov->len != n * per_row * itemsize) {
        PyBuffer_Release(xv);
        PyBuffer_Release(ov);
        PyErr_SetString(PyExc_ValueError, "X or out has the wrong shape");
        return -1;
    }
    return n;
}

/* The arguments of proba(row, out): a row of n_features values and K writable slots.
   Returns 0 with both views held, or -1 with an exception set and nothing held. */
static int proba_views(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t n_features,
                       Py_ssize_t n_outputs, Py_buffer *view, Py_buffer *ov)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "proba(row, out)");
        return -1;
    }
    if (one_view(args[0], n_features, view) < 0)
        return -1;
    if (PyObject_GetBuffer(args[1], ov, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(view);
        return -1;
    }
    if (ov->itemsize != 8 || ov->len != n_outputs * 8 || n_outputs < 2) {
        PyBuffer_Release(view);
        PyBuffer_Release(ov);
        PyErr_SetString(PyExc_ValueError, "proba(): a model of K >= 2 outputs and K slots");
        return -1;
    }
    return 0;
}

static PyObject *Forest_one(Forest *self, PyObject *row)
{
    Py_buffer view;
    if (one_view(row, self->n_features, &view) < 0)
        return NULL;
    double acc[64], result;
    if (self->n_outputs == 1) {
        score_row(self, (const double *)view.buf, acc);
        result = finish(self, acc[0]);
    } else {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "one(): a single-output model only; use proba()");
        return NULL;
    }
    PyBuffer_Release(&view);
    return PyFloat_FromDouble(result);
}

static PyObject *Forest_proba(Forest *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view, ov;
    if (proba_views(args, nargs, self->n_features, self->n_outputs, &view, &ov) < 0)
        return NULL;
    double acc[64];
    double *heap = self->n_outputs > 64 ? (double *)malloc(sizeof(double) * self->n_outputs) : NULL;
    double *a = heap ? heap : acc;
    if (self->n_outputs > 64 && heap == NULL) {
        PyBuffer_Release(&view);
        PyBuffer_Release(&ov);
        return PyErr_NoMemory();
    }
    score_row(self, (const double *)view.buf, a);
    finish_classes(self, a, (double *)ov.buf);
    free(heap);
    PyBuffer_Release(&view);
    PyBuffer_Release(&ov);
    Py_RETURN_NONE;
}

static PyObject *Forest_batch(Forest *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "batch(X, out, n_threads)");
        return NULL;
    }
    int n_threads = (int)PyLong_AsLong(args[2]);
    if (n_threads == -1 && PyErr_Occurred())
        return NULL;
    Py_buffer xv, ov;
    Py_ssize_t n = batch_views(args[0], args[1], self->n_features, self->n_outputs, 8, &xv, &ov);
    if (n < 0)
        return NULL;
    const rows_t rows = {self, forest_finish, self, self->n_outputs, 0};
    Py_BEGIN_ALLOW_THREADS score_parallel(&rows, (const double *)xv.buf, (double *)ov.buf, n,
                                          n_threads < 1 ? 1 : n_threads);
    Py_END_ALLOW_THREADS PyBuffer_Release(&xv);
    PyBuffer_Release(&ov);
    Py_RETURN_NONE;
}

static PyObject *Forest_apply(Forest *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "apply(X, out)");
        return NULL;
    }
    Py_buffer xv, ov;
    Py_ssize_t n = batch_views(args[0], args[1], self->n_features, self->n_trees, 4, &xv, &ov);
    Py_ssize_t nf = self->n_features;
    if (n < 0)
        return NULL;
    const double *X = (const double *)xv.buf;
    int32_t *out = (int32_t *)ov.buf;
    Py_BEGIN_ALLOW_THREADS for (Py_ssize_t i = 0; i < n; i++)
    {
        for (Py_ssize_t t = 0; t < self->n_trees; t++) {
            int32_t at = self->roots[t];
            for (int s = self->depth[t]; s > 0; s--) {
                const node_t *nd = self->nodes + at;
                at = nd->c[go_right(self, nd, at, X[i * nf + nd->f])];
            }
            out[i * self->n_trees + t] = at;
        }
    }
    Py_END_ALLOW_THREADS PyBuffer_Release(&xv);
    PyBuffer_Release(&ov);
    Py_RETURN_NONE;
}


/* ------------------------------------------------------------------ linear runtimes */
/* intercept + coef . design(x): see tabdistill/distill/linear.py (LinearDesign) and the
 * numba _linear_raw, which this mirrors term by term. */

typedef struct {
    PyObject_HEAD
    Py_buffer bufs[3];
    int n_bufs;
    const int64_t *ints; /* n_features x (offset, n_levels, has_missing) */
    const double *values; /* n_features x (median, mean, scale) */
    const double *coef;   /* per output: n_design coefficients, then the intercept */
    Py_ssize_t n_features, n_coef, n_outputs; /* n_coef: of one output */
} Linear;

/* the raw score of output k (0 for a binary model) */
static double linear_raw(const Linear *m, const double *x, Py_ssize_t k)
{
    const double *coef = m->coef + k * m->n_coef;
    double z = coef[m->n_coef - 1];
    for (Py_ssize_t j = 0; j < m->n_features; j++) {
        double v = x[j];
        int64_t at = m->ints[3 * j], n_levels = m->ints[3 * j + 1], has_missing = m->ints[3 * j + 2];
        if (n_levels > 0) {
            if (v == v && v >= 0.0 && v < (double)n_levels)
                z += coef[at + (int64_t)v];
        } else {
            double median = m->values[3 * j], mean = m->values[3 * j + 1],
                   scale = m->values[3 * j + 2];
            if (v != v) {
                z += coef[at] * (median - mean) / scale;
                if (has_missing)
                    z += coef[at + 1];
            } else {
                z += coef[at] * (v - mean) / scale;
            }
        }
    }
    return z;
}

/* the K class probabilities of row x: softmax of the K raw scores, written into out */
static int linear_proba(const Linear *m, const double *x, double *out)
{
    double top = -HUGE_VAL, sum = 0.0;
    for (Py_ssize_t k = 0; k < m->n_outputs; k++) {
        out[k] = linear_raw(m, x, k);
        top = out[k] > top ? out[k] : top;
    }
    for (Py_ssize_t k = 0; k < m->n_outputs; k++) {
        out[k] = exp(out[k] - top);
        sum += out[k];
    }
    for (Py_ssize_t k = 0; k < m->n_outputs; k++)
        out[k] /= sum;
    return 0;
}

static void Linear_dealloc(Linear *self)
{
    for (int k = 0; k < self->n_bufs; k++)
        PyBuffer_Release(&self->bufs[k]);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int linear_buffer(Linear *self, PyObject *obj, char fmt, Py_ssize_t itemsize,
                         const void **ptr, Py_ssize_t *count)
{
    Py_buffer *view = &self->bufs[self->n_bufs];
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    const char *f = view->format;
    if (f[0] == '<' || f[0] == '=' || f[0] == '@')
        f++;
    int ok = view->itemsize == itemsize && f[1] == '\0' &&
             (f[0] == fmt || (fmt == 'q' && f[0] == 'l'));
    if (!ok) {
        PyErr_SetString(PyExc_TypeError, "Linear: wrong array type");
        PyBuffer_Release(view);
        return -1;
    }
    self->n_bufs++;
    *ptr = view->buf;
    *count = view->len / itemsize;
    return 0;
}

static int Linear_init(Linear *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"ints", "values", "coef", "n_outputs", NULL};
    PyObject *o[3];
    Py_ssize_t n_ints, n_values;
    self->n_outputs = 1;
    if (self->n_bufs) {
        PyErr_SetString(PyExc_RuntimeError, "Linear is already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO|n:Linear", kwlist, &o[0], &o[1], &o[2],
                                     &self->n_outputs))
        return -1;
    if (linear_buffer(self, o[0], 'q', 8, (const void **)&self->ints, &n_ints) ||
        linear_buffer(self, o[1], 'd', 8, (const void **)&self->values, &n_values) ||
        linear_buffer(self, o[2], 'd', 8, (const void **)&self->coef, &self->n_coef))
        return -1;
    if (self->n_outputs < 1 || self->n_coef % self->n_outputs) {
        PyErr_SetString(PyExc_ValueError, "Linear: coef does not hold n_outputs equal rows");
        return -1;
    }
    self->n_coef /= self->n_outputs;
    if (n_ints % 3 || n_values != n_ints || self->n_coef < 1) {
        PyErr_SetString(PyExc_ValueError, "Linear: inconsistent array sizes");
        return -1;
    }
    self->n_features = n_ints / 3;
    /* offsets are validated in Python (validation.check_linear); checked again here */
    for (Py_ssize_t j = 0; j < self->n_features; j++) {
        int64_t at = self->ints[3 * j], n_levels = self->ints[3 * j + 1];
        int64_t width = n_levels > 0 ? n_levels : 1 + (self->ints[3 * j + 2] != 0);
        if (at < 0 || n_levels < 0 || at + width > self->n_coef - 1) {
            PyErr_SetString(PyExc_ValueError, "Linear: a feature points outside the coefficients");
            return -1;
        }
    }
    return 0;
}

static PyObject *Linear_one(Linear *self, PyObject *row)
{
    Py_buffer view;
    if (self->n_outputs != 1) {
        PyErr_SetString(PyExc_ValueError, "one(): a single-output model only; use proba()");
        return NULL;
    }
    if (one_view(row, self->n_features, &view) < 0)
        return NULL;
    double z = linear_raw(self, (const double *)view.buf, 0);
    PyBuffer_Release(&view);
    return PyFloat_FromDouble(1.0 / (1.0 + exp(-z)));
}

static PyObject *Linear_proba(Linear *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view, ov;
    if (proba_views(args, nargs, self->n_features, self->n_outputs, &view, &ov) < 0)
        return NULL;
    linear_proba(self, (const double *)view.buf, (double *)ov.buf);
    PyBuffer_Release(&view);
    PyBuffer_Release(&ov);
    Py_RETURN_NONE;
}

static PyObject *Linear_batch(Linear *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "batch(X, out)");
        return NULL;
    }
    Py_buffer xv, ov;
    Py_ssize_t K = self->n_outputs;
    Py_ssize_t n = batch_views(args[0], args[1], self->n_features, K, 8, &xv, &ov);
    Py_ssize_t nf = self->n_features;
    if (n < 0)
        return NULL;
    const double *X = (const double *)xv.buf;
    double *out = (double *)ov.buf;
    Py_BEGIN_ALLOW_THREADS for (Py_ssize_t i = 0; i < n; i++)
    {
        if (K == 1)
            out[i] = 1.0 / (1.0 + exp(-linear_raw(self, X + i * nf, 0)));
        else
            linear_proba(self, X + i * nf, out + i * K);
    }
    Py_END_ALLOW_THREADS PyBuffer_Release(&xv);
    PyBuffer_Release(&ov);
    Py_RETURN_NONE;
}

static PyMethodDef Linear_methods[] = {
    {"one", (PyCFunction)Linear_one, METH_O, "Probability of one encoded row (1-D float64)."},
    {"proba", (PyCFunction)(void (*)(void))Linear_proba, METH_FASTCALL,
     "proba(row, out): the K class probabilities of one encoded row written into out."},
    {"batch", (PyCFunction)(void (*)(void))Linear_batch, METH_FASTCALL,
     "batch(X, out): probabilities of the rows of X written into out."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject LinearType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tabdistill_runtime._ckernels.Linear",
    .tp_basicsize = sizeof(Linear),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A linear runtime (see tabdistill_runtime/from_linear.py).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Linear_init,
    .tp_dealloc = (destructor)Linear_dealloc,
    .tp_methods = Linear_methods,
};

/* ------------------------------------------------------------------ teacher blends */
/* A blend (tabdistill_runtime/blend.py) scores a row as tabdistill's teacher ensemble does:
 * the weighted sum of its members' class probabilities, each member the mean of its parts'
 * (one part, or one a fold model), clipped. A part's probabilities come from raw scores: a
 * range of the Forest's outputs (tree sums), or a Linear model's scores of the row. */

#define PART_TREES 0
#define PART_LINEAR 1
#define TF_SIGMOID 0  /* one score -> p */
#define TF_SIGMOID2 1 /* one score -> 1 - p, p (a two-class model in a K-class blend) */
#define TF_SOFTMAX 2
#define TF_IDENTITY 3 /* the scores are probabilities (forests) */
#define TF_IDENTITY2 4 /* one probability p -> 1 - p, p */
#define PART_FIELDS 5 /* kind, source (first output, or linear model), scores, transform,
                         classes (offset in the class map, or -1: columns in order) */

typedef struct {
    PyObject_HEAD
    PyObject *forest;  /* a Forest: its outputs are the parts' raw scores */
    PyObject *linears; /* a tuple of Linear */
    Py_buffer bufs[4];
    int n_bufs;
    const int32_t *parts, *classes, *members;
    const double *weights;
    Py_ssize_t n_parts, n_members, n_outputs, widest;
    double eps;
} Blend;


/* The probabilities of one part from its n_in raw scores; returns how many. */
static int part_proba(int transform, const double *in, int32_t n_in, double *pr)
{
    if (transform == TF_SIGMOID || transform == TF_SIGMOID2) {
        double p = 1.0 / (1.0 + exp(-in[0]));
        if (transform == TF_SIGMOID) {
            pr[0] = p;
            return 1;
        }
        pr[0] = 1.0 - p;
        pr[1] = p;
        return 2;
    }
    if (transform == TF_IDENTITY2) {
        pr[0] = 1.0 - in[0];
        pr[1] = in[0];
        return 2;
    }
    if (transform == TF_IDENTITY) {
        for (int32_t k = 0; k < n_in; k++)
            pr[k] = in[k];
        return n_in;
    }
    double top = in[0], sum = 0.0;
    for (int32_t k = 1; k < n_in; k++)
        top = in[k] > top ? in[k] : top;
    for (int32_t k = 0; k < n_in; k++) {
        pr[k] = exp(in[k] - top);
        sum += pr[k];
    }
    for (int32_t k = 0; k < n_in; k++)
        pr[k] /= sum;
    return n_in;
}

/* finish_fn of a blend: scratch holds n_outputs + 2 * widest doubles */
static void blend_finish(const void *ctx, const double *x, double *acc, double *out,
                         double *scratch)
{
    const Blend *b = (const Blend *)ctx;
    const Py_ssize_t W = b->n_outputs;
    double *q = scratch, *pr = scratch + W, *z = pr + b->widest;
    for (Py_ssize_t c = 0; c < W; c++)
        out[c] = 0.0;
    for (Py_ssize_t m = 0; m < b->n_members; m++) {
        const int32_t first = b->members[m], stop = b->members[m + 1];
        for (Py_ssize_t c = 0; c < W; c++)
            q[c] = 0.0;
        for (int32_t p = first; p < stop; p++) {
            const int32_t *d = b->parts + PART_FIELDS * p;
            const double *in = acc + d[1];
            if (d[0] == PART_LINEAR) {
                const Linear *lin = (const Linear *)PyTuple_GET_ITEM(b->linears, d[1]);
                for (int32_t k = 0; k < d[2]; k++)
                    z[k] = linear_raw(lin, x, k);
                in = z;
            }
            int w = part_proba(d[3], in, d[2], pr);
            for (int j = 0; j < w; j++)
                q[d[4] < 0 ? j : b->classes[d[4] + j]] += pr[j];
        }
        double sum = 0.0, n = (double)(stop - first);
        for (Py_ssize_t c = 0; c < W; c++) {
            double v = q[c] / n; /* a member of fold models: their mean */
            if (W == 1)
                q[c] = v < b->eps ? b->eps : (v > 1.0 - b->eps ? 1.0 - b->eps : v);
            else
                q[c] = v < b->eps ? b->eps : (v > 1.0 ? 1.0 : v);
            sum += q[c];
        }
        for (Py_ssize_t c = 0; c < W; c++)
            out[c] += b->weights[m] * (W == 1 ? q[c] : q[c] / sum);
    }
}

static void Blend_dealloc(Blend *self)
{
    for (int k = 0; k < self->n_bufs; k++)
        PyBuffer_Release(&self->bufs[k]);
    Py_XDECREF(self->forest);
    Py_XDECREF(self->linears);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int blend_buffer(Blend *self, PyObject *obj, char fmt, const void **ptr, Py_ssize_t *count)
{
    Py_buffer *view = &self->bufs[self->n_bufs];
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    const char *f = view->format;
    if (f[0] == '<' || f[0] == '=' || f[0] == '@')
        f++;
    if (view->itemsize != (fmt == 'd' ? 8 : 4) || f[0] != fmt || f[1] != '\0') {
        PyErr_SetString(PyExc_TypeError, "Blend: wrong array type");
        PyBuffer_Release(view);
        return -1;
    }
    self->n_bufs++;
    *ptr = view->buf;
    *count = view->len / view->itemsize;
    return 0;
}

/* Every index a row's scoring follows, checked (blend.py checks them first, with messages). */
static int blend_check(Blend *self, Py_ssize_t n_classes_map)
{
    const Forest *f = (const Forest *)self->forest;
    const Py_ssize_t W = self->n_outputs, n_lin = PyTuple_GET_SIZE(self->linears);
    if (W < 1 || self->n_parts < 1 || self->n_members < 1 || self->members[0] != 0 ||
        self->members[self->n_members] != self->n_parts)
        return -1;
    for (Py_ssize_t m = 0; m < self->n_members; m++)
        if (self->members[m + 1] <= self->members[m] || !isfinite(self->weights[m]))
            return -1;
    self->widest = W;
    for (Py_ssize_t p = 0; p < self->n_parts; p++) {
        const int32_t *d = self->parts + PART_FIELDS * p;
        const int32_t kind = d[0], src = d[1], n_in = d[2], tf = d[3], at = d[4];
        const int two = tf == TF_SIGMOID2 || tf == TF_IDENTITY2;
        if (n_in < 1 || tf < TF_SIGMOID || tf > TF_IDENTITY2 ||
            ((tf == TF_SIGMOID || two) && n_in != 1))
            return -1;
        if (kind == PART_TREES) {
            if (src < 0 || src > f->n_outputs - n_in)
                return -1;
        } else if (kind == PART_LINEAR) {
            if (src < 0 || src >= n_lin)
                return -1;
            const Linear *lin = (const Linear *)PyTuple_GET_ITEM(self->linears, src);
            if (lin->n_outputs != n_in || lin->n_features != f->n_features)
                return -1;
        } else {
            return -1;
        }
        const int32_t w = two ? 2 : n_in;
        if (at < 0 && w != W)
            return -1;
        if (at >= 0) {
            if (at > n_classes_map - w)
                return -1;
            for (int32_t j = 0; j < w; j++)
                if (self->classes[at + j] < 0 || self->classes[at + j] >= W)
                    return -1;
        }
        self->widest = n_in > self->widest ? n_in : self->widest;
        self->widest = w > self->widest ? w : self->widest;
    }
    return 0;
}

static int Blend_init(Blend *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"forest", "linears", "parts", "classes", "members", "weights",
                             "n_outputs", "eps", NULL};
    PyObject *forest, *linears, *o[4];
    const void *ptr[4];
    Py_ssize_t len[4];
    static const char fmts[4] = {'i', 'i', 'i', 'd'};
    if (self->n_bufs || self->forest) {
        PyErr_SetString(PyExc_RuntimeError, "Blend is already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!OOOOnd:Blend", kwlist, &ForestType,
                                     &forest, &PyTuple_Type, &linears, &o[0], &o[1], &o[2],
                                     &o[3], &self->n_outputs, &self->eps))
        return -1;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(linears); k++) {
        if (!PyObject_TypeCheck(PyTuple_GET_ITEM(linears, k), &LinearType)) {
            PyErr_SetString(PyExc_TypeError, "Blend: linears must hold Linear models");
            return -1;
        }
    }
    Py_INCREF(forest);
    Py_INCREF(linears);
    self->forest = forest;
    self->linears = linears;
    for (int k = 0; k < 4; k++)
        if (blend_buffer(self, o[k], fmts[k], &ptr[k], &len[k]) < 0)
            return -1;
    self->parts = ptr[0];
    self->classes = ptr[1];
    self->members = ptr[2];
    self->weights = ptr[3];
    self->n_parts = len[0] / PART_FIELDS;
    self->n_members = len[3];
    if (len[0] % PART_FIELDS || len[2] != len[3] + 1 || blend_check(self, len[1]) < 0) {
        PyErr_SetString(PyExc_ValueError, "Blend: inconsistent parts, classes or members");
        return -1;
    }
    return 0;
}

/* Score one row into out (n_outputs values). Returns 0, or -1 with MemoryError set. */
static int blend_row(const Blend *self, const double *x, double *out)
{
    const Forest *f = (const Forest *)self->forest;
    double stack[256];
    const Py_ssize_t need = f->n_outputs + self->n_outputs + 2 * self->widest;
    double *work = need > 256 ? (double *)malloc(sizeof(double) * need) : stack;
    if (work == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    score_row(f, x, work);
    blend_finish(self, x, work, out, work + f->n_outputs);
    if (work != stack)
        free(work);
    return 0;
}

static PyObject *Blend_one(Blend *self, PyObject *row)
{
    Py_buffer view;
    double result;
    if (self->n_outputs != 1) {
        PyErr_SetString(PyExc_ValueError, "one(): a binary blend only; use proba()");
        return NULL;
    }
    if (one_view(row, ((Forest *)self->forest)->n_features, &view) < 0)
        return NULL;
    int status = blend_row(self, (const double *)view.buf, &result);
    PyBuffer_Release(&view);
    return status < 0 ? NULL : PyFloat_FromDouble(result);
}

static PyObject *Blend_proba(Blend *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view, ov;
    const Forest *f = (const Forest *)self->forest;
    if (proba_views(args, nargs, f->n_features, self->n_outputs, &view, &ov) < 0)
        return NULL;
    int status = blend_row(self, (const double *)view.buf, (double *)ov.buf);
    PyBuffer_Release(&view);
    PyBuffer_Release(&ov);
    if (status < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Blend_batch(Blend *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "batch(X, out, n_threads)");
        return NULL;
    }
    int n_threads = (int)PyLong_AsLong(args[2]);
    if (n_threads == -1 && PyErr_Occurred())
        return NULL;
    const Forest *f = (const Forest *)self->forest;
    Py_buffer xv, ov;
    Py_ssize_t n = batch_views(args[0], args[1], f->n_features, self->n_outputs, 8, &xv, &ov);
    if (n < 0)
        return NULL;
    const rows_t rows = {f, blend_finish, self, self->n_outputs,
                         self->n_outputs + 2 * self->widest};
    Py_BEGIN_ALLOW_THREADS score_parallel(&rows, (const double *)xv.buf, (double *)ov.buf, n,
                                          n_threads < 1 ? 1 : n_threads);
    Py_END_ALLOW_THREADS PyBuffer_Release(&xv);
    PyBuffer_Release(&ov);
    Py_RETURN_NONE;
}

static PyMethodDef Blend_methods[] = {
    {"one", (PyCFunction)Blend_one, METH_O, "Probability of one encoded row (binary blend)."},
    {"proba", (PyCFunction)(void (*)(void))Blend_proba, METH_FASTCALL,
     "proba(row, out): the K class probabilities of one encoded row written into out."},
    {"batch", (PyCFunction)(void (*)(void))Blend_batch, METH_FASTCALL,
     "batch(X, out, n_threads): probabilities of the rows of X written into out."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject BlendType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tabdistill_runtime._ckernels.Blend",
    .tp_basicsize = sizeof(Blend),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A blend of tree and linear models (see tabdistill_runtime/blend.py).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Blend_init,
    .tp_dealloc = (destructor)Blend_dealloc,
    .tp_methods = Blend_methods,
};

static PyObject *node_size(PyObject *mod, PyObject *unused)
{
    (void)mod;
    (void)unused;
    return PyLong_FromSsize_t((Py_ssize_t)sizeof(node_t));
}

static PyMethodDef Forest_methods[] = {
    {"one", (PyCFunction)Forest_one, METH_O, "Score of one encoded row (1-D float64)."},
    {"proba", (PyCFunction)(void (*)(void))Forest_proba, METH_FASTCALL,
     "proba(row, out): the K class probabilities of one encoded row written into out."},
    {"batch", (PyCFunction)(void (*)(void))Forest_batch, METH_FASTCALL,
     "batch(X, out, n_threads): scores of the rows of X written into out."},
    {"apply", (PyCFunction)(void (*)(void))Forest_apply, METH_FASTCALL,
     "apply(X, out): the leaf (node index) each row reaches in each tree."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject ForestType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tabdistill_runtime._ckernels.Forest",
    .tp_basicsize = sizeof(Forest),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A packed tree ensemble (see tabdistill_runtime/layout.py).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Forest_init,
    .tp_dealloc = (destructor)Forest_dealloc,
    .tp_methods = Forest_methods,
};

static PyMethodDef module_methods[] = {
    {"node_size", node_size, METH_NOARGS, "Bytes of one packed node record."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_ckernels",
    .m_doc = "Ahead-of-time compiled tree and linear kernels.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__ckernels(void)
{
    if (PyType_Ready(&ForestType) < 0 || PyType_Ready(&LinearType) < 0 ||
        PyType_Ready(&BlendType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
    Py_INCREF(&ForestType);
    if (PyModule_AddObject(m, "Forest", (PyObject *)&ForestType) < 0) {
        Py_DECREF(&ForestType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&LinearType);
    if (PyModule_AddObject(m, "Linear", (PyObject *)&LinearType) < 0) {
        Py_DECREF(&LinearType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&BlendType);
    if (PyModule_AddObject(m, "Blend", (PyObject *)&BlendType) < 0) {
        Py_DECREF(&BlendType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
