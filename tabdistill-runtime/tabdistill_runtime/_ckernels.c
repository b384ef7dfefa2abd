/* Tree-ensemble scoring kernels, compiled ahead of time when the package is installed.
 *
 * The Python side (tabdistill/runtime/layout.py) packs the canonical node table into
 * node_t records: a split's threshold (or a category mask), feature, kind and both
 * children; a leaf is a node whose children are itself, so walking a tree for a
 * fixed number of steps (its depth) lands every row on its leaf without a branch on
 * "is this a leaf". Rows (batch) or trees (one row) are walked in lockstep so that
 * their independent chains of loads overlap in the CPU.
 *
 * Decision rules are those of tabdistill/runtime/rules.py; nodes whose rule has no
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

typedef struct {
    PyObject_HEAD
    Py_buffer bufs[N_ARRAYS];
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
    Py_ssize_t n_trees, n_features, n_outputs;
    double base, eps, zero;
    int transform;
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
        for (int j = 0; j < g; j++)
            acc[m->tree_output[t0 + j]] += nodes[at[j]].u.t;
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
 * scratch of n_features * QS_BLOCK doubles. Trees with more than 64 leaves are walked row by
 * row. */
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
            for (int r = 0; r < QS_BLOCK; r++) {
                int32_t at = m->roots[t];
                for (int s = m->depth[t]; s > 0; s--) {
                    const node_t *nd = m->nodes + at;
                    at = nd->c[go_right(m, nd, at, xs[r * nf + nd->f])];
                }
                out[r * K] += m->nodes[at].u.t;
            }
            continue;
        }
        uint64_t ls[QS_BLOCK];
        for (int r = 0; r < QS_BLOCK; r++)
            ls[r] = ~(uint64_t)0;
        for (int32_t j = m->qs_start[t]; j < m->qs_start[t + 1]; j++)
            qs_split(m, j, xc + (Py_ssize_t)m->qs_f[j] * QS_BLOCK, ls);
        for (int r = 0; r < QS_BLOCK; r++)
            out[r * K] += leaves[lowest_bit(ls[r])];
    }
}

/* Rows [begin, end) of X into out (n_outputs values a row): QS_BLOCK rows at a time, the rest one by one. */
static void score_rows(const Forest *m, const double *X, double *out, Py_ssize_t begin,
                       Py_ssize_t end)
{
    const Py_ssize_t nf = m->n_features, K = m->n_outputs;
    Py_ssize_t i = begin;
    if (end - begin >= QS_BLOCK) {
        double *xc = (double *)malloc(sizeof(double) * (nf > 0 ? nf : 1) * QS_BLOCK);
        double *acc = (double *)malloc(sizeof(double) * K * QS_BLOCK);
        if (xc != NULL && acc != NULL) {
            for (; i + QS_BLOCK <= end; i += QS_BLOCK) {
                memset(acc, 0, sizeof(double) * K * QS_BLOCK);
                qs_block(m, X + i * nf, xc, acc);
                for (int r = 0; r < QS_BLOCK; r++) {
                    if (K == 1)
                        out[i + r] = finish(m, acc[r]);
                    else
                        finish_classes(m, acc + r * K, out + (i + r) * K);
                }
            }
        }
        free(xc);
        free(acc);
    }
    double acc[64];
    double *heap = K > 64 ? (double *)malloc(sizeof(double) * K) : NULL;
    double *a = heap ? heap : acc;
    for (; i < end; i++) {
        score_row(m, X + i * nf, a);
        if (K == 1)
            out[i] = finish(m, a[0]);
        else
            finish_classes(m, a, out + i * K);
    }
    free(heap);
}

#ifdef TD_THREADS
typedef struct {
    const Forest *m;
    const double *X;
    double *out;
    Py_ssize_t begin, end;
} job_t;

static void *run_job(void *arg)
{
    job_t *j = (job_t *)arg;
    score_rows(j->m, j->X, j->out, j->begin, j->end);
    return NULL;
}
#endif

static void score_parallel(const Forest *m, const double *X, double *out, Py_ssize_t n,
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
            jobs[k] = (job_t){m, X, out, b < n ? b : n, e > b ? e : b};
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
    score_rows(m, X, out, 0, n);
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

static int Forest_init(Forest *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"arrays", "n_features", "n_outputs", "base", "transform", "eps",
                             "zero", NULL};
    /* arrays, in this order (layout.py): */
    static const char *names[N_ARRAYS] = {"nodes", "roots", "depth", "tree_output", "flags",
                                          "value", "cat_bounds", "cat_bits", "qs_start",
                                          "qs_node", "qs_f", "qs_kind", "qs_u", "qs_mask",
                                          "leaf_start", "leaf_val"};
    static const char *fmts[N_ARRAYS] = {"B", "i", "i", "i", "B", "d", "i", "I",
                                         "i", "i", "i", "i", "d", "LQ", "i", "d"};
    static const Py_ssize_t sizes[N_ARRAYS] = {1, 4, 4, 4, 1, 8, 4, 4, 4, 4, 4, 4, 8, 8, 4, 8};
    PyObject *arrays;
    const void *ptr[N_ARRAYS];
    Py_ssize_t len[N_ARRAYS];
    if (self->n_bufs) {
        PyErr_SetString(PyExc_RuntimeError, "Forest is already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!nndidd:Forest", kwlist, &PyTuple_Type,
                                     &arrays, &self->n_features, &self->n_outputs, &self->base,
                                     &self->transform, &self->eps, &self->zero))
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
    return 0;
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
    Py_BEGIN_ALLOW_THREADS score_parallel(self, (const double *)xv.buf, (double *)ov.buf, n,
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
    .tp_doc = "A linear runtime (see tabdistill/runtime/from_linear.py).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Linear_init,
    .tp_dealloc = (destructor)Linear_dealloc,
    .tp_methods = Linear_methods,
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
    .tp_doc = "A packed tree ensemble (see tabdistill/runtime/layout.py).",
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
    if (PyType_Ready(&ForestType) < 0 || PyType_Ready(&LinearType) < 0)
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
    return m;
}
