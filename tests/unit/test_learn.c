/* test_learn.c - the models learn planted structure, deterministically.
 *
 * Affinity: 500 members x 100 companies with planted 4-d factors u, v;
 * ~200k view events with label ~ Bernoulli(sigmoid(3 <u, v>)) plus a rarer
 * apply task of the same structure (shifted down), one pass in batches of
 * 256. 10% of the pairs are held out of training; on them the learned dot
 * products of the published embeddings must separate the planted top
 * quartile from the bottom quartile (AUC >= 0.90), and the progressive
 * validation AUC must be > 0.7. Two runs with one seed: bit-identical.
 * Skill: entities that are skills always, never, or only in "tech" context. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/util.h"
#include "model/auc.h"
#include "model/model.h"
#include "model_test_layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NM 500
#define NC 100
#define NF 4
#ifndef NEV
#define NEV 200000 /* override (-DNEV=...) for a quick valgrind build */
#endif
#define BATCH 256
#define MEMBER_BASE 1000000 /* ids far from 0 and not dense */
#define COMPANY_BASE 7000

static double U[NM][NF], V[NC][NF];

static double planted(int m, int c)
{
    double s = 0;
    for (int k = 0; k < NF; k++)
        s += U[m][k] * V[c][k];
    return s;
}

static int held_out(int m, int c)
{
    return mix64((uint64_t)m * 1000 + (uint64_t)c) % 10 == 0;
}

typedef struct {
    int32_t m, c;
    uint8_t task, y;
} event;

static event *events;

static void make_world(void)
{
    mts_rng r;
    rng_seed(&r, 2024);
    for (int m = 0; m < NM; m++)
        for (int k = 0; k < NF; k++)
            U[m][k] = rng_normal(&r) * sqrt(0.5);
    for (int c = 0; c < NC; c++)
        for (int k = 0; k < NF; k++)
            V[c][k] = rng_normal(&r) * sqrt(0.5);
    events = xmalloc(NEV * sizeof(event));
    for (int i = 0; i < NEV;) {
        int m = (int)rng_below(&r, NM), c = (int)rng_below(&r, NC);
        if (held_out(m, c))
            continue;
        int task = rng_uniform(&r) < 0.15; /* apply: the rarer task */
        double z = 3.0 * planted(m, c) - (task ? 1.0 : 0.0);
        events[i] =
            (event){m, c, (uint8_t)task, (uint8_t)(rng_uniform(&r) < 1.0 / (1.0 + exp(-z)))};
        i++;
    }
}

static model_config affinity_config(void)
{
    model_config c;
    model_config_defaults(&c);
    test_task(&c, "view", TASK_AFFINITY, "viewed", 1.0f, 1.0f);
    test_task(&c, "apply", TASK_AFFINITY, "applied", 1.0f, 2.0f);
    test_task(&c, "inmail", TASK_AFFINITY, "accepted", 0.5f, 1.0f);
    return c;
}

/* One pass over the events; returns training events per second. */
static double train_affinity(mts_model *m)
{
    static mts_row rows[BATCH];
    static mts_value vals[BATCH][F_COUNT];
    char err[256];
    double t0 = mono_sec();
    for (int i = 0; i < NEV; i += BATCH) {
        int n = NEV - i < BATCH ? NEV - i : BATCH;
        for (int j = 0; j < n; j++) {
            const event *e = &events[i + j];
            test_affinity_row(&rows[j], vals[j], e->task, e->task ? F_APPLIED : F_VIEWED,
                              MEMBER_BASE + e->m * 37, COMPANY_BASE + e->c, e->y);
        }
        assert_int_equal(model_train_batch(m, rows, n, err, sizeof(err)), 0);
    }
    return NEV / (mono_sec() - t0);
}

static float *all_embeddings(const mts_model *m, entity_kind k, int n, int64_t base, int64_t stride)
{
    int D = model_dim(m);
    float *e = xmalloc((size_t)n * D * sizeof(float));
    for (int i = 0; i < n; i++)
        assert_int_equal(model_embedding(m, k, base + i * stride, e + (size_t)i * D, NULL), 0);
    return e;
}

