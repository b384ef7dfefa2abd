/* Per-row feature contributions ("reasons") of a tree ensemble or a linear model.
 *
 * Plain C99 without Python, shared by the runtime's extension (_explain.c) and the C export
 * (tabdistill/export/c_reasons.py embeds this file), so both compute the same numbers.
 *
 * Trees: exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent individualized
 * feature attribution for tree ensembles"). Leaf l of value v, reached along a path whose
 * distinct features j carry o_j (1 if the row follows every split on j along the path, else 0)
 * and z_j (the product of the training-row shares of the path's children split on j), adds to
 * feature i
 *
 *     v (o_i - z_i) * integral over t in [0, 1] of prod_{j != i} e_j(t),
 *     with e_j = o_j t + z_j (1 - t),
 *
 * the Shapley value of the leaf's conditional expectation: the Shapley weight
 * |S|! (d - |S| - 1)! / d! is the Beta integral of t^|S| (1 - t)^(d - 1 - |S|). The integrand
 * is a polynomial of degree < d <= the tree's depth, so Gauss-Legendre quadrature on
 * ceil(depth / 2) points integrates it exactly.
 *
 * Two passes over a tree's nodes (stored in pre-order) evaluate it at those points. Down:
 * R_c, the product of the factors e of the edges from the root to node c. Up: D_c, the sum
 * over c's subtree's leaves of v times the factors of the edges below c. The edge into child
 * c of a split on feature i then adds (o - z) * integral of R_parent D_c to feature i: every
 * leaf below with every factor but i's. A feature split on again further down (the split's
 * flags TD_ABOVE / TD_AGAIN, fixed by the tree) combines o and z along the path: each of its
 * splits replaces the feature's factor and adds the change it makes to o - z, over the leaves
 * below it with their own last factor of the feature divided out (summed, per edge, over the
 * next splits on the feature below it). A row costs a few operations per node and point, with
 * no division unless a feature repeats on a path. (_shaptables.h computes the same leaf by
 * leaf, and from tables, for the runtime's reason codes.)
 *
 * A subtree no coalition reaches (a child no training row reached, on the side the row does
 * not take) is worth nothing to every feature: it is skipped, which is exact. A node of cover 0
 * splits its (weightless) share in halves.
 *
 * The includer defines TD_WITH_TREES (then TD_LEFT(rules, node, v): 1 if value v goes left at
 * split `node`) and/or TD_WITH_LINEAR for the parts it uses; the reason codes are always in.
 * Functions are static inline: a file that uses some of them compiles warning-free.
 */
#ifndef TD_TREESHAP_H
#define TD_TREESHAP_H

#include <stdint.h>
#include <string.h>

/* The walk is compiled once for each small number of quadrature points (loops of known length
 * unroll) and once for any number. */
#if defined(__GNUC__)
#define TD_INLINE static inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define TD_INLINE static __forceinline
#else
#define TD_INLINE static inline
#endif
#define TD_FUNC static inline

#ifdef TD_WITH_TREES

/* repeat flags of a split: its feature is split on by an ancestor / by a descendant */
#define TD_ABOVE 1
#define TD_AGAIN 2

typedef struct {
    const int *feature;     /* a node's split feature, -1 for a leaf (pre-order: left = node + 1) */
    const int *right;       /* a split's right child */
    const double *value;    /* a leaf's value */
    const double *share;    /* a node's cover divided by its parent's (training-row share) */
    const unsigned char *repeat; /* a split's TD_ABOVE | TD_AGAIN flags */
    const int *prev_edge;   /* TD_ABOVE: the child of the nearest ancestor split on the same
                             * feature that leads to the split */
    const int *roots;       /* each tree's first node; the tree ends where the next begins */
    const int *tree_output; /* the output each tree adds to; NULL: all add to output 0 */
    const double *t, *w;    /* Gauss-Legendre points and weights on [0, 1] */
    const void *rules;      /* passed to TD_LEFT */
    long n_trees, n_nodes;
    int n_features, n_outputs, n_points, max_nodes; /* max_nodes: of the largest tree */
} td_trees;

/* Doubles and ints of scratch one call of td_contrib needs. */
TD_FUNC long td_work_doubles(const td_trees *m)
{
    return (long)m->max_nodes * (3 + 5L * m->n_points) + m->n_points;
}

TD_FUNC long td_work_ints(const td_trees *m)
{
    return 2L * m->max_nodes;
}

