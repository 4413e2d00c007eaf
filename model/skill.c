/* skill.c - contextual skill model: entity embedding x hashed n-gram context.
 *
 * Per candidate the features are a bag of n-gram buckets (skill_featurize);
 * forward gathers their table rows into (N, K), mean-pools per candidate,
 * concatenates [e, q, e*q] so the shared layer can see entity-context
 * interactions ("Spark" near "data" vs near "wires"), applies one ReLU
 * layer shared by all domains and an output vector that is the sum of a
 * shared part and the domain's own part. Backward returns the pooled
 * gradient to the n-gram rows and the entity row (sparse Adagrad); the
 * dense part (including every domain's part) is one Adam block. */
#include "model/skill.h"

#include "common/util.h"
#include "model/layers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SKILL_ID_INIT 0.1f
#define TABLE_EPS 1e-8f

static size_t point_params(skill_params *p, float *base, int K, int H)
{
    size_t sizes[] = {(size_t)H * 3 * K, (size_t)H, (size_t)H, 1, (size_t)SKILL_MAX_DOMAINS * H, SKILL_MAX_DOMAINS};
    float **ptrs[] = {&p->w1, &p->b1, &p->w2, &p->b2, &p->dom_w, &p->dom_b};
    size_t off = 0;
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
        if (base)
            *ptrs[i] = base + off;
        off += sizes[i];
    }
    return off;
}

int skill_init(skill *s, int K, int H, uint32_t buckets, uint32_t capacity, float lr_dense, float lr_table,
               uint64_t seed, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (K < 1 || K > 1024 || H < 1 || H > 1024 || buckets < 1) {
        snprintf(err, errlen, "skill sizes out of range (skill_dim %d, hidden %d, ngram_buckets %u)", K, H, buckets);
        return -1;
    }
    if (embtable_init(&s->entities, K, capacity, SKILL_ID_INIT, seed ^ 0x736b696cULL, err, errlen) < 0 ||
        embtable_init(&s->ngrams, K, buckets, SKILL_ID_INIT, seed ^ 0x6e6772616dULL, err, errlen) < 0)
        return -1;
    s->K = K;
    s->H = H;
    s->buckets = buckets;
    s->lr_table = lr_table;
    s->n_params = point_params(&s->p, NULL, K, H);
    s->mem = xcalloc(4 * s->n_params, sizeof(float));
    point_params(&s->p, s->mem, K, H);
    point_params(&s->g, s->mem + s->n_params, K, H);
    s->adam_m = s->mem + 2 * s->n_params;
    s->adam_v = s->mem + 3 * s->n_params;
    adam_init(&s->adam, lr_dense);
    mts_rng r;
    rng_seed(&r, mix64(seed ^ 0x5c111ULL));
    float b1 = sqrtf(6.0f / (3.0f * K)), b2 = sqrtf(3.0f / H);
    for (size_t i = 0; i < (size_t)H * 3 * K; i++)
        s->p.w1[i] = (float)((2.0 * rng_uniform(&r) - 1.0) * b1);
    for (int i = 0; i < H; i++)
        s->p.w2[i] = (float)((2.0 * rng_uniform(&r) - 1.0) * b2);
    return 0;
}

static void free_activations(skill *s)
{
    free(s->erow);
    free(s->dom);
    free(s->y);
    free(s->w);
    free(s->offsets);
    free(s->q);
    free(s->x);
    free(s->h);
    free(s->logit);
    free(s->dlogit);
    free(s->dh);
    free(s->dpre);
    free(s->dx);
    free(s->dq);
}

void skill_free(skill *s)
{
    embtable_free(&s->entities);
    embtable_free(&s->ngrams);
    free(s->mem);
    free_activations(s);
    free(s->nrow);
    free(s->ng);
    free(s->dng);
    memset(s, 0, sizeof(*s));
}

