/* skill_exp.h - in-memory skill experiments on the real annotated postings.
 *
 * Shared by tests/tools/exp_skills.c (the table of docs/skills.md) and
 * tests/unit/test_skill_real.c (the small fixed-slice test). Header-only,
 * like model_test_layout.h, so that nothing experiment-specific goes into
 * the library.
 *
 * The events are gen/skills.c's (README recipe, Danish included). Each one
 * becomes an mts_row in a hand-built layout with the skill task's fields,
 * so the model is driven through its public API exactly as the service
 * drives it (model_train_batch; model_skill_score to score). Nothing here
 * talks to Kafka.
 *
 *   skx_load      corpus + one row per event
 *   skx_select    the TRAIN events of a setting (domains used, house share)
 *   skx_prior     per-entity smoothed positive rate learned from a TRAIN set
 *   skx_train     epochs of shuffled mini-batches through model_train_batch
 *   skx_score     model_skill_score of every event of a split
 *   skx_auc       exact AUC of a score over one domain and split */
#ifndef SKILL_EXP_H
#define SKILL_EXP_H

#include "common/util.h"
#include "gen/skills.h"
#include "model/auc.h"
#include "model/model.h"
#include "model_test_layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SKX_TECH, SKX_HOUSE, SKX_DA, SKX_NDOM };
static const char *const skx_domain_names[SKX_NDOM] = {"tech", "house", "da"};

enum { X_ENTITY, X_TOKENS, X_START, X_END, X_DOMAIN, X_LABEL, X_SPLIT, X_COUNT };

typedef struct {
    skill_corpus c;
    mts_layout *layout;
    mts_row *rows;   /* (c.n) */
    mts_value *vals; /* (c.n, X_COUNT) */
    mts_str *toks;   /* per sentence token views, shared by its events */
    int *dom;        /* (c.n) SKX_* */
    uint64_t *skey;  /* (c.n) hash of (doc_id, sentence_id): the sampling unit */
} skx_data;

static inline int skx_load(skx_data *d, const char *dir, char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    if (skills_load(dir, 1, &d->c, err, errlen) < 0)
        return -1;
    static const test_field f[X_COUNT] = {
        {"entity_id", FK_LONG}, {"tokens", FK_STRING_ARRAY}, {"span_start", FK_LONG},
        {"span_end", FK_LONG},  {"domain", FK_STRING},       {"label", FK_LONG},
        {"split", FK_STRING},
    };
    d->layout = test_layout_new(f, X_COUNT);
    size_t n = d->c.n, ntok = 0;
    for (size_t i = 0; i < n; i++)
        ntok += (size_t)d->c.events[i].n_tokens;
    d->rows = xcalloc(n, sizeof(mts_row));
    d->vals = xcalloc(n * X_COUNT, sizeof(mts_value));
    d->toks = xcalloc(ntok ? ntok : 1, sizeof(mts_str));
    d->dom = xmalloc(n * sizeof(int));
    d->skey = xmalloc(n * sizeof(uint64_t));
    size_t t = 0;
    char *const *prev = NULL;
    mts_str *cur = NULL;
    for (size_t i = 0; i < n; i++) {
        const skill_event *e = &d->c.events[i];
        if (e->tokens != prev) { /* events of one sentence are consecutive and share its tokens */
            cur = d->toks + t;
            for (int k = 0; k < e->n_tokens; k++)
                cur[k] = (mts_str){e->tokens[k], (uint32_t)strlen(e->tokens[k])};
            t += (size_t)e->n_tokens;
            prev = e->tokens;
        }
        mts_value *v = d->vals + i * X_COUNT;
        const char *split = skill_split_name(e->split);
        for (int k = 0; k < X_COUNT; k++)
            v[k].present = 1;
        v[X_ENTITY].u.l = e->entity_id;
        v[X_TOKENS].u.sa = cur;
        v[X_TOKENS].n = (uint32_t)e->n_tokens;
        v[X_START].u.l = e->span_start;
        v[X_END].u.l = e->span_end;
        v[X_DOMAIN].u.s = e->domain;
        v[X_DOMAIN].n = (uint32_t)strlen(e->domain);
        v[X_LABEL].u.l = e->label;
        v[X_SPLIT].u.s = split;
        v[X_SPLIT].n = (uint32_t)strlen(split);
        d->rows[i].task = 0;
        d->rows[i].v = v;
        d->dom[i] = !strcmp(e->domain, "tech")    ? SKX_TECH
                    : !strcmp(e->domain, "house") ? SKX_HOUSE
                                                  : SKX_DA;
        d->skey[i] = mix64(hash64(e->doc_id, strlen(e->doc_id)) ^ ((uint64_t)e->split << 40) ^
                           (uint64_t)e->sentence_id);
    }
    return 0;
}

static inline void skx_free(skx_data *d)
{
    if (d->layout)
        test_layout_free(d->layout);
    free(d->rows);
    free(d->vals);
    free(d->toks);
    free(d->dom);
    free(d->skey);
    skills_free(&d->c);
    memset(d, 0, sizeof(*d));
}

/* A training set: the TRAIN events of the domains in use; house sentences
 * kept with probability house_share, decided by a hash of (sentence,
 * sample_seed), so the sample is deterministic and whole sentences go
 * together. max_per_domain > 0 keeps only the first that many TRAIN
 * sentences of each domain (the unit test's slice). */
typedef struct {
    int use[SKX_NDOM];
    double house_share;
    uint64_t sample_seed;
    int max_per_domain;
} skx_trainset;