/* The scratch of one tree, per node (index within the tree): o and z of the edge into it
 * (combined with the previous splits on its parent's feature), the integral of R, then
 * R, D, the edge's factor e (over the feature's previous factor) and, for edges whose feature
 * is split on again below, the sums of the next splits' leaves (v times every factor, and the
 * same with the feature's last factor divided out); whether no coalition reaches the node
 * and (splits) whether the row goes left there; one leaf's D. */
typedef struct {
    double *o, *z, *ir, *r, *d, *e, *acc_h, *acc_w, *leaf;
    int *dead, *left;
} td_scratch;

TD_FUNC td_scratch td_scratch_at(const td_trees *m, double *work, int *ints)
{
    td_scratch s;
    long n = m->max_nodes, q = m->n_points;
    s.o = work;
    s.z = s.o + n;
    s.ir = s.z + n;
    s.r = s.ir + n;
    s.d = s.r + n * q;
    s.e = s.d + n * q;
    s.acc_h = s.e + n * q;
    s.acc_w = s.acc_h + n * q;
    s.leaf = s.acc_w + n * q;
    s.dead = ints;
    s.left = ints + n;
    return s;
}

/* o or z of split n's feature before it: at its nearest ancestor split on the feature */
#define TD_PREV(m, s, n, root, arr) \
    ((m)->repeat[n] & TD_ABOVE ? (s)->arr[(m)->prev_edge[n] - (root)] : 1.0)

/* Down, at split n (tree index p): its children's o, z, factor and (splits) R. */
TD_INLINE void td_down_split(const td_trees *m, int root, int n, td_scratch *s, const int q)
{
    const int p = n - root, rep = m->repeat[n], left = s->left[p];
    const double op = TD_PREV(m, s, n, root, o), zp = TD_PREV(m, s, n, root, z);
    const double *rp = s->r + (long)p * q;
    int side, k;
    for (side = 0; side < 2; side++) {
        const int c = side == 0 ? n + 1 : m->right[n], cc = c - root;
        const double ok = (side == 0) == (left != 0) ? op : 0.0, zk = zp * m->share[c];
        double *e = s->e + (long)cc * q;
        s->dead[cc] = ok == 0.0 && zk == 0.0;
        if (s->dead[cc])
            continue;
        s->o[cc] = ok;
        s->z[cc] = zk;
        for (k = 0; k < q; k++) {
            const double t = m->t[k];
            e[k] = ok * t + zk * (1.0 - t);
            if (rep & TD_ABOVE)
                e[k] /= op * t + zp * (1.0 - t);
        }
        if (m->feature[c] >= 0) {
            double *r = s->r + (long)cc * q, ir = 0.0;
            for (k = 0; k < q; k++) {
                r[k] = rp[k] * e[k];
                ir += m->w[k] * r[k];
            }
            s->ir[cc] = ir;
        }
        if (rep & TD_AGAIN)
            for (k = 0; k < q; k++)
                s->acc_h[(long)cc * q + k] = s->acc_w[(long)cc * q + k] = 0.0;
    }
}

/* Up, over the edge into child c of split n (whose feature repeats on the path): charge the
 * feature and add the child's D (dc) to the split's. */
TD_INLINE void td_edge_repeated(const td_trees *m, td_scratch *s, int root, int n, int c,
                                const double *dc, double *phi, const int q)
{
    const int p = n - root, cc = c - root, rep = m->repeat[n];
    const double op = TD_PREV(m, s, n, root, o), zp = TD_PREV(m, s, n, root, z);
    const double ok = s->o[cc], zk = s->z[cc];
    const double *rp = s->r + (long)p * q, *e = s->e + (long)cc * q;
    double *ah = s->acc_h + (long)cc * q, *aw = s->acc_w + (long)cc * q, integral = 0.0;
    double *up_h = NULL, *up_w = NULL;
    int k;
    if (rep & TD_ABOVE) { /* this edge is a next split on the feature for the previous one */
        up_h = s->acc_h + (long)(m->prev_edge[n] - root) * q;
        up_w = s->acc_w + (long)(m->prev_edge[n] - root) * q;
    }
    for (k = 0; k < q; k++) {
        const double t = m->t[k], h = rp[k] * e[k] * dc[k];
        double wk;
        if (rep & TD_AGAIN) /* leaves under a next split on the feature come divided already */
            wk = (h - ah[k]) / (ok * t + zk * (1.0 - t)) + aw[k];
        else
            wk = rp[k] * dc[k] / (op * t + zp * (1.0 - t));
        integral += m->w[k] * wk;
        if (up_h) {
            up_h[k] += h;
            up_w[k] += wk;
        }
        s->d[(long)p * q + k] += e[k] * dc[k];
    }
    phi[m->feature[n]] += ((ok - zk) - (op - zp)) * integral;
}