static void reserve(skill *s, int B, int N)
{
    if (B > s->cap) {
        int cap = s->cap ? s->cap : 256;
        while (cap < B)
            cap *= 2;
        free_activations(s);
        size_t c = (size_t)cap, K = (size_t)s->K, H = (size_t)s->H;
        s->erow = xmalloc(c * sizeof(int32_t));
        s->dom = xmalloc(c * sizeof(int));
        s->y = xmalloc(c * sizeof(float));
        s->w = xmalloc(c * sizeof(float));
        s->offsets = xmalloc((c + 1) * sizeof(int));
        s->q = xmalloc(c * K * sizeof(float));
        s->x = xmalloc(c * 3 * K * sizeof(float));
        s->h = xmalloc(c * H * sizeof(float));
        s->logit = xmalloc(c * sizeof(float));
        s->dlogit = xmalloc(c * sizeof(float));
        s->dh = xmalloc(c * H * sizeof(float));
        s->dpre = xmalloc(c * H * sizeof(float));
        s->dx = xmalloc(c * 3 * K * sizeof(float));
        s->dq = xmalloc(c * K * sizeof(float));
        s->cap = cap;
    }
    if (N > s->ncap) {
        int cap = s->ncap ? s->ncap : 4096;
        while (cap < N)
            cap *= 2;
        size_t c = (size_t)cap, K = (size_t)s->K;
        s->nrow = xrealloc(s->nrow, c * sizeof(int32_t));
        s->ng = xrealloc(s->ng, c * K * sizeof(float));
        s->dng = xrealloc(s->dng, c * K * sizeof(float));
        s->ncap = cap;
    }
}

static uint32_t bucket_of(const skill *s, const char *p, size_t n, uint64_t salt)
{
    return (uint32_t)(mix64(hash64(p, n) ^ salt) % s->buckets);
}

int skill_featurize(const skill *s, const mts_str *tokens, uint32_t ntok, int64_t span_start, int64_t span_end,
                    uint32_t *out)
{
    if (!tokens || ntok == 0)
        return 0;
    int64_t st = span_start < 0 ? 0 : span_start > (int64_t)ntok ? (int64_t)ntok : span_start;
    int64_t en = span_end < st ? st : span_end > (int64_t)ntok ? (int64_t)ntok : span_end;
    if (en - st > SKILL_SPAN_WORDS)
        en = st + SKILL_SPAN_WORDS;
    int64_t lo = st - SKILL_WINDOW < 0 ? 0 : st - SKILL_WINDOW;
    int64_t hi = en + SKILL_WINDOW > (int64_t)ntok ? (int64_t)ntok : en + SKILL_WINDOW;
    int n = 0;
    char word[SKILL_MAX_WORD + 2];
    for (int64_t i = lo; i < hi; i++) {
        const mts_str *t = &tokens[i];
        if (!t->p || t->len == 0)
            continue;
        size_t len = t->len > SKILL_MAX_WORD ? SKILL_MAX_WORD : t->len;
        word[0] = '<';
        memcpy(word + 1, t->p, len);
        word[len + 1] = '>';
        uint64_t salt = (i >= st && i < en) ? 0x5fa4ULL : 0xc047ULL; /* span vs context */
        for (size_t j = 0; j + 3 <= len + 2; j++)
            out[n++] = bucket_of(s, word + j, 3, salt);
    }
    return n;
}

int skill_domain(skill *s, const char *name, uint32_t len, int create)
{
    char key[64];
    size_t n = len < sizeof(key) - 1 ? len : sizeof(key) - 1; /* longer names are told apart by 63 bytes */
    memcpy(key, name ? name : "", name ? n : 0);
    key[name ? n : 0] = '\0';
    for (int d = 0; d < s->n_domains; d++)
        if (!strcmp(s->domains[d], key))
            return d;
    if (!create)
        return -1;
    if (s->n_domains == SKILL_MAX_DOMAINS) {
        s->domains_refused++;
        return -1;
    }
    strcpy(s->domains[s->n_domains], key);
    return s->n_domains++;
}

float skill_forward(skill *s, const int64_t *entity, const int *dom, const uint32_t *buckets, const int *offsets,
                    const float *y, const float *w, int B, int create)
{
    int N = offsets[B], K = s->K, H = s->H;
    reserve(s, B, N);
    s->B = B;
    s->N = N;
    memcpy(s->dom, dom, (size_t)B * sizeof(int));
    memcpy(s->offsets, offsets, (size_t)(B + 1) * sizeof(int));
    if (y && w) {
        memcpy(s->y, y, (size_t)B * sizeof(float));
        memcpy(s->w, w, (size_t)B * sizeof(float));
    } else {
        memset(s->y, 0, (size_t)B * sizeof(float));
        memset(s->w, 0, (size_t)B * sizeof(float));
    }
    for (int j = 0; j < N; j++) {
        int32_t r = create ? embtable_get(&s->ngrams, buckets[j]) : embtable_find(&s->ngrams, buckets[j]);
        s->nrow[j] = r;
        if (r >= 0)
            memcpy(s->ng + (size_t)j * K, embtable_row(&s->ngrams, r), (size_t)K * sizeof(float));
        else
            memset(s->ng + (size_t)j * K, 0, (size_t)K * sizeof(float));
    }
    meanpool_forward(s->q, s->ng, s->offsets, B, K);
    for (int b = 0; b < B; b++) {
        int32_t r = create ? embtable_get(&s->entities, entity[b]) : embtable_find(&s->entities, entity[b]);
        s->erow[b] = r;
        float *x = s->x + (size_t)b * 3 * K;
        const float *q = s->q + (size_t)b * K;
        if (r >= 0)
            memcpy(x, embtable_row(&s->entities, r), (size_t)K * sizeof(float));
        else
            memset(x, 0, (size_t)K * sizeof(float));
        for (int i = 0; i < K; i++) {
            x[K + i] = q[i];
            x[2 * K + i] = x[i] * q[i];
        }
    }
    dense_forward(s->h, s->x, s->p.w1, s->p.b1, B, 3 * K, H);
    relu_forward(s->h, s->h, B * H);
    for (int b = 0; b < B; b++) {
        const float *h = s->h + (size_t)b * H;
        int d = s->dom[b];
        float z = s->p.b2[0];
        for (int i = 0; i < H; i++)
            z += s->p.w2[i] * h[i];
        if (d >= 0) {
            const float *u = s->p.dom_w + (size_t)d * H;
            for (int i = 0; i < H; i++)
                z += u[i] * h[i];
            z += s->p.dom_b[d];
        }
        s->logit[b] = z;
    }
    return bce_forward(NULL, s->logit, s->y, s->w, B);
}

