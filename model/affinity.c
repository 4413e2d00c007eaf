/* affinity.c - two towers, per-task dot heads, weighted cross-entropy.
 *
 * Forward gathers the id rows of the batch into dense (B, E) matrices, runs
 * each tower as two BLAS matrix products, and takes per-task dot heads.
 * Backward runs the same path in reverse and scatters the (B, E) input
 * gradient back into the tables' sparse gradient slots; a member seen twice
 * in a batch accumulates both. All dense parameters, their gradients and
 * Adam's moments sit in one allocation indexed by named pointers. */
#include "model/affinity.h"

#include "common/util.h"
#include "model/layers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_INIT_SCALE 0.5f
#define TABLE_EPS 1e-8f

/* Points p's fields into base (NULL: only counts). Returns the float count. */
static size_t point_params(aff_params *p, float *base, int E, int H, int D, int T)
{
    size_t sizes[] = {(size_t)H * E, (size_t)H,     (size_t)D * H, (size_t)D, (size_t)H * E,
                      (size_t)H,     (size_t)D * H, (size_t)D,     (size_t)T, (size_t)T};
    float **ptrs[] = {&p->m_w1, &p->m_b1, &p->m_w2, &p->m_b2,  &p->c_w1,
                      &p->c_b1, &p->c_w2, &p->c_b2, &p->scale, &p->bias};
    size_t off = 0;
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
        if (base)
            *ptrs[i] = base + off;
        off += sizes[i];
    }
    return off;
}

static void init_uniform(float *w, size_t n, float bound, mts_rng *r)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (float)((2.0 * rng_uniform(r) - 1.0) * bound);
}

int affinity_init(affinity *a, int E, int H, int D, int T, uint32_t capacity, float lr_dense,
                  float lr_table, uint64_t seed, char *err, size_t errlen)
{
    memset(a, 0, sizeof(*a));
    if (E < 1 || H < 1 || D < 1 || E > AFF_MAX_WIDTH || H > AFF_MAX_WIDTH || D > AFF_MAX_WIDTH ||
        T < 1) {
        snprintf(err, errlen,
                 "affinity sizes out of range (id_dim %d, hidden %d, dim %d, tasks %d; max %d)", E,
                 H, D, T, AFF_MAX_WIDTH);
        return -1;
    }
    if (embtable_init(&a->members, E, capacity, ID_INIT_SCALE, seed ^ 0x6d656d62ULL, err, errlen) <
            0 ||
        embtable_init(&a->companies, E, capacity, ID_INIT_SCALE, seed ^ 0x636f6d70ULL, err,
                      errlen) < 0)
        return -1;
    a->E = E;
    a->H = H;
    a->D = D;
    a->T = T;
    a->lr_table = lr_table;
    a->n_params = point_params(&a->p, NULL, E, H, D, T);
    a->mem = xcalloc(4 * a->n_params, sizeof(float));
    point_params(&a->p, a->mem, E, H, D, T);
    point_params(&a->g, a->mem + a->n_params, E, H, D, T);
    a->adam_m = a->mem + 2 * a->n_params;
    a->adam_v = a->mem + 3 * a->n_params;
    adam_init(&a->adam, lr_dense);

    /* He-uniform for the ReLU layer, variance-preserving for the linear
     * output layer; biases 0, head scales 1. */
    mts_rng r;
    rng_seed(&r, mix64(seed ^ 0xaff1417eULL));
    init_uniform(a->p.m_w1, (size_t)H * E, sqrtf(6.0f / E), &r);
    init_uniform(a->p.m_w2, (size_t)D * H, sqrtf(3.0f / H), &r);
    init_uniform(a->p.c_w1, (size_t)H * E, sqrtf(6.0f / E), &r);
    init_uniform(a->p.c_w2, (size_t)D * H, sqrtf(3.0f / H), &r);
    for (int t = 0; t < T; t++)
        a->p.scale[t] = 1.0f;
    return 0;
}

static void free_activations(affinity *a)
{
    free(a->mrow);
    free(a->crow);
    free(a->task);
    free(a->y);
    free(a->w);
    free(a->xm);
    free(a->xc);
    free(a->hm);
    free(a->hc);
    free(a->om);
    free(a->oc);
    free(a->dot);
    free(a->logit);
    free(a->dlogit);
    free(a->dom);
    free(a->doc);
    free(a->dh);
    free(a->dpre);
    free(a->dx);
}

