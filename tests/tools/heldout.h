/* heldout.h - the held-out affinity figure of the tools (exp_affinity,
 * exp_mtl_affinity, e2e_check): how well learned member/company embeddings
 * recover the generator's planted affinity on pairs the stream never showed.
 *
 * How: every (member i, company j) with seen[i * C + j] == 0 (and, when
 * mhave/chave are given, both sides embedded) is a held-out pair; its learned
 * score is the dot product of the two D-float embeddings, its planted value
 * world_affinity(). The pairs are sorted by planted affinity and the bottom
 * and top quartile (q = n / 4 pairs each) kept; the figure is the AUC of the
 * learned score separating top (positive) from bottom (negative), exact
 * by rank sum with ties counted half. NaN when no quartile pair exists. */
#ifndef MTS_TESTS_HELDOUT_H
#define MTS_TESTS_HELDOUT_H

#include "common/util.h"
#include "gen/world.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct {
    const gen_world *w;
    int M, C;                     /* members, companies of w */
    const uint8_t *seen;          /* (M, C): 1 = the pair occurred */
    const float *me, *ce;         /* (M, D), (C, D) embeddings */
    int D;                        /* <= 0: no pairs */
    const uint8_t *mhave, *chave; /* (M), (C) or NULL: 1 = has an embedding */
} heldout_spec;

/* qsort comparator on the first of two doubles (pairs stored as (n, 2)). */
static inline int heldout_cmp2(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Exact rank AUC of scores against binary labels, ties counted half; sorts sy.
 * NaN without both a positive and a negative. */
static inline double heldout_auc_exact(double *sy /* (n, 2): score, label */, size_t n)
{
    qsort(sy, n, 2 * sizeof(double), heldout_cmp2);
    double pos = 0, neg = 0, ranksum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && sy[2 * j] == sy[2 * i])
            j++;
        double r = (i + j + 1) / 2.0; /* mean 1-based rank of the tie group */
        for (size_t k = i; k < j; k++)
            if (sy[2 * k + 1] > 0.5) {
                ranksum += r;
                pos++;
            } else
                neg++;
        i = j;
    }
    return pos && neg ? (ranksum - pos * (pos + 1) / 2) / (pos * neg) : NAN;
}

/* The figure described above; *n_pairs (if not NULL) gets the number of
 * held-out pairs. */
static inline double heldout_quartile_auc(const heldout_spec *h, size_t *n_pairs)
{
    const gen_world *w = h->w;
    int M = h->M, C = h->C, D = h->D;
    size_t n = 0;
    double *p = xmalloc(sizeof(double) * 2 * ((size_t)M * C + 1)); /* (n, 2): planted, learned */
    for (int i = 0; i < M && D > 0; i++)
        for (int j = 0; j < C; j++) {
            if (h->seen[(size_t)i * C + j] || (h->mhave && !h->mhave[i]) ||
                (h->chave && !h->chave[j]))
                continue;
            const float *a = h->me + (size_t)i * D, *b = h->ce + (size_t)j * D;
            double s = 0;
            for (int k = 0; k < D; k++)
                s += (double)a[k] * b[k];
            p[2 * n] = world_affinity(w, world_member_id(w, i), world_company_id(w, j));
            p[2 * n + 1] = s;
            n++;
        }
    qsort(p, n, 2 * sizeof(double), heldout_cmp2);
    size_t q = n / 4;
    double a = NAN;
    if (q) {
        double *sy = xmalloc(sizeof(double) * 4 * q); /* (2q, 2): score, label */
        for (size_t k = 0; k < q; k++) {
            sy[4 * k] = p[2 * k + 1];
            sy[4 * k + 1] = 0;
            sy[4 * k + 2] = p[2 * (n - 1 - k) + 1];
            sy[4 * k + 3] = 1;
        }
        a = heldout_auc_exact(sy, 2 * q);
        free(sy);
    }
    free(p);
    if (n_pairs)
        *n_pairs = n;
    return a;
}

#endif
