/* Python glue of the contribution kernels (_treeshap.h, _shaptables.h): per-row feature
 * contributions and top-k reason codes of a tree or linear runtime, compiled ahead of time
 * with the package. The explainers are built in _explain_new.c; this file computes with them
 * and defines the module.
 */
#include "_explain.h"

#define STACK_DOUBLES 2048
/* scratch of the pass over a tree's nodes kept on the stack, for trees of at most so many */
#define STACK_NODES 512

typedef struct {
    double *phi, *work, *sums;
    int *ints;
    uint64_t *agree;    /* per node of a tree: td_large_contrib's agreement bits */
    unsigned char *dec; /* per split of a tree: td_large_contrib's decisions */
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
                td_listed_contrib(&self->trees, &self->tables, t, x, phi + out * stride,
                                  &walk, s->agree, s->dec);
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
    PyObject *result = NULL;
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
    if (s == NULL) {
        PyErr_NoMemory();
        goto release;
    }
    if (scratch_init(self, s) < 0) { /* its own allocations freed, MemoryError set */
        free(s);
        goto release;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++)
        row_contrib(self, (const double *)xv.buf + i * self->n_features, -1,
                    (double *)ov.buf + i * stride, s);
    Py_END_ALLOW_THREADS
    scratch_free(s);
    free(s);
    Py_INCREF(Py_None);
    result = Py_None;
release:
    PyBuffer_Release(&xv);
    PyBuffer_Release(&ov);
    return result;
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
    for (long k = 0; self->kind == 0 && k < self->tables.blocks.n_blocks; k++)
        n += self->tables.block_off[k] >= 0;
    return PyLong_FromLong(n);
}

static PyObject *Explainer_leaf_tables(Explainer *self, PyObject *unused)
{
    long n = 0;
    (void)unused;
    for (long l = 0; self->kind == 0 && l < self->tables.n_leaves; l++)
        n += self->tables.leaf_tab_off[l] >= 0;
    return PyLong_FromLong(n);
}

static PyObject *Explainer_table_bytes(Explainer *self, PyObject *unused)
{
    (void)unused;
    return PyLong_FromLong(self->kind == 0 ? 8 * self->tables.table_values : 0);
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
    .tp_new = td_explain_trees_new,
    .tp_dealloc = (destructor)td_explain_dealloc,
    .tp_methods = Explainer_methods,
};

static PyTypeObject LinearType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tabdistill_runtime._explain.Linear",
    .tp_basicsize = sizeof(Explainer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Contributions of a linear runtime (see tabdistill_runtime/explain.py).",
    .tp_new = td_explain_linear_new,
    .tp_dealloc = (destructor)td_explain_dealloc,
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
