/* skill.c - contextual skill model: entity embedding x hashed context bags.
 *
 * Per candidate skill_featurize hashes its words into SKILL_GROUPS bags of
 * table buckets (span, left context, right context, the two neighbours)
 * and computes the position features. Forward gathers the bucket rows
 * into (N, K), mean-pools each bag, concatenates [e, q_0..q_3, f], applies
 * one ReLU layer shared by all domains (plus the domain's own hidden
 * vector) and an output vector that is the sum of a shared part and the
 * domain's own part. Backward returns the pooled gradient to the bucket
 * rows and the entity row (sparse row-wise Adagrad); the dense part
 * (including every domain's part) is one Adam block. Buckets from
 * different bags are salted differently, so "python" as the span and
 * "python" next to it are different rows. */
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
    size_t X = (size_t)(1 + SKILL_GROUPS) * K + SKILL_POS;
    size_t sizes[] = {(size_t)H * X,    (size_t)H, (size_t)SKILL_MAX_DOMAINS * H,
                      (size_t)H,        1,         (size_t)SKILL_MAX_DOMAINS * H,
                      SKILL_MAX_DOMAINS};
    float **ptrs[] = {&p->w1, &p->b1, &p->dom_v, &p->w2, &p->b2, &p->dom_w, &p->dom_b};
    size_t off = 0;
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
        if (base)
            *ptrs[i] = base + off;
        off += sizes[i];
    }
    return off;
}

