/* The runtime's contribution kernels as a Python extension, _explain: what its two files
 * share. _explain_new.c builds an explainer (Trees, Linear) from a runtime's arrays, checked;
 * _explain.c computes rows' contributions and reason codes with it (the kernels of
 * _treeshap.h and _shaptables.h) and defines the module.
 *
 * Trees decide splits by the rules of tabdistill_runtime/rules.py, on the canonical arrays
 * (flags, value, cat_bounds, cat_bits), exactly as the scoring kernels do.
 */
#ifndef TD_EXPLAIN_H
#define TD_EXPLAIN_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define TD_UNUSED __attribute__((unused)) /* in _explain_new.c, which decides no split */
#else
#define TD_UNUSED
#endif

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
TD_UNUSED static int slow_left(const rules_t *r, int node, double v)
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
    if ((miss == MISSING_ZERO && v >= -r->zero && v <= r->zero) ||
        (miss == MISSING_NAN && isnan(v)))
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
#include "_shaptables.h"

#define MAX_BUFS 48

typedef struct {
    PyObject_HEAD
    Py_buffer bufs[MAX_BUFS];
    int n_bufs;
    PyObject *names;      /* tuple: the name of each group (input column) */
    const int32_t *group; /* per encoded feature: its group */
    int n_groups, n_features, n_outputs;
    int kind; /* 0: trees, 1: linear */
    td_trees trees;
    td_tables tables; /* the trees listed leaf by leaf, their blocks and tables */
    rules_t rules;
    td_linear linear;
    double *expected; /* n_outputs values */
} Explainer;

/* _explain_new.c: the types' tp_new and tp_dealloc */
PyObject *td_explain_trees_new(PyTypeObject *type, PyObject *args, PyObject *kwds);
PyObject *td_explain_linear_new(PyTypeObject *type, PyObject *args, PyObject *kwds);
void td_explain_dealloc(Explainer *self);

#endif /* TD_EXPLAIN_H */