static void test_affinity_learns(void **state)
{
    make_world();
    mts_layout *l = test_layout_standard();
    model_config cfg = affinity_config();
    char err[256];
    mts_model *m = model_new(&cfg, l, err, sizeof(err));
    assert_non_null(m);
    double eps = train_affinity(m);
    printf("  training speed: %.0f events/s (batch %d, D=%d E=%d H=%d)\n", eps, BATCH, cfg.dim,
           cfg.id_dim, cfg.hidden);

    task_metrics tm[2];
    for (int t = 0; t < 2; t++) {
        model_task_metrics(m, t, &tm[t]);
        printf("  task %-6s events %6llu positives %6llu progressive AUC %.4f recent %.4f logloss "
               "%.4f recent %.4f\n",
               cfg.tasks[t].name, (unsigned long long)tm[t].events,
               (unsigned long long)tm[t].positives, tm[t].auc, tm[t].auc_recent, tm[t].logloss,
               tm[t].logloss_recent);
    }
    assert_int_equal(tm[0].events + tm[1].events, NEV);
    assert_true(tm[0].auc > 0.7);
    assert_true(tm[1].auc > 0.7);
    assert_true(tm[0].auc_recent > tm[0].auc); /* it improved during the pass */
    assert_float_equal(tm[1].loss_weight, 1.0, 0);

    /* held-out pairs: planted top quartile vs bottom quartile, scored by the
     * dot product of the published embeddings */
    int D = model_dim(m);
    float *me = all_embeddings(m, ENTITY_MEMBER, NM, MEMBER_BASE, 37);
    float *ce = all_embeddings(m, ENTITY_COMPANY, NC, COMPANY_BASE, 1);
    int np = 0;
    float *pl = xmalloc(NM * NC * sizeof(float)), *ld = xmalloc(NM * NC * sizeof(float));
    for (int i = 0; i < NM; i++)
        for (int c = 0; c < NC; c++)
            if (held_out(i, c)) {
                pl[np] = (float)planted(i, c);
                float s = 0;
                for (int k = 0; k < D; k++)
                    s += me[i * D + k] * ce[c * D + k];
                ld[np++] = s;
            }
    float *sorted = xmalloc((size_t)np * sizeof(float));
    memcpy(sorted, pl, (size_t)np * sizeof(float));
    for (int i = 1; i < np; i++) /* insertion sort: np is ~5000 */
        for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            float t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    float q1 = sorted[np / 4], q3 = sorted[3 * np / 4];
    float *sc = xmalloc((size_t)np * sizeof(float));
    int *lab = xmalloc((size_t)np * sizeof(int)), nq = 0;
    for (int i = 0; i < np; i++)
        if (pl[i] >= q3 || pl[i] <= q1) {
            sc[nq] = ld[i];
            lab[nq++] = pl[i] >= q3;
        }
    double auc = auc_exact(sc, lab, nq);
    printf("  held-out pairs %d, top vs bottom quartile AUC of learned dot products: %.4f\n", np,
           auc);
    assert_true(np > 4000);
    assert_true(auc >= 0.90);

    /* bookkeeping: every member trained on is dirty once, counts add up */
    int64_t *ids = xmalloc(NM * 2 * sizeof(int64_t));
    assert_int_equal(model_drain_dirty(m, ENTITY_MEMBER, ids, NM * 2), NM);
    assert_int_equal(model_drain_dirty(m, ENTITY_MEMBER, ids, NM * 2), 0);
    assert_int_equal(model_drain_dirty(m, ENTITY_COMPANY, ids, NM * 2), NC);
    assert_int_equal(model_entity_ids(m, ENTITY_MEMBER, ids, NM * 2), NM);
    uint64_t total = 0, ev;
    float tmp[64];
    for (int i = 0; i < NM; i++) {
        assert_int_equal(model_embedding(m, ENTITY_MEMBER, ids[i], tmp, &ev), 0);
        total += ev;
    }
    assert_int_equal(total, NEV);
    assert_int_equal(model_embedding(m, ENTITY_MEMBER, 42, tmp, &ev), -1);
    assert_int_equal(model_embedding(m, ENTITY_COMPANY, MEMBER_BASE, tmp, &ev), -1);

    free(me);
    free(ce);
    free(pl);
    free(ld);
    free(sorted);
    free(sc);
    free(lab);
    free(ids);
    model_free(m);
    test_layout_free(l);
}

