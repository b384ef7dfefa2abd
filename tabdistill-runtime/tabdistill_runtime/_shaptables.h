/* Leaf-by-leaf contributions of trees of few splits and their tables: the fast path of the
 * runtime's reason codes (_explain.c), beside the walk of _treeshap.h.
 *
 * Plain C99 without Python, static inline functions, kept apart from the Python glue of
 * _explain.c (which it would otherwise double) and from _treeshap.h, which the C export embeds
 * and which needs none of this. The contributions are exactly the walk's (TreeSHAP): per leaf
 * from the row's agreement with its path's features (td_leaf_direct), from a table of 2^d
 * values per leaf (td_leaf_mass, td_leaf_lookup), or per block of a tree (explain.py:
 * tree_blocks) from a table over its keys (td_block_key), built once (td_build_tables) within
 * a budget of values. Include _treeshap.h with TD_WITH_TREES (and TD_LEFT) first.
 */
#ifndef TD_SHAPTABLES_H
#define TD_SHAPTABLES_H

#ifndef TD_WITH_TREES
#error "_shaptables.h needs _treeshap.h included with TD_WITH_TREES"
#endif

#include <stdint.h>
#include <stdlib.h>

/* ---- the same contributions leaf by leaf
 *
 * With A the distinct features of a leaf's path the row agrees with (o = 1) and B the others,
 * G(t) = prod_{A} (t + z (1 - t)) and ZB = prod_{B} z, the leaf adds
 *     to each b in B:  -v ZB * integral of G(t) (1 - t)^(|B| - 1)
 *     to each a in A:   v (1 - z_a) ZB * integral of G(t) / (t + z_a (1 - t)) * (1 - t)^|B|
 * (the integrand of the walk with o and z put in), each integrated by the Gauss-Legendre rule
 * of ceil(d / 2) points for the d features of its own path. In a tree of at most 64 splits,
 * which splits the row goes left at is one bit each (the tree's splits in pre-order), so a
 * leaf costs a few operations per feature of its path and point: the leaves of a tree can
 * cost less than its walk. */

typedef struct {
    const int *first, *stop; /* per tree: its leaves [first, stop) (first < 0: not listed) */
    const double *value;     /* per leaf: its value */
    const int *entry;        /* per leaf: its path's distinct features at [entry[l], entry[l+1]) */
    const int *feature;      /* per entry: the feature */
    const double *z;         /* per entry: the product of the shares of the path's children
                              * split on it */
    const uint64_t *mask;    /* per entry: the tree's splits on it along the path (bit b: the
                              * b-th split of the tree) */
    const uint64_t *want;    /* per entry: those of them the path goes left at */
    const double *rule_t, *rule_w; /* the Gauss-Legendre rules of 1, 2, ... points on [0, 1],
                                    * one after another (n points start at n (n - 1) / 2) */
} td_leaves;

/* Which distinct features of leaf l's path the row agrees with (follows the path at every
 * split on it): bit b for the leaf's b-th, for a row going left at the splits `left` sets. */
TD_FUNC uint64_t td_leaf_pattern(const td_leaves *L, long l, uint64_t left)
{
    const int e0 = L->entry[l], d = L->entry[l + 1] - e0;
    uint64_t pattern = 0;
    int b;
    for (b = 0; b < d; b++)
        pattern |= (uint64_t)(((left ^ L->want[e0 + b]) & L->mask[e0 + b]) == 0) << b;
    return pattern;
}

/* The contributions of leaf l to its path's distinct features (out[b] for the b-th) when the
 * row agrees with those `pattern` sets. */