static inline int skx_kept(const skx_data *d, const skx_trainset *ts, size_t i)
{
    if (d->c.events[i].split != SKILL_SPLIT_TRAIN || !ts->use[d->dom[i]])
        return 0;
    if (d->dom[i] == SKX_HOUSE && ts->house_share < 1.0) {
        double u =
            (double)(mix64(d->skey[i] ^ mix64(ts->sample_seed + 0x4853ULL)) >> 11) * 0x1.0p-53;
        return u < ts->house_share;
    }
    return 1;
}

/* Indexes of the kept TRAIN events into idx (c.n); returns how many. */
static inline size_t skx_select(const skx_data *d, const skx_trainset *ts, size_t *idx)
{
    size_t n = 0;
    int nsent[SKX_NDOM] = {0};
    uint64_t last[SKX_NDOM] = {0};
    for (size_t i = 0; i < d->c.n; i++) {
        if (!skx_kept(d, ts, i))
            continue;
        int g = d->dom[i];
        if (ts->max_per_domain > 0) {
            if (nsent[g] == 0 || d->skey[i] != last[g]) {
                nsent[g]++;
                last[g] = d->skey[i];
            }
            if (nsent[g] > ts->max_per_domain)
                continue;
        }
        idx[n++] = i;
    }
    return n;
}

/* Entity prior: score[i] = (pos_e + alpha p) / (n_e + alpha) for every
 * event, counts over the TRAIN events idx (n), p their positive rate. */
static inline void skx_prior(const skx_data *d, const size_t *idx, size_t n, double alpha,
                             float *score)
{
    size_t ne = d->c.n_entities;
    double *pos = xcalloc(ne, sizeof(double)), *cnt = xcalloc(ne, sizeof(double)), tp = 0;
    for (size_t k = 0; k < n; k++) {
        long e = skills_entity_index(&d->c, d->c.events[idx[k]].entity_id);
        if (e < 0)
            continue;
        pos[e] += d->c.events[idx[k]].label;
        cnt[e] += 1;
        tp += d->c.events[idx[k]].label;
    }
    double p = n ? tp / (double)n : 0.5;
    for (size_t i = 0; i < d->c.n; i++) {
        long e = skills_entity_index(&d->c, d->c.events[i].entity_id);
        score[i] = e < 0 ? (float)p : (float)((pos[e] + alpha * p) / (cnt[e] + alpha));
    }
    free(pos);
    free(cnt);
}

/* Exact AUC of score over the events of domain g (-1: all) and split. */
static inline double skx_auc(const skx_data *d, const float *score, int g, int split)
{
    float *s = xmalloc(d->c.n * sizeof(float));
    int *y = xmalloc(d->c.n * sizeof(int));
    int m = 0;
    for (size_t i = 0; i < d->c.n; i++)
        if (d->c.events[i].split == split && (g < 0 || d->dom[i] == g)) {
            s[m] = score[i];
            y[m++] = d->c.events[i].label;
        }
    double a = m ? auc_exact(s, y, m) : NAN;
    free(s);
    free(y);
    return a;
}

/* model_skill_score of every event of split into score (others untouched). */
static inline void skx_score(mts_model *m, const skx_data *d, int split, float *score)
{
    for (size_t i = 0; i < d->c.n; i++)
        if (d->c.events[i].split == split)
            score[i] = model_skill_score(m, &d->rows[i]);
}

/* Called after each epoch (1-based); return non-zero to stop. */
typedef int (*skx_epoch_fn)(mts_model *m, int epoch, void *ctx);

/* A fresh model trained on idx (n) for `epochs` passes, each in a new
 * order drawn from seed, in batches of `batch` rows. NULL + err on a bad
 * config. */
static inline mts_model *skx_train(const skx_data *d, const model_config *cfg, const size_t *idx,
                                   size_t n, int epochs, int batch, uint64_t seed, skx_epoch_fn fn,
                                   void *ctx, char *err, size_t errlen)
{
    model_config c = *cfg;
    c.seed = seed;
    c.n_tasks = 0;
    test_task(&c, "skill", TASK_SKILL, "label", 1.0f,
              cfg->n_tasks ? cfg->tasks[0].pos_weight : 1.0f);
    mts_model *m = model_new(&c, d->layout, err, errlen);
    if (!m)
        return NULL;
    size_t *order = xmalloc((n ? n : 1) * sizeof(size_t));
    memcpy(order, idx, n * sizeof(size_t));
    mts_row *rows = xmalloc((size_t)batch * sizeof(mts_row));
    mts_rng r;
    rng_seed(&r, mix64(seed ^ 0x5eedULL));
    for (int ep = 1; ep <= epochs; ep++) {
        for (size_t k = n; k > 1; k--) {
            size_t j = (size_t)rng_below(&r, k);
            size_t t = order[k - 1];
            order[k - 1] = order[j];
            order[j] = t;
        }
        for (size_t k = 0; k < n; k += (size_t)batch) {
            int b = (int)((n - k) < (size_t)batch ? (n - k) : (size_t)batch);
            for (int j = 0; j < b; j++)
                rows[j] = d->rows[order[k + (size_t)j]];
            if (model_train_batch(m, rows, b, err, errlen) < 0) {
                model_free(m);
                free(order);
                free(rows);
                return NULL;
            }
        }
        if (fn && fn(m, ep, ctx))
            break;
    }
    free(order);
    free(rows);
    return m;
}

#endif