void affinity_free(affinity *a)
{
    embtable_free(&a->members);
    embtable_free(&a->companies);
    free(a->mem);
    free_activations(a);
    memset(a, 0, sizeof(*a));
}

static void reserve(affinity *a, int B)
{
    if (B <= a->cap)
        return;
    int cap = a->cap ? a->cap : 256;
    while (cap < B)
        cap *= 2;
    free_activations(a);
    size_t c = (size_t)cap, E = (size_t)a->E, H = (size_t)a->H, D = (size_t)a->D;
    a->mrow = xmalloc(c * sizeof(int32_t));
    a->crow = xmalloc(c * sizeof(int32_t));
    a->task = xmalloc(c * sizeof(int));
    a->y = xmalloc(c * sizeof(float));
    a->w = xmalloc(c * sizeof(float));
    a->xm = xmalloc(c * E * sizeof(float));
    a->xc = xmalloc(c * E * sizeof(float));
    a->hm = xmalloc(c * H * sizeof(float));
    a->hc = xmalloc(c * H * sizeof(float));
    a->om = xmalloc(c * D * sizeof(float));
    a->oc = xmalloc(c * D * sizeof(float));
    a->dot = xmalloc(c * sizeof(float));
    a->logit = xmalloc(c * sizeof(float));
    a->dlogit = xmalloc(c * sizeof(float));
    a->dom = xmalloc(c * D * sizeof(float));
    a->doc = xmalloc(c * D * sizeof(float));
    a->dh = xmalloc(c * H * sizeof(float));
    a->dpre = xmalloc(c * H * sizeof(float));
    a->dx = xmalloc(c * E * sizeof(float));
    a->cap = cap;
}

/* out = W2 relu(W1 x + b1) + b2 + x[:min(D, E)]; h keeps the ReLU output.
 * The skip connection lets each id row act directly as a factor, as in a
 * plain factorisation: without it, the rarely updated id rows must chase a
 * shared MLP that changes every step, and learning was slow and fragile. */
static void tower_forward(float *out /* (B, D) */, float *h /* (B, H) */,
                          const float *x /* (B, E) */, const float *w1, const float *b1,
                          const float *w2, const float *b2, int B, int E, int H, int D)
{
    dense_forward(h, x, w1, b1, B, E, H);
    relu_forward(h, h, B * H);
    dense_forward(out, h, w2, b2, B, H, D);
    int S = D < E ? D : E;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < S; k++)
            out[(size_t)b * D + k] += x[(size_t)b * E + k];
}

/* dx is overwritten (not accumulated): it is scratch for the scatter. */
static void tower_backward(float *dx /* (B, E) */, float *dw1, float *db1, float *dw2, float *db2,
                           float *dh /* (B, H) scratch */, float *dpre /* (B, H) scratch */,
                           const float *dout /* (B, D) */, const float *x, const float *h,
                           const float *w1, const float *w2, int B, int E, int H, int D)
{
    memset(dh, 0, (size_t)B * H * sizeof(float));
    memset(dpre, 0, (size_t)B * H * sizeof(float));
    memset(dx, 0, (size_t)B * E * sizeof(float));
    dense_backward(dh, dw2, db2, dout, h, w2, B, H, D);
    relu_backward(dpre, dh, h, B * H);
    dense_backward(dx, dw1, db1, dpre, x, w1, B, E, H);
    int S = D < E ? D : E;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < S; k++)
            dx[(size_t)b * E + k] += dout[(size_t)b * D + k];
}

static void gather(float *x /* (B, E) */, int32_t *rows, embtable *t, const int64_t *ids, int B,
                   int create)
{
    size_t E = (size_t)t->dim;
    for (int b = 0; b < B; b++) {
        int32_t r = create ? embtable_get(t, ids[b]) : embtable_find(t, ids[b]);
        rows[b] = r;
        if (r >= 0)
            memcpy(x + b * E, embtable_row(t, r), E * sizeof(float));
        else
            memset(x + b * E, 0, E * sizeof(float));
    }
}