/* Up, at split n: charge its feature with both edges and sum its D. */
TD_INLINE void td_up_split(const td_trees *m, int root, int n, td_scratch *s, double *phi,
                           const int q)
{
    const int p = n - root, i = m->feature[n], rep = m->repeat[n];
    double *dp = s->d + (long)p * q;
    int side, k;
    for (k = 0; k < q; k++)
        dp[k] = 0.0;
    for (side = 0; side < 2; side++) {
        const int c = side == 0 ? n + 1 : m->right[n], cc = c - root;
        const double *e = s->e + (long)cc * q, *dc = s->d + (long)cc * q;
        if (s->dead[cc])
            continue;
        if (m->feature[c] < 0) {
            const double v = m->value[c];
            if (!rep) { /* the common case: no pass over the points */
                phi[i] += (s->o[cc] - s->z[cc]) * v * s->ir[p];
                for (k = 0; k < q; k++)
                    dp[k] += e[k] * v;
                continue;
            }
            for (k = 0; k < q; k++)
                s->leaf[k] = v;
            dc = s->leaf;
        }
        if (rep) {
            td_edge_repeated(m, s, root, n, c, dc, phi, q);
        } else {
            const double *rp = s->r + (long)p * q;
            double integral = 0.0;
            for (k = 0; k < q; k++) {
                integral += m->w[k] * rp[k] * dc[k];
                dp[k] += e[k] * dc[k];
            }
            phi[i] += (s->o[cc] - s->z[cc]) * integral;
        }
    }
}

/* Add the contributions of the tree of nodes [root, end) to phi (a slot a feature), for the
 * row going left at the splits s->left says. */
TD_INLINE void td_tree_walk(const td_trees *m, int root, int end, double *phi, td_scratch *s,
                            const int q)
{
    int n, k;
    if (m->feature[root] < 0) /* a single leaf is all expected value */
        return;
    s->dead[0] = 0;
    s->ir[0] = 1.0;
    for (k = 0; k < q; k++)
        s->r[k] = 1.0;
    for (n = root; n < end; n++) { /* parents before their children */
        if (m->feature[n] < 0)
            continue;
        if (s->dead[n - root])
            s->dead[n + 1 - root] = s->dead[m->right[n] - root] = 1;
        else
            td_down_split(m, root, n, s, q);
    }
    for (n = end - 1; n >= root; n--) /* children before their parent */
        if (m->feature[n] >= 0 && !s->dead[n - root])
            td_up_split(m, root, n, s, phi, q);
}

/* Add tree `tree`'s contributions to phi (a slot a feature) for the row going left at the
 * splits s->left says (per node of the tree, from its root). */
TD_FUNC void td_tree_decided(const td_trees *m, long tree, double *phi, td_scratch *s)
{
    const int root = m->roots[tree];
    const int end = tree + 1 < m->n_trees ? m->roots[tree + 1] : (int)m->n_nodes;
    switch (m->n_points) {
    case 1:
        td_tree_walk(m, root, end, phi, s, 1);
        break;
    case 2:
        td_tree_walk(m, root, end, phi, s, 2);
        break;
    case 3:
        td_tree_walk(m, root, end, phi, s, 3);
        break;
    case 4:
        td_tree_walk(m, root, end, phi, s, 4);
        break;
    default:
        td_tree_walk(m, root, end, phi, s, m->n_points);
    }
}

/* Add tree `tree`'s contributions for row x to phi (a slot a feature). */
TD_FUNC void td_tree_contrib(const td_trees *m, long tree, const double *x, double *phi,
                            td_scratch *s)
{
    const int root = m->roots[tree];
    const int end = tree + 1 < m->n_trees ? m->roots[tree + 1] : (int)m->n_nodes;
    int n;
    for (n = root; n < end; n++)
        if (m->feature[n] >= 0)
            s->left[n - root] = TD_LEFT(m->rules, n, x[m->feature[n]]);
    td_tree_decided(m, tree, phi, s);
}

/* Contributions of row x to output `only` (-1: every output), added to phi: output k's
 * n_features slots start at phi + k * stride. work and ints: td_work_doubles(m) and
 * td_work_ints(m) items. */