int skill_init(skill *s, int K, int H, uint32_t buckets, uint32_t capacity, float lr_dense,
               float lr_table, uint64_t seed, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (K < 1 || K > 1024 || H < 1 || H > 1024 || buckets < 1) {
        snprintf(err, errlen,
                 "skill sizes out of range (skill_dim %d, hidden %d, ngram_buckets %u)", K, H,
                 buckets);
        return -1;
    }
    if (embtable_init(&s->entities, K, capacity, SKILL_ID_INIT, seed ^ 0x736b696cULL, err, errlen) <
            0 ||
        embtable_init(&s->ngrams, K, buckets, SKILL_ID_INIT, seed ^ 0x6e6772616dULL, err, errlen) <
            0)
        return -1;
    s->K = K;
    s->H = H;
    s->X = (1 + SKILL_GROUPS) * K + SKILL_POS;
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
    float b1 = sqrtf(6.0f / (float)s->X), b2 = sqrtf(3.0f / H);
    for (size_t i = 0; i < (size_t)H * s->X; i++)
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
        size_t c = (size_t)cap, K = (size_t)s->K, H = (size_t)s->H, X = (size_t)s->X,
               G = SKILL_GROUPS;
        s->erow = xmalloc(c * sizeof(int32_t));
        s->dom = xmalloc(c * sizeof(int));
        s->y = xmalloc(c * sizeof(float));
        s->w = xmalloc(c * sizeof(float));
        s->offsets = xmalloc((c * G + 1) * sizeof(int));
        s->q = xmalloc(c * G * K * sizeof(float));
        s->x = xmalloc(c * X * sizeof(float));
        s->h = xmalloc(c * H * sizeof(float));
        s->logit = xmalloc(c * sizeof(float));
        s->dlogit = xmalloc(c * sizeof(float));
        s->dh = xmalloc(c * H * sizeof(float));
        s->dpre = xmalloc(c * H * sizeof(float));
        s->dx = xmalloc(c * X * sizeof(float));
        s->dq = xmalloc(c * G * K * sizeof(float));
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

/* Salts of the bags: the same text in two bags lands in two rows. */
static const uint64_t bag_salt[SKILL_GROUPS] = {0x5fa4ULL, 0x1ef7ULL, 0x919bULL, 0xed9eULL};
#define WORD_SALT 0x3a3dULL  /* whole word, xor-ed onto the bag's salt */
#define RIGHT_SALT 0x7e57ULL /* the right neighbour, vs the left one */

/* "<word>" with ASCII letters lower-cased (bytes >= 0x80 kept, so UTF-8
 * stays intact); returns its length. */
static size_t bracket_lower(char *word, const mts_str *t)
{
    size_t len = t->len > SKILL_MAX_WORD ? SKILL_MAX_WORD : t->len;
    word[0] = '<';
    for (size_t i = 0; i < len; i++) {
        char c = t->p[i];
        word[i + 1] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    word[len + 1] = '>';
    return len + 2;
}

/* 3-grams and the whole word of token t into out; returns the count. */
static int word_features(const skill *s, const mts_str *t, uint64_t salt, uint32_t *out)
{
    char word[SKILL_MAX_WORD + 2];
    if (!t->p || t->len == 0)
        return 0;
    size_t n = bracket_lower(word, t);
    int k = 0;
    for (size_t j = 0; j + 3 <= n; j++)
        out[k++] = bucket_of(s, word + j, 3, salt);
    out[k++] = bucket_of(s, word, n, salt ^ WORD_SALT);
    return k;
}

static int is_punct(const mts_str *t)
{
    if (!t->p || t->len == 0)
        return 1;
    for (uint32_t i = 0; i < t->len; i++) {
        unsigned char c = (unsigned char)t->p[i];
        if (c >= 0x80 || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z'))
            return 0;
    }
    return 1;
}

int skill_featurize(const skill *s, const mts_str *tokens, uint32_t ntok, int64_t span_start,
                    int64_t span_end, uint32_t *out, int *counts, float *pos)
{
    memset(counts, 0, SKILL_GROUPS * sizeof(int));
    memset(pos, 0, SKILL_POS * sizeof(float));
    if (!tokens || ntok == 0)
        return 0;
    int64_t st = span_start < 0 ? 0 : span_start > (int64_t)ntok ? (int64_t)ntok : span_start;
    int64_t en = span_end < st ? st : span_end > (int64_t)ntok ? (int64_t)ntok : span_end;
    int64_t len = en - st;
    if (en - st > SKILL_SPAN_WORDS)
        en = st + SKILL_SPAN_WORDS;
    int64_t lo = st - SKILL_WINDOW < 0 ? 0 : st - SKILL_WINDOW;
    int64_t hi = en + SKILL_WINDOW > (int64_t)ntok ? (int64_t)ntok : en + SKILL_WINDOW;
    int n = 0;
    for (int64_t i = st; i < en; i++)
        n += word_features(s, &tokens[i], bag_salt[0], out + n);
    counts[0] = n;
    for (int64_t i = lo; i < st; i++)
        n += word_features(s, &tokens[i], bag_salt[1], out + n);
    counts[1] = n - counts[0];
    for (int64_t i = en; i < hi; i++)
        n += word_features(s, &tokens[i], bag_salt[2], out + n);
    counts[2] = n - counts[0] - counts[1];
    /* neighbours: the whole word, or a sentence-edge marker */
    char word[SKILL_MAX_WORD + 2];
    if (st > 0 && tokens[st - 1].p && tokens[st - 1].len)
        out[n++] = bucket_of(s, word, bracket_lower(word, &tokens[st - 1]), bag_salt[3]);
    else
        out[n++] = bucket_of(s, "<s>", 3, bag_salt[3]);
    if (en < (int64_t)ntok && tokens[en].p && tokens[en].len)
        out[n++] = bucket_of(s, word, bracket_lower(word, &tokens[en]), bag_salt[3] ^ RIGHT_SALT);
    else
        out[n++] = bucket_of(s, "</s>", 4, bag_salt[3] ^ RIGHT_SALT);
    counts[3] = 2;
    /* position features */
    pos[len <= 1 ? 0 : len == 2 ? 1 : len == 3 ? 2 : 3] = 1.0f;
    pos[4] = st == 0;
    pos[5] = en >= (int64_t)ntok;
    pos[6] = (float)st / (float)ntok;
    pos[7] = st < (int64_t)ntok && tokens[st].p && tokens[st].len && tokens[st].p[0] >= 'A' &&
             tokens[st].p[0] <= 'Z';
    pos[8] = st == 0 || is_punct(&tokens[st - 1]);
    pos[9] = en >= (int64_t)ntok || is_punct(&tokens[en]);
    return n;
}

int skill_domain(skill *s, const char *name, uint32_t len, int create)
{
    char key[64];
    size_t n =
        len < sizeof(key) - 1 ? len : sizeof(key) - 1; /* longer names are told apart by 63 bytes */
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

float skill_forward(skill *s, const int64_t *entity, const int *dom, const uint32_t *buckets,
                    const int *offsets, const float *pos, const float *y, const float *w, int B,
                    int create)
{
    const int G = SKILL_GROUPS, K = s->K, H = s->H, X = s->X;
    int N = offsets[B * G];
    reserve(s, B, N);
    s->B = B;
    s->N = N;
    memcpy(s->dom, dom, (size_t)B * sizeof(int));
    memcpy(s->offsets, offsets, (size_t)(B * G + 1) * sizeof(int));
    if (y && w) {
        memcpy(s->y, y, (size_t)B * sizeof(float));
        memcpy(s->w, w, (size_t)B * sizeof(float));
    } else {
        memset(s->y, 0, (size_t)B * sizeof(float));
        memset(s->w, 0, (size_t)B * sizeof(float));
    }
    for (int j = 0; j < N; j++) {
        int32_t r =
            create ? embtable_get(&s->ngrams, buckets[j]) : embtable_find(&s->ngrams, buckets[j]);
        s->nrow[j] = r;
        if (r >= 0)
            memcpy(s->ng + (size_t)j * K, embtable_row(&s->ngrams, r), (size_t)K * sizeof(float));
        else
            memset(s->ng + (size_t)j * K, 0, (size_t)K * sizeof(float));
    }
    meanpool_forward(s->q, s->ng, s->offsets, B * G, K); /* (B * G, K) = (B, G * K) */
    for (int b = 0; b < B; b++) {
        int32_t r =
            create ? embtable_get(&s->entities, entity[b]) : embtable_find(&s->entities, entity[b]);
        s->erow[b] = r;
        float *x = s->x + (size_t)b * X;
        if (r >= 0)
            memcpy(x, embtable_row(&s->entities, r), (size_t)K * sizeof(float));
        else
            memset(x, 0, (size_t)K * sizeof(float));
        memcpy(x + K, s->q + (size_t)b * G * K, (size_t)G * K * sizeof(float));
        memcpy(x + (G + 1) * K, pos + (size_t)b * SKILL_POS, SKILL_POS * sizeof(float));
    }
    dense_forward(s->h, s->x, s->p.w1, s->p.b1, B, X, H);
    for (int b = 0; b < B;
         b++) /* the domain's hidden vector: a one-hot domain input to the shared layer */
        if (s->dom[b] >= 0) {
            float *h = s->h + (size_t)b * H;
            const float *v = s->p.dom_v + (size_t)s->dom[b] * H;
            for (int i = 0; i < H; i++)
                h[i] += v[i];
        }
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
    const int G = SKILL_GROUPS, B = s->B, N = s->N, K = s->K, H = s->H, X = s->X;
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
    for (int b = 0; b < B; b++)
        if (s->dom[b] >= 0) {
            float *dv = s->g.dom_v + (size_t)s->dom[b] * H;
            const float *dp = s->dpre + (size_t)b * H;
            for (int i = 0; i < H; i++)
                dv[i] += dp[i];
        }
    memset(s->dx, 0, (size_t)B * X * sizeof(float));
    dense_backward(s->dx, s->g.w1, s->g.b1, s->dpre, s->x, s->p.w1, B, X, H);
    /* x = [e, q_0..q_{G-1}, f]: the entity row and the pooled bags get theirs */
    for (int b = 0; b < B; b++) {
        const float *dx = s->dx + (size_t)b * X;
        memcpy(s->dq + (size_t)b * G * K, dx + K, (size_t)G * K * sizeof(float));
        if (s->erow[b] >= 0) {
            float *de = embtable_grad(&s->entities, s->erow[b]);
            for (int i = 0; i < K; i++)
                de[i] += dx[i];
        }
    }
    memset(s->dng, 0, (size_t)N * K * sizeof(float));
    meanpool_backward(s->dng, s->dq, s->offsets, B * G, K);
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