TD_FUNC void td_leaf_direct(const td_leaves *L, long l, uint64_t pattern, double *out)
{
    const int e0 = L->entry[l], d = L->entry[l + 1] - e0, n = (d + 1) / 2;
    const double v = L->value[l], *t = L->rule_t + n * (n - 1) / 2;
    const double *w = L->rule_w + n * (n - 1) / 2, *z = L->z + e0;
    double zb = 1.0, g[32], sum_b = 0.0;
    int beta = 0, b, k;
    for (b = 0; b < d; b++) {
        out[b] = 0.0;
        if (!((pattern >> b) & 1)) {
            zb *= z[b];
            beta++;
        }
    }
    if (zb == 0.0 || d > 64) /* no coalition reaches the leaf from here */
        return;
    for (k = 0; k < n; k++) {
        double gk = v * zb, omt = 1.0 - t[k];
        for (b = 0; b < d; b++)
            gk *= (pattern >> b) & 1 ? t[k] + z[b] * omt : 1.0;
        for (b = 1; b < beta; b++)
            gk *= omt;
        sum_b += w[k] * gk;                    /* v ZB G (1 - t)^(beta - 1) */
        g[k] = w[k] * gk * (beta ? omt : 1.0); /* v ZB G (1 - t)^beta, weighted */
    }
    for (b = 0; b < d; b++) {
        if ((pattern >> b) & 1) {
            double sum_a = 0.0;
            for (k = 0; k < n; k++)
                sum_a += g[k] / (t[k] + z[b] * (1.0 - t[k]));
            out[b] = (1.0 - z[b]) * sum_a;
        } else {
            out[b] = -sum_b;
        }
    }
}

/* ---- a leaf's contributions from a table of 2^d values
 *
 * With F(A) = v ZB * integral of G(t) (1 - t)^(|B| - 1) for the pattern A (B the path's
 * other features; F(all) = 0), the leaf adds -F(A) to each b in B and, as F(A \ {a}) is
 * v z_a ZB * integral of G(t) / (t + z_a (1 - t)) * (1 - t)^|B|, (1 - z_a) / z_a * F(A \ {a})
 * to each a in A: one table of F over the 2^d patterns (built once) and a ratio per feature
 * give a row's contributions in d lookups, exact for z_a > 0. */

/* F(pattern) of leaf l: its td_leaf_direct's value for any feature the row disagrees with,
 * negated. */
TD_FUNC double td_leaf_mass(const td_leaves *L, long l, uint64_t pattern)
{
    const int e0 = L->entry[l], d = L->entry[l + 1] - e0, n = (d + 1) / 2;
    const double *t = L->rule_t + n * (n - 1) / 2, *w = L->rule_w + n * (n - 1) / 2;
    const double *z = L->z + e0;
    double zb = L->value[l], sum = 0.0;
    int beta = 0, b, k;
    for (b = 0; b < d; b++) {
        if (!((pattern >> b) & 1)) {
            zb *= z[b];
            beta++;
        }
    }
    if (beta == 0 || zb == 0.0) /* no feature to charge / no coalition reaches the leaf */
        return 0.0;
    for (k = 0; k < n; k++) {
        double g = w[k], omt = 1.0 - t[k];
        for (b = 0; b < d; b++)
            g *= (pattern >> b) & 1 ? t[k] + z[b] * omt : 1.0;
        for (b = 1; b < beta; b++)
            g *= omt;
        sum += g;
    }
    return zb * sum;
}

/* Add the contributions of a leaf of d distinct path features (feature[b]) to phi, from its
 * table of F and ratios (1 - z) / z, for a row agreeing with those `pattern` sets. */
TD_FUNC void td_leaf_lookup(const int *feature, const double *ratio, const double *table, int d,
                            uint64_t pattern, double *phi)
{
    const double cold = -table[pattern];
    int b;
    for (b = 0; b < d; b++) { /* both sides computed, one kept: no branch to mispredict */
        const double in = (double)((pattern >> b) & 1);
        const double hot = ratio[b] * table[pattern & ~((uint64_t)1 << b)];
        phi[feature[b]] += in * hot + (1.0 - in) * cold; /* exactly hot or cold */
    }
}

/* ---- the tables of a model's listed trees
 *
 * A block of a tree (explain.py: tree_blocks) gets its contributions tabulated for every key
 * (td_block_key: the row's agreement with the path above it, its decisions inside), while the
 * tables hold at most the `tables` values Trees was given: a row then costs a lookup a block.
 * A leaf no block table covers, of at most TD_LEAF_TABLE_FEATURES distinct features on its
 * path and none of zero share, gets a table of td_leaf_mass over the patterns of the row's
 * agreement with them (td_leaf_lookup), the fewest features first, within the `tables`
 * values Trees was given (as many again as the blocks' tables). */
#define TD_LEAF_TABLE_FEATURES 12

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
} td_blocks;

/* The trees listed leaf by leaf, their blocks, what a row computes of them and the tables.
 * The arrays from leaves to blocks are the caller's; the others are built by td_build_tables
 * and freed by td_tables_free. */