static void test_determinism(void **state)
{
    mts_layout *l = test_layout_standard();
    model_config cfg = affinity_config();
    char err[256];
    float *e[3], *f[3];
    for (int run = 0; run < 3; run++) {
        cfg.seed = run < 2 ? 77 : 78;
        mts_model *m = model_new(&cfg, l, err, sizeof(err));
        assert_non_null(m);
        train_affinity(m);
        e[run] = all_embeddings(m, ENTITY_MEMBER, NM, MEMBER_BASE, 37);
        f[run] = all_embeddings(m, ENTITY_COMPANY, NC, COMPANY_BASE, 1);
        model_free(m);
    }
    int D = cfg.dim;
    assert_memory_equal(e[0], e[1], (size_t)NM * D * sizeof(float));
    assert_memory_equal(f[0], f[1], (size_t)NC * D * sizeof(float));
    assert_true(memcmp(e[0], e[2], (size_t)NM * D * sizeof(float)) != 0); /* the seed matters */
    printf("  same seed: %d member and %d company embeddings bit-identical\n", NM, NC);
    for (int run = 0; run < 3; run++) {
        free(e[run]);
        free(f[run]);
    }
    free(events);
    test_layout_free(l);
}

/* Bad configs and bad rows: clear errors, counted skips, no crash. */
static void test_bad_input(void **state)
{
    mts_layout *l = test_layout_standard();
    char err[256];
    model_config cfg = affinity_config();
    strcpy(cfg.tasks[1].label_field, "apply_label");
    assert_null(model_new(&cfg, l, err, sizeof(err)));
    printf("  missing field: %s\n", err);
    assert_non_null(strstr(err, "apply_label"));
    assert_non_null(strstr(err, "'apply'"));
    cfg = affinity_config();
    strcpy(cfg.tasks[0].member_field, "tokens");
    assert_null(model_new(&cfg, l, err, sizeof(err)));
    printf("  wrong kind: %s\n", err);
    assert_non_null(strstr(err, "tokens"));
    cfg = affinity_config();
    cfg.tasks[2].pos_weight = NAN;
    assert_null(model_new(&cfg, l, err, sizeof(err)));
    assert_non_null(strstr(err, "inmail"));
    cfg = affinity_config();
    cfg.n_tasks = 0;
    assert_null(model_new(&cfg, l, err, sizeof(err)));
    cfg = affinity_config();
    cfg.hidden = 100000;
    assert_null(model_new(&cfg, l, err, sizeof(err)));
    cfg = affinity_config();
    cfg.n_tasks = 1;
    test_task(&cfg, "skills", TASK_SKILL, "label", 1, 1);
    mts_layout *small = test_layout_new((test_field[]){{"member_id", FK_LONG},
                                                       {"company_id", FK_LONG},
                                                       {"viewed", FK_LONG},
                                                       {"label", FK_LONG}},
                                        4);
    assert_null(model_new(&cfg, small, err, sizeof(err)));
    printf("  skill fields missing: %s\n", err);
    assert_non_null(strstr(err, "entity_id"));
    test_layout_free(small);

    cfg = affinity_config();
    strcpy(cfg.tasks[2].label_field, "score"); /* a double label */
    mts_model *m = model_new(&cfg, l, err, sizeof(err));
    assert_non_null(m);
    mts_row rows[8];
    mts_value v[8][F_COUNT];
    for (int i = 0; i < 8; i++)
        test_affinity_row(&rows[i], v[i], 0, F_VIEWED, 1, 2, 1);
    rows[1].task = 7;  /* no such task */
    rows[2].task = -1; /* no such task */
    rows[3].v = NULL;  /* no values */
    v[4][F_MEMBER].is_null = 1;
    v[5][F_VIEWED].u.l = 5; /* label out of range */
    test_affinity_row(&rows[6], v[6], 2, F_SCORE, 1, 2, 0);
    v[6][F_SCORE].u.d = NAN;
    test_affinity_row(&rows[7], v[7], 2, F_SCORE, 1, 2, 0);
    v[7][F_SCORE].u.d = 0.75; /* a soft label is fine */
    assert_int_equal(model_train_batch(m, rows, 8, err, sizeof(err)), 0);
    task_metrics tm;
    model_task_metrics(m, 0, &tm);
    assert_int_equal(tm.events, 1);
    assert_int_equal(tm.skipped, 2);
    model_task_metrics(m, 2, &tm);
    assert_int_equal(tm.events, 1);
    assert_int_equal(tm.positives, 1);
    assert_int_equal(tm.skipped, 1);
    assert_int_equal(model_rows_rejected(m), 3);
    assert_int_equal(model_train_batch(m, NULL, 3, err, sizeof(err)), -1);
    assert_int_equal(model_train_batch(m, rows, -1, err, sizeof(err)), -1);
    assert_int_equal(model_train_batch(m, rows, MODEL_MAX_BATCH + 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "at most"));
    assert_int_equal(model_train_batch(m, rows, 0, err, sizeof(err)), 0);
    assert_true(model_skill_score(m, &rows[0]) < 0); /* no skill task */
    model_task_metrics(m, 99, &tm);
    assert_int_equal(tm.events, 0);
    char desc[2048];
    assert_true(model_describe(m, desc, sizeof(desc)) > 100);
    assert_non_null(strstr(desc, "member tower"));
    assert_non_null(strstr(desc, "inmail"));
    model_free(m);

    /* a full table refuses new ids and keeps training on the known ones */
    cfg = affinity_config();
    cfg.table_capacity = 10;
    m = model_new(&cfg, l, err, sizeof(err));
    for (int i = 0; i < 8; i++)
        test_affinity_row(&rows[i], v[i], 0, F_VIEWED, i * 3, 5, i % 2);
    assert_int_equal(model_train_batch(m, rows, 8, err, sizeof(err)), 0);
    assert_int_equal(model_train_batch(m, rows, 8, err, sizeof(err)), 0);
    assert_int_equal(model_entity_count(m, ENTITY_MEMBER), 8);
    for (int i = 0; i < 8; i++)
        test_affinity_row(&rows[i], v[i], 0, F_VIEWED, 1000 + i, 5, i % 2);
    assert_int_equal(model_train_batch(m, rows, 8, err, sizeof(err)), 0);
    assert_int_equal(model_entity_count(m, ENTITY_MEMBER), 10);
    assert_int_equal(model_entities_refused(m, ENTITY_MEMBER), 6);
    model_free(m);
    test_layout_free(l);
}