TD_FUNC void td_contrib(const td_trees *m, const double *x, int only, double *phi, long stride,
                       double *work, int *ints)
{
    td_scratch s = td_scratch_at(m, work, ints);
    long tree;
    for (tree = 0; tree < m->n_trees; tree++) {
        int out = m->tree_output ? m->tree_output[tree] : 0;
        if (only < 0 || out == only)
            td_tree_contrib(m, tree, x, phi + out * stride, &s);
    }
}

/* Expected value of each output (no base score): over the leaves, value times the product of
 * the shares along the path. Added to out (n_outputs slots). work: max_nodes doubles. */
TD_FUNC void td_expected(const td_trees *m, double *out, double *work)
{
    long tree;
    for (tree = 0; tree < m->n_trees; tree++) {
        int root = m->roots[tree], n;
        int end = tree + 1 < m->n_trees ? m->roots[tree + 1] : (int)m->n_nodes;
        double total = 0.0;
        work[0] = 1.0;
        for (n = root; n < end; n++) { /* each node's weight, passed to its children */
            if (m->feature[n] < 0) {
                total += work[n - root] * m->value[n];
            } else {
                work[n + 1 - root] = work[n - root] * m->share[n + 1];
                work[m->right[n] - root] = work[n - root] * m->share[m->right[n]];
            }
        }
        out[m->tree_output ? m->tree_output[tree] : 0] += total;
    }
}

#endif /* TD_WITH_TREES */

/* ------------------------------------------------------------------ linear models */
#ifdef TD_WITH_LINEAR

typedef struct {
    const long *offset, *n_levels;    /* per feature: first design column, levels (0: numeric) */
    const unsigned char *has_missing; /* per numeric feature: a missing-indicator column */
    const double *median, *mean, *scale;
    const double *coef; /* per output: n_design coefficients, then the intercept */
    int n_features, n_outputs;
    long n_design;
} td_linear;

/* Each feature's term of output k's linear score for row x, into phi[0 .. n_features - 1],
 * and the intercept into phi[n_features]: they sum to the score. A term is 0 for a numeric
 * value at its training mean and for a missing or unseen category. */
TD_FUNC void td_linear_terms(const td_linear *m, const double *x, int k, double *phi)
{
    const double *coef = m->coef + (long)k * (m->n_design + 1);
    int j;
    for (j = 0; j < m->n_features; j++) {
        double v = x[j], term = 0.0;
        long at = m->offset[j], n_levels = m->n_levels[j];
        if (n_levels > 0) {
            if (v == v && v >= 0.0 && v < (double)n_levels)
                term = coef[at + (long)v];
        } else if (v != v) {
            term = coef[at] * (m->median[j] - m->mean[j]) / m->scale[j];
            if (m->has_missing[j])
                term += coef[at + 1];
        } else {
            term = coef[at] * (v - m->mean[j]) / m->scale[j];
        }
        phi[j] = term;
    }
    phi[m->n_features] = coef[m->n_design];
}

#endif /* TD_WITH_LINEAR */

/* ------------------------------------------------------------------ reason codes */

/* Whether group a (sum va) ranks before group b (sum vb): larger sum first, ties to the lower
 * index; NaN ranks last. */
TD_FUNC int td_ranks_before(double va, int a, double vb, int b)
{
    if (va != va)
        return vb != vb && a < b;
    return vb != vb || va > vb || (va == vb && a < b);
}

/* The k largest contributions after summing phi's n_features slots into n_groups (group[j]:
 * the input column feature j is read from): their group indices into idx and sums into val,
 * largest first, ties to the lower index. sums: n_groups doubles of scratch. Returns how many
 * were written, min(k, n_groups). */
TD_FUNC int td_top_reasons(const double *phi, int n_features, const int *group, int n_groups,
                          int k, double *sums, int *idx, double *val)
{
    int j, r;
    for (j = 0; j < n_groups; j++)
        sums[j] = 0.0;
    for (j = 0; j < n_features; j++)
        sums[group[j]] += phi[j];
    if (k > n_groups)
        k = n_groups;
    for (r = 0; r < k; r++) { /* the best group ranking after the previous pick */
        int best = -1;
        for (j = 0; j < n_groups; j++) {
            if (r > 0 && !td_ranks_before(val[r - 1], idx[r - 1], sums[j], j))
                continue;
            if (best < 0 || td_ranks_before(sums[j], j, sums[best], best))
                best = j;
        }
        idx[r] = best;
        val[r] = sums[best];
    }
    return k < 0 ? 0 : k;
}

#endif /* TD_TREESHAP_H */
