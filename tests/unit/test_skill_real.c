/* test_skill_real.c - the skill model on a small fixed slice of the real data.
 *
 * Run from the repository root: reads ../shared/data/skills. Missing data
 * is a FAILURE, not a skip. Trains the shared model (all domains) on the
 * first SLICE TRAIN sentences of each domain through model_train_batch and
 * asserts its TEST AUC is above the entity prior learned from the same
 * events, pooled and on each English domain. Also checks that DEV/TEST
 * rows are scored but never learned from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "skill_exp.h"

#define DATA_DIR "../shared/data/skills"
#define SLICE 800 /* TRAIN sentences per domain (Danish has 263) */

static skx_data data;

static int setup(void **state)
{
    char err[512];
    if (skx_load(&data, DATA_DIR, err, sizeof(err)) < 0) {
        fprintf(stderr, "the real skills data is required (run from the repository root): %s\n",
                err);
        return -1; /* cmocka reports the group setup as a failure */
    }
    return 0;
}

static int teardown(void **state)
{
    skx_free(&data);
    return 0;
}

static void test_shared_beats_prior(void **state)
{
    assert_non_null(data.rows);
    model_config mc;
    model_config_defaults(&mc);
    mc.lr_dense = 0.0005f;
    mc.lr_table = 0.02f;
    mc.n_tasks = 1;
    mc.tasks[0].pos_weight = 1.0f;
    skx_trainset ts = {{1, 1, 1}, 1.0, 1, SLICE};
    size_t *idx = xmalloc(data.c.n * sizeof(size_t));
    float *prior = xmalloc(data.c.n * sizeof(float)), *score = xmalloc(data.c.n * sizeof(float));
    size_t n = skx_select(&data, &ts, idx);
    assert_true(n > 1000);
    skx_prior(&data, idx, n, 5.0, prior);
    char err[256];
    mts_model *m = skx_train(&data, &mc, idx, n, 2, 32, 7, NULL, NULL, err, sizeof(err));
    assert_non_null(m);
    skx_score(m, &data, SKILL_SPLIT_TEST, score);
    double pa = skx_auc(&data, prior, -1, SKILL_SPLIT_TEST),
           ma = skx_auc(&data, score, -1, SKILL_SPLIT_TEST);
    printf("figure: skill slice (%d TRAIN sentences a domain, %zu events): TEST AUC shared %.4f, "
           "entity prior %.4f\n",
           SLICE, n, ma, pa);
    for (int g = 0; g < SKX_NDOM; g++)
        printf("  %-5s TEST AUC shared %.4f prior %.4f\n", skx_domain_names[g],
               skx_auc(&data, score, g, SKILL_SPLIT_TEST),
               skx_auc(&data, prior, g, SKILL_SPLIT_TEST));
    assert_true(ma > pa + 0.005);
    assert_true(skx_auc(&data, score, SKX_TECH, SKILL_SPLIT_TEST) >
                skx_auc(&data, prior, SKX_TECH, SKILL_SPLIT_TEST));
    assert_true(skx_auc(&data, score, SKX_HOUSE, SKILL_SPLIT_TEST) >
                skx_auc(&data, prior, SKX_HOUSE, SKILL_SPLIT_TEST));
    model_free(m);
    free(idx);
    free(prior);
    free(score);
}

/* DEV and TEST rows through model_train_batch: scored (metrics, held_out)
 * but the model does not move; TRAIN rows do move it. */
static void test_heldout_rows_not_learned(void **state)
{
    assert_non_null(data.rows);
    model_config mc;
    model_config_defaults(&mc);
    test_task(&mc, "skill", TASK_SKILL, "label", 1.0f, 1.0f);
    char err[256];
    mts_model *m = model_new(&mc, data.layout, err, sizeof(err));
    assert_non_null(m);
    enum { NB = 64 };
    mts_row train[NB], held[NB];
    int nt = 0, nh = 0;
    for (size_t i = 0; i < data.c.n && (nt < NB || nh < NB); i++) {
        if (data.c.events[i].split == SKILL_SPLIT_TRAIN && nt < NB)
            train[nt++] = data.rows[i];
        else if (data.c.events[i].split != SKILL_SPLIT_TRAIN && nh < NB)
            held[nh++] = data.rows[i];
    }
    assert_int_equal(nt, NB);
    assert_int_equal(nh, NB);
    assert_int_equal(model_train_batch(m, train, NB, err, sizeof(err)), 0);
    float before[NB], after[NB];
    for (int i = 0; i < NB; i++)
        before[i] = model_skill_score(m, &held[i]);
    for (int rep = 0; rep < 5; rep++)
        assert_int_equal(model_train_batch(m, held, NB, err, sizeof(err)), 0);
    for (int i = 0; i < NB; i++) {
        after[i] = model_skill_score(m, &held[i]);
        assert_true(before[i] >= 0 && before[i] <= 1);
        assert_float_equal(after[i], before[i], 0);
    }
    task_metrics tm;
    model_task_metrics(m, 0, &tm);
    assert_int_equal(tm.events, 6 * NB);
    assert_int_equal(tm.held_out, 5 * NB);
    /* TRAIN rows still learn */
    assert_int_equal(model_train_batch(m, train, NB, err, sizeof(err)), 0);
    int moved = 0;
    for (int i = 0; i < NB; i++)
        moved += model_skill_score(m, &held[i]) != before[i];
    assert_true(moved > NB / 2);
    printf(
        "  held-out rows: %d scored x5, model unchanged; one TRAIN batch moved %d of %d scores\n",
        NB, moved, NB);
    model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_beats_prior),
        cmocka_unit_test(test_heldout_rows_not_learned),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