/* ---- skill: a planted contextual rule ---- */
#define NVOC 40
#define NENT 60
static char tech_words[NVOC][12], house_words[NVOC][12], ent_words[NENT][12];

static void random_word(mts_rng *r, char *w)
{
    int n = 4 + (int)rng_below(r, 6);
    for (int i = 0; i < n; i++)
        w[i] = (char)('a' + rng_below(r, 26));
    w[n] = '\0';
}

typedef struct {
    mts_str tok[10];
    mts_value v[F_COUNT];
    int ent, tech;
} skill_example;

/* entities 0-19 skills, 20-39 not, 40-59 skills only in tech context */
static void make_skill_row(mts_rng *r, skill_example *x, mts_row *row, int task)
{
    x->ent = (int)rng_below(r, NENT);
    x->tech = rng_uniform(r) < 0.5;
    int pos = 2 + (int)rng_below(r, 6);
    for (int i = 0; i < 10; i++) {
        const char *w = i == pos  ? ent_words[x->ent]
                        : x->tech ? tech_words[rng_below(r, NVOC)]
                                  : house_words[rng_below(r, NVOC)];
        x->tok[i] = (mts_str){w, (uint32_t)strlen(w)};
    }
    double p = x->ent < 20 ? 0.9 : x->ent < 40 ? 0.1 : x->tech ? 0.9 : 0.1;
    memset(x->v, 0, sizeof(x->v));
    x->v[F_ENTITY].u.l = 5000 + x->ent;
    x->v[F_TOKENS].u.sa = x->tok;
    x->v[F_TOKENS].n = 10;
    x->v[F_SPAN_START].u.l = pos;
    x->v[F_SPAN_END].u.l = pos + 1;
    const char *dom = rng_uniform(r) < 0.7 ? "tech" : "house";
    x->v[F_DOMAIN].u.s = dom;
    x->v[F_DOMAIN].n = (uint32_t)strlen(dom);
    x->v[F_LABEL].u.l = rng_uniform(r) < p;
    memset(row, 0, sizeof(*row));
    row->task = task;
    row->v = x->v;
}