typedef struct {
    td_leaves leaves; /* trees listed leaf by leaf (leaves.first[t] >= 0) */
    long n_leaves;
    const int *slot; /* per split of a listed tree: its feature's bit in the patterns below */
    td_blocks blocks;
    int *node_leaf;  /* per node: the listed leaf a row computes there, else -1 */
    int *todo_start, *todo;    /* per tree: those leaves, in pre-order */
    int *split_start, *splits; /* per tree: its splits (node indices, pre-order) */
    long *block_off; /* per block: where its table starts in block_tab (-1: none) */
    double *block_tab;
    long *leaf_tab_off; /* per listed leaf: where its table starts in leaf_tab (-1: none) */
    double *leaf_tab, *leaf_ratio; /* leaf_ratio: per entry, (1 - z) / z */
    long table_values; /* in block_tab and leaf_tab */
} td_tables;

TD_FUNC void td_tables_free(td_tables *T)
{
    free(T->block_off);
    free(T->block_tab);
    free(T->leaf_tab_off);
    free(T->leaf_tab);
    free(T->leaf_ratio);
    free(T->node_leaf);
    free(T->todo_start);
    free(T->todo);
    free(T->split_start);
    free(T->splits);
}

/* Each listed tree has as many leaves as it lists, its splits' slots within a word and its
 * blocks' nodes and splits within it. 0, or -1. */
TD_FUNC int td_check_listed(const td_trees *m, const td_tables *T)
{
    const td_leaves *L = &T->leaves;
    const td_blocks *B = &T->blocks;
    for (long t = 0; t < m->n_trees; t++) {
        int end = t + 1 < m->n_trees ? m->roots[t + 1] : (int)m->n_nodes, leaves = 0, splits = 0;
        if (L->first[t] < 0)
            continue;
        for (int n = m->roots[t]; n < end; n++) {
            leaves += m->feature[n] < 0;
            splits += m->feature[n] >= 0;
            if (m->feature[n] >= 0 && (T->slot[n] < 0 || T->slot[n] >= 64))
                return -1;
        }
        /* a block has a leaf at least: at most 65 in a tree of 64 splits (td_small_contrib) */
        if (leaves != L->stop[t] - L->first[t] ||
            (splits <= 64 && B->block_stop[t] - B->block_first[t] > 65))
            return -1;
        for (long k = B->block_first[t]; k < B->block_stop[t]; k++)
            if (B->root[k] < m->roots[t] || B->root[k] + 2L * B->inside_count[k] + 1 > end ||
                B->inside_first[k] + B->inside_count[k] > splits)
                return -1;
    }
    return 0;
}

/* Per tree its splits (node indices, pre-order). 0, or -1 out of memory. */
TD_FUNC int td_map_splits(const td_trees *m, td_tables *T)
{
    int n_splits = 0;
    T->splits = malloc(sizeof(int) * (size_t)(m->n_nodes + 1));
    T->split_start = malloc(sizeof(int) * (size_t)(m->n_trees + 1));
    if (T->splits == NULL || T->split_start == NULL)
        return -1;
    for (long t = 0; t < m->n_trees; t++) {
        int end = t + 1 < m->n_trees ? m->roots[t + 1] : (int)m->n_nodes;
        T->split_start[t] = n_splits;
        for (int n = m->roots[t]; n < end; n++)
            if (m->feature[n] >= 0)
                T->splits[n_splits++] = n;
    }
    T->split_start[m->n_trees] = n_splits;
    return 0;
}

/* The listed leaves a row computes, per node (node_leaf: -1 for a split, a leaf of a walked
 * tree and a leaf of a tabulated block, looked up with its block) and per tree (todo).
 * Called after td_build_block_tables. 0, or -1 out of memory. */
TD_FUNC int td_map_leaves(const td_trees *m, td_tables *T)
{
    const td_blocks *B = &T->blocks;
    char *covered = calloc((size_t)T->n_leaves + 1, 1);
    int n_todo = 0;
    T->node_leaf = malloc(sizeof(int) * (size_t)(m->n_nodes + 1));
    T->todo = malloc(sizeof(int) * (size_t)(m->n_nodes + 1));
    T->todo_start = malloc(sizeof(int) * (size_t)(m->n_trees + 1));
    if (!covered || !T->node_leaf || !T->todo || !T->todo_start) {
        free(covered);
        return -1;
    }
    for (long k = 0; k < B->n_blocks; k++)
        if (T->block_off[k] >= 0)
            for (long l = B->leaf_first[k]; l < B->leaf_stop[k]; l++)
                covered[l] = 1;
    for (long t = 0; t < m->n_trees; t++) {
        int end = t + 1 < m->n_trees ? m->roots[t + 1] : (int)m->n_nodes;
        int l = T->leaves.first[t]; /* pre-order: the listed leaves in order */
        T->todo_start[t] = n_todo;
        for (int n = m->roots[t]; n < end; n++) {
            T->node_leaf[n] = -1;
            if (m->feature[n] < 0 && l >= 0 && !covered[l++])
                T->todo[n_todo++] = T->node_leaf[n] = l - 1;
        }
    }
    T->todo_start[m->n_trees] = n_todo;
    free(covered);
    return 0;
}