void skill_backward(skill *s)
{
    int B = s->B, N = s->N, K = s->K, H = s->H;
    memset(s->mem + s->n_params, 0, s->n_params * sizeof(float));
    embtable_clear_grad(&s->entities);
    embtable_clear_grad(&s->ngrams);
    memset(s->dlogit, 0, (size_t)B * sizeof(float));
    bce_backward(s->dlogit, s->logit, s->y, s->w, B);
    /* output: logit = <w2 + u_d, h> + b2 + c_d */
    memset(s->dh, 0, (size_t)B * H * sizeof(float));
    for (int b = 0; b < B; b++) {
        float g = s->dlogit[b];
        const float *h = s->h + (size_t)b * H;
        float *dh = s->dh + (size_t)b * H;
        int d = s->dom[b];
        for (int i = 0; i < H; i++) {
            s->g.w2[i] += g * h[i];
            dh[i] += g * s->p.w2[i];
        }
        s->g.b2[0] += g;
        if (d >= 0) {
            const float *u = s->p.dom_w + (size_t)d * H;
            float *du = s->g.dom_w + (size_t)d * H;
            for (int i = 0; i < H; i++) {
                du[i] += g * h[i];
                dh[i] += g * u[i];
            }
            s->g.dom_b[d] += g;
        }
    }
    memset(s->dpre, 0, (size_t)B * H * sizeof(float));
    relu_backward(s->dpre, s->dh, s->h, B * H);
    memset(s->dx, 0, (size_t)B * 3 * K * sizeof(float));
    dense_backward(s->dx, s->g.w1, s->g.b1, s->dpre, s->x, s->p.w1, B, 3 * K, H);
    /* x = [e, q, e*q]: de = dx_e + dx_eq * q, dq = dx_q + dx_eq * e */
    for (int b = 0; b < B; b++) {
        const float *x = s->x + (size_t)b * 3 * K, *dx = s->dx + (size_t)b * 3 * K;
        const float *q = s->q + (size_t)b * K;
        float *dq = s->dq + (size_t)b * K;
        for (int i = 0; i < K; i++)
            dq[i] = dx[K + i] + dx[2 * K + i] * x[i];
        if (s->erow[b] >= 0) {
            float *de = embtable_grad(&s->entities, s->erow[b]);
            for (int i = 0; i < K; i++)
                de[i] += dx[i] + dx[2 * K + i] * q[i];
        }
    }
    memset(s->dng, 0, (size_t)N * K * sizeof(float));
    meanpool_backward(s->dng, s->dq, s->offsets, B, K);
    for (int j = 0; j < N; j++) {
        if (s->nrow[j] < 0)
            continue;
        float *g = embtable_grad(&s->ngrams, s->nrow[j]);
        const float *d = s->dng + (size_t)j * K;
        for (int i = 0; i < K; i++)
            g[i] += d[i];
    }
}

void skill_update(skill *s)
{
    adam_update(&s->adam, s->mem, s->mem + s->n_params, s->adam_m, s->adam_v, s->n_params);
    embtable_adagrad(&s->entities, s->lr_table, TABLE_EPS);
    embtable_adagrad(&s->ngrams, s->lr_table, TABLE_EPS);
    for (int b = 0; b < s->B; b++)
        if (s->erow[b] >= 0)
            s->entities.events[s->erow[b]]++;
}