float affinity_forward(affinity *a, const int64_t *member, const int64_t *company, const int *task,
                       const float *y, const float *w, int B, int create)
{
    reserve(a, B);
    a->B = B;
    memcpy(a->task, task, (size_t)B * sizeof(int));
    if (y && w) {
        memcpy(a->y, y, (size_t)B * sizeof(float));
        memcpy(a->w, w, (size_t)B * sizeof(float));
    } else { /* scoring only: a zero-weight loss keeps backward harmless */
        memset(a->y, 0, (size_t)B * sizeof(float));
        memset(a->w, 0, (size_t)B * sizeof(float));
    }
    gather(a->xm, a->mrow, &a->members, member, B, create);
    gather(a->xc, a->crow, &a->companies, company, B, create);
    const aff_params *p = &a->p;
    tower_forward(a->om, a->hm, a->xm, p->m_w1, p->m_b1, p->m_w2, p->m_b2, B, a->E, a->H, a->D);
    tower_forward(a->oc, a->hc, a->xc, p->c_w1, p->c_b1, p->c_w2, p->c_b2, B, a->E, a->H, a->D);
    dot_head_forward(a->logit, a->dot, a->om, a->oc, a->task, p->scale, p->bias, B, a->D);
    return bce_forward(NULL, a->logit, a->y, a->w, B);
}

static void scatter(embtable *t, const int32_t *rows, const float *dx /* (B, E) */, int B)
{
    size_t E = (size_t)t->dim;
    for (int b = 0; b < B; b++) {
        if (rows[b] < 0)
            continue;
        float *g = embtable_grad(t, rows[b]);
        const float *d = dx + b * E;
        for (size_t i = 0; i < E; i++)
            g[i] += d[i];
    }
}

void affinity_backward(affinity *a)
{
    int B = a->B, E = a->E, H = a->H, D = a->D;
    memset(a->mem + a->n_params, 0, a->n_params * sizeof(float));
    embtable_clear_grad(&a->members);
    embtable_clear_grad(&a->companies);
    memset(a->dlogit, 0, (size_t)B * sizeof(float));
    memset(a->dom, 0, (size_t)B * D * sizeof(float));
    memset(a->doc, 0, (size_t)B * D * sizeof(float));
    bce_backward(a->dlogit, a->logit, a->y, a->w, B);
    dot_head_backward(a->dom, a->doc, a->g.scale, a->g.bias, a->dlogit, a->dot, a->om, a->oc,
                      a->task, a->p.scale, B, D);
    tower_backward(a->dx, a->g.m_w1, a->g.m_b1, a->g.m_w2, a->g.m_b2, a->dh, a->dpre, a->dom, a->xm,
                   a->hm, a->p.m_w1, a->p.m_w2, B, E, H, D);
    scatter(&a->members, a->mrow, a->dx, B);
    tower_backward(a->dx, a->g.c_w1, a->g.c_b1, a->g.c_w2, a->g.c_b2, a->dh, a->dpre, a->doc, a->xc,
                   a->hc, a->p.c_w1, a->p.c_w2, B, E, H, D);
    scatter(&a->companies, a->crow, a->dx, B);
}

void affinity_update(affinity *a)
{
    adam_update(&a->adam, a->mem, a->mem + a->n_params, a->adam_m, a->adam_v, a->n_params);
    embtable_adagrad(&a->members, a->lr_table, TABLE_EPS);
    embtable_adagrad(&a->companies, a->lr_table, TABLE_EPS);
    for (int b = 0; b < a->B; b++) {
        if (a->mrow[b] >= 0)
            a->members.events[a->mrow[b]]++;
        if (a->crow[b] >= 0)
            a->companies.events[a->crow[b]]++;
    }
}

void affinity_embed(const affinity *a, int which, int32_t row, float *out)
{
    const embtable *t = which ? &a->companies : &a->members;
    const float *w1 = which ? a->p.c_w1 : a->p.m_w1, *b1 = which ? a->p.c_b1 : a->p.m_b1;
    const float *w2 = which ? a->p.c_w2 : a->p.m_w2, *b2 = which ? a->p.c_b2 : a->p.m_b2;
    const float *x = embtable_row(t, row);
    float h[AFF_MAX_WIDTH];
    int E = a->E, H = a->H, D = a->D;
    /* the same sums as the BLAS path, in plain loops: one row is too small
     * for sgemm to pay off (results may differ in the last bit) */
    for (int j = 0; j < H; j++) {
        float s = b1[j];
        for (int i = 0; i < E; i++)
            s += w1[(size_t)j * E + i] * x[i];
        h[j] = s > 0.0f ? s : 0.0f;
    }
    for (int k = 0; k < D; k++) {
        float s = b2[k];
        for (int j = 0; j < H; j++)
            s += w2[(size_t)k * H + j] * h[j];
        out[k] = s + (k < E ? x[k] : 0.0f);
    }
}