/* Whether leaf l may have a table: d features, within TD_LEAF_TABLE_FEATURES, none of zero z
 * (whose ratio (1 - z) / z does not exist). */
TD_FUNC int td_leaf_tabulable(const td_leaves *L, long l, int d)
{
    if (d < 1 || d > TD_LEAF_TABLE_FEATURES || L->entry[l + 1] - L->entry[l] != d)
        return 0;
    for (int e = L->entry[l]; e < L->entry[l + 1]; e++)
        if (L->z[e] == 0.0)
            return 0;
    return 1;
}

/* The ratios (1 - z) / z of every entry, and the tables of td_leaf_mass of the leaves rows
 * compute (td_map_leaves) that may have one (td_leaf_tabulable), the fewest features first
 * while they hold at most `budget` values: a table's row `pattern` for the row's agreement
 * pattern. 0, or -1 out of memory. */
TD_FUNC int td_build_leaf_tables(const td_trees *m, td_tables *T, long budget)
{
    const td_leaves *L = &T->leaves;
    const long n_entries = L->entry[T->n_leaves];
    long used = 0;
    T->leaf_ratio = malloc(sizeof(double) * (size_t)(n_entries + 1));
    if (T->leaf_ratio == NULL)
        return -1;
    for (long e = 0; e < n_entries; e++)
        T->leaf_ratio[e] = L->z[e] == 0.0 ? 0.0 : (1.0 - L->z[e]) / L->z[e];
    for (int d = 1; d <= TD_LEAF_TABLE_FEATURES; d++)
        for (long n = 0; n < m->n_nodes; n++) {
            const long l = T->node_leaf[n];
            if (l >= 0 && td_leaf_tabulable(L, l, d) && used + (1L << d) <= budget) {
                T->leaf_tab_off[l] = used;
                used += 1L << d;
            }
        }
    T->table_values += used;
    T->leaf_tab = malloc(sizeof(double) * (size_t)(used + 1));
    if (T->leaf_tab == NULL)
        return -1;
    for (long l = 0; l < T->n_leaves; l++) {
        const long d = L->entry[l + 1] - L->entry[l];
        for (uint64_t p = 0; T->leaf_tab_off[l] >= 0 && p < ((uint64_t)1 << d); p++)
            T->leaf_tab[T->leaf_tab_off[l] + (long)p] = td_leaf_mass(L, l, p);
    }
    return 0;
}

/* Block k's key for a row going left at the splits `left` sets: whether it follows the path
 * at every split on the j-th feature split on above the block (bit j), then its decisions at
 * the block's own splits (numbered consecutively). */
TD_FUNC uint64_t td_block_key(const td_blocks *B, long k, uint64_t left)
{
    const int first = B->key_start[k], na = B->key_start[k + 1] - first;
    const int count = B->inside_count[k];
    uint64_t key = ((left >> B->inside_first[k]) & (((uint64_t)1 << count) - 1)) << na;
    for (int j = 0; j < na; j++)
        key |= (uint64_t)(((left ^ B->key_want[first + j]) & B->key_mask[first + j]) == 0) << j;
    return key;
}

/* Add block k's leaves' contributions for a row of that key to its table row (column col[f]
 * for feature f, -1: none): a pass over its nodes as td_large_contrib's, from its root's
 * agreement (the key's low bits for the features split on above it) and the decisions the
 * key's next bits give. agree: scratch of a word a node of the tree. */