static void test_skill_learns(void **state)
{
    mts_rng r;
    rng_seed(&r, 31337);
    for (int i = 0; i < NVOC; i++) {
        random_word(&r, tech_words[i]);
        random_word(&r, house_words[i]);
    }
    for (int i = 0; i < NENT; i++)
        random_word(&r, ent_words[i]);
    mts_layout *l = test_layout_standard();
    model_config cfg;
    model_config_defaults(&cfg);
    test_task(&cfg, "view", TASK_AFFINITY, "viewed", 1, 1);
    test_task(&cfg, "skill", TASK_SKILL, "label", 1, 1);
    char err[256];
    mts_model *m = model_new(&cfg, l, err, sizeof(err));
    assert_non_null(m);
    static skill_example ex[BATCH];
    static mts_row rows[BATCH];
    double t0 = mono_sec();
    int ntrain = 40000;
    for (int i = 0; i < ntrain; i += BATCH) {
        for (int j = 0; j < BATCH; j++)
            make_skill_row(&r, &ex[j], &rows[j], 1);
        assert_int_equal(model_train_batch(m, rows, BATCH, err, sizeof(err)), 0);
    }
    double dt = mono_sec() - t0;
    task_metrics tm;
    model_task_metrics(m, 1, &tm);
    printf("  skill: %.0f rows/s, progressive AUC %.4f recent %.4f\n", ntrain / dt, tm.auc,
           tm.auc_recent);
    /* fresh rows, scored without learning */
    enum { NT = 6000 };
    float *s = xmalloc(NT * sizeof(float)), *sa = xmalloc(NT * sizeof(float));
    int *y = xmalloc(NT * sizeof(int)), *ya = xmalloc(NT * sizeof(int)), na = 0;
    for (int i = 0; i < NT; i++) {
        skill_example x;
        mts_row row;
        make_skill_row(&r, &x, &row, 1);
        s[i] = model_skill_score(m, &row);
        assert_true(s[i] >= 0.0f && s[i] <= 1.0f);
        y[i] = (int)x.v[F_LABEL].u.l;
        if (x.ent >= 40) {
            sa[na] = s[i];
            ya[na++] = y[i];
        }
    }
    /* the label noise (10% flips) caps the AUC near 0.9 */
    double auc = auc_exact(s, y, NT), auc_amb = auc_exact(sa, ya, na);
    printf("  skill held-out AUC %.4f, on context-dependent entities %.4f (%d rows)\n", auc,
           auc_amb, na);
    assert_true(auc > 0.8);
    assert_true(auc_amb > 0.75);
    assert_true(tm.auc > 0.7);
    free(s);
    free(sa);
    free(y);
    free(ya);
    model_free(m);
    test_layout_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_affinity_learns),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_skill_learns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