TD_FUNC void td_block_row(const td_trees *m, const td_tables *T, long k, uint64_t key,
                          const int *col, uint64_t *agree, double *row)
{
    const td_blocks *B = &T->blocks;
    const td_leaves *L = &T->leaves;
    const int na = B->key_start[k + 1] - B->key_start[k], root = B->root[k];
    long l = B->leaf_first[k];
    int bit = na;
    double out[64];
    agree[0] = key | (~(uint64_t)0 << na); /* features first split on below: agreed so far */
    for (int n = root; n < root + 2 * B->inside_count[k] + 1; n++) {
        const uint64_t a = agree[n - root];
        if (m->feature[n] >= 0) {
            const int goes = (key >> bit++) & 1;
            const uint64_t off = a & ~((uint64_t)1 << T->slot[n]);
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
 * (td_block_key). 0, or -1 out of memory. */
TD_FUNC int td_build_block_tables(const td_trees *m, td_tables *T, long budget)
{
    const td_blocks *B = &T->blocks;
    long used = 0;
    uint64_t *agree = malloc(sizeof(uint64_t) * (size_t)m->max_nodes);
    int *col = malloc(sizeof(int) * (size_t)(m->n_features + 1));
    T->block_off = malloc(sizeof(long) * (size_t)(B->n_blocks + 1));
    if (T->block_off == NULL || agree == NULL || col == NULL)
        goto nomem;
    for (int f = 0; f < m->n_features; f++)
        col[f] = -1;
    for (long k = 0; k < B->n_blocks; k++) {
        long nk = B->key_start[k + 1] - B->key_start[k] + B->inside_count[k];
        long u = B->feat_start[k + 1] - B->feat_start[k];
        T->block_off[k] = -1;
        if ((u << nk) + used <= budget) {
            T->block_off[k] = used;
            used += u << nk;
        }
    }
    T->table_values += used;
    T->block_tab = calloc((size_t)(used + 1), sizeof(double));
    if (T->block_tab == NULL)
        goto nomem;
    for (long k = 0; k < B->n_blocks; k++) {
        const int nk = B->key_start[k + 1] - B->key_start[k] + B->inside_count[k];
        const int u = B->feat_start[k + 1] - B->feat_start[k];
        const int *feats = B->feats + B->feat_start[k];
        for (int j = 0; j < u; j++)
            col[feats[j]] = j;
        for (uint64_t key = 0; T->block_off[k] >= 0 && key < ((uint64_t)1 << nk); key++)
            td_block_row(m, T, k, key, col, agree, T->block_tab + T->block_off[k] + (long)key * u);
        for (int j = 0; j < u; j++)
            col[feats[j]] = -1;
    }
    free(agree);
    free(col);
    return 0;
nomem:
    free(agree);
    free(col);
    return -1;
}

/* The blocks' tables, which leaf each node computes and the leaves' tables, each at most
 * `tables` values, for T's leaves and blocks (td_check_listed). 0, or -1 out of memory. */
TD_FUNC int td_build_tables(const td_trees *m, td_tables *T, long tables)
{
    T->leaf_tab_off = malloc(sizeof(long) * (size_t)(T->n_leaves + 1));
    if (T->leaf_tab_off == NULL)
        return -1;
    for (long l = 0; l < T->n_leaves; l++)
        T->leaf_tab_off[l] = -1;
    if (td_map_splits(m, T) < 0 || td_build_block_tables(m, T, tables) < 0 ||
        td_map_leaves(m, T) < 0 || td_build_leaf_tables(m, T, tables) < 0)
        return -1;
    return 0;
}

/* ---- a row's contributions from the tables */

#if defined(__GNUC__)
#define TD_PREFETCH(p) __builtin_prefetch(p)
#else
#define TD_PREFETCH(p) ((void)(p))
#endif

/* Add listed leaf l's contributions to phi for a row agreeing with the path's features
 * `pattern` sets: from its table, else computed. */
TD_FUNC void td_add_leaf(const td_tables *T, long l, uint64_t pattern, double *phi)
{
    const td_leaves *L = &T->leaves;
    const int e0 = L->entry[l], d = L->entry[l + 1] - e0;
    double out[64];
    pattern &= d < 64 ? ((uint64_t)1 << d) - 1 : ~(uint64_t)0; /* bits of the path's features */
    if (T->leaf_tab_off[l] >= 0) {
        td_leaf_lookup(L->feature + e0, T->leaf_ratio + e0, T->leaf_tab + T->leaf_tab_off[l], d,
                       pattern, phi);
        return;
    }
    td_leaf_direct(L, l, pattern, out);
    for (int b = 0; b < d; b++)
        phi[L->feature[e0 + b]] += out[b];
}

/* Bit b set iff row x goes left at the b-th split of tree t (of at most 64). */
TD_FUNC uint64_t td_left_bits(const td_trees *m, const td_tables *T, long t, const double *x)
{
    const int *split = T->splits + T->split_start[t];
    const int n = T->split_start[t + 1] - T->split_start[t];
    const int *feature = m->feature;
    uint64_t bits = 0;
    for (int b = 0; b < n; b++)
        bits |= (uint64_t)TD_LEFT(m->rules, split[b], x[feature[split[b]]]) << b;
    return bits;
}

/* Add listed tree t's contributions for row x to phi, for a tree of at most 64 splits: from
 * the row's decisions at them, a lookup a tabulated block and its other leaves one by one. */
TD_FUNC void td_small_contrib(const td_trees *m, const td_tables *T, long t, const double *x,
                              double *phi)
{
    const td_blocks *B = &T->blocks;
    const uint64_t left = td_left_bits(m, T, t, x);
    const long k0 = B->block_first[t], n_blocks = B->block_stop[t] - k0;
    const double *row[65]; /* a block has a leaf at least */
    for (long i = 0; i < n_blocks; i++) { /* fetch the rows early: large tables miss the caches */
        const long k = k0 + i, u = B->feat_start[k + 1] - B->feat_start[k];
        row[i] = NULL;
        if (T->block_off[k] >= 0) { /* else its leaves are in todo */
            row[i] = T->block_tab + T->block_off[k] + (long)td_block_key(B, k, left) * u;
            TD_PREFETCH(row[i]);
        }
    }
    for (int i = T->todo_start[t]; i < T->todo_start[t + 1]; i++) {
        const int l = T->todo[i];
        td_add_leaf(T, l, td_leaf_pattern(&T->leaves, l, left), phi);
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
TD_FUNC void td_large_contrib(const td_trees *m, const td_tables *T, long t, const double *x,
                              double *phi, uint64_t *agree, unsigned char *dec)
{
    const td_blocks *B = &T->blocks;
    const int root = m->roots[t], end = t + 1 < m->n_trees ? m->roots[t + 1] : (int)m->n_nodes;
    int b = 0;
    agree[0] = ~(uint64_t)0;
    for (int n = root; n < end; n++) {
        const uint64_t a = agree[n - root];
        if (m->feature[n] >= 0) {
            const int goes = dec[b++] = (unsigned char)TD_LEFT(m->rules, n, x[m->feature[n]]);
            const uint64_t off = a & ~((uint64_t)1 << T->slot[n]);
            agree[n + 1 - root] = goes ? a : off;
            agree[m->right[n] - root] = goes ? off : a;
        } else if (T->node_leaf[n] >= 0) {
            td_add_leaf(T, T->node_leaf[n], a, phi);
        }
    }
    for (long k = B->block_first[t]; k < B->block_stop[t]; k++) {
        const int na = B->key_start[k + 1] - B->key_start[k];
        const int u = B->feat_start[k + 1] - B->feat_start[k], *feats = B->feats + B->feat_start[k];
        const unsigned char *inside = dec + B->inside_first[k];
        uint64_t key = agree[B->root[k] - root] & (((uint64_t)1 << na) - 1);
        const double *row;
        if (T->block_off[k] < 0) /* its leaves were computed in the pass */
            continue;
        for (int i = 0; i < B->inside_count[k]; i++)
            key |= (uint64_t)inside[i] << (na + i);
        row = T->block_tab + T->block_off[k] + (long)key * u;
        for (int j = 0; j < u; j++)
            phi[feats[j]] += row[j];
    }
}

/* Add tree t's contributions for row x to phi: listed, or walked. s: the walk's scratch;
 * agree, dec: td_large_contrib's. */
TD_FUNC void td_listed_contrib(const td_trees *m, const td_tables *T, long t, const double *x,
                               double *phi, td_scratch *s, uint64_t *agree, unsigned char *dec)
{
    if (T->leaves.first[t] < 0)
        td_tree_contrib(m, t, x, phi, s);
    else if (T->split_start[t + 1] - T->split_start[t] <= 64)
        td_small_contrib(m, T, t, x, phi);
    else
        td_large_contrib(m, T, t, x, phi, agree, dec);
}

#endif /* TD_SHAPTABLES_H */
