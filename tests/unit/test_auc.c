/* test_auc.c - streaming (histogram) AUC and log-loss against exact values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/util.h"
#include "model/auc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Labels drawn from the score with noise of several strengths, several
 * base rates: the histogram AUC is within 0.002 of the exact one. */
static void test_auc_vs_exact(void **state)
{
    enum { N = 50000 };
    float *z = xmalloc(N * sizeof(float));
    int *y = xmalloc(N * sizeof(int));
    mts_rng r;
    rng_seed(&r, 7);
    const double sep[] = {0.0, 0.5, 1.5, 3.0};
    const double base[] = {0.0, -2.5}; /* balanced and rare positives */
    for (size_t s = 0; s < ARRAY_LEN(sep); s++) {
        for (size_t b = 0; b < ARRAY_LEN(base); b++) {
            auc_stream a;
            auc_init(&a, 0);
            double ll = 0;
            for (int i = 0; i < N; i++) {
                double x = rng_normal(&r);
                double p = 1.0 / (1.0 + exp(-(sep[s] * x + base[b])));
                y[i] = rng_uniform(&r) < p;
                z[i] = (float)(sep[s] * x + base[b] + 0.5 * rng_normal(&r));
                auc_add(&a, z[i], y[i]);
                double q = 1.0 / (1.0 + exp(-(double)z[i]));
                ll += -(y[i] ? log(q) : log(1 - q));
            }
            double exact = auc_exact(z, y, N), stream = auc_cumulative(&a);
            printf("  sep %.1f base %+.1f: exact %.5f stream %.5f diff %.5f\n", sep[s], base[b],
                   exact, stream, fabs(exact - stream));
            assert_true(fabs(exact - stream) < 0.002);
            assert_true(fabs(auc_logloss(&a) - ll / N) < 1e-6);
            assert_int_equal(a.n, N);
            auc_free(&a);
        }
    }
    free(z);
    free(y);
}

/* The window holds the last W events only: after a regime change the
 * recent AUC follows, the cumulative one lags. */
static void test_window(void **state)
{
    enum { W = 2000, N = 10000 };
    auc_stream a;
    auc_init(&a, W);
    mts_rng r;
    rng_seed(&r, 3);
    float z[W];
    int y[W];
    for (int i = 0; i < 2 * N; i++) {
        int lab = rng_uniform(&r) < 0.5;
        /* first half: scores inverted (AUC near 0), second: informative */
        double s = (i < N ? -1.0 : 1.0) * (lab ? 1.0 : -1.0) + rng_normal(&r);
        float zi = (float)s;
        auc_add(&a, zi, lab);
        if (i >= 2 * N - W) {
            z[i - (2 * N - W)] = zi;
            y[i - (2 * N - W)] = lab;
        }
    }
    double exact_recent = auc_exact(z, y, W);
    printf("  window: recent %.4f exact-last-%d %.4f cumulative %.4f\n", auc_recent(&a), W,
           exact_recent, auc_cumulative(&a));
    assert_true(fabs(auc_recent(&a) - exact_recent) < 0.002);
    assert_true(auc_recent(&a) > 0.8);
    assert_true(fabs(auc_cumulative(&a) - 0.5) < 0.1);
    assert_int_equal(a.wn, W);
    double ll = 0;
    for (int i = 0; i < W; i++)
        ll += log1p(exp(-(double)z[i])) + (y[i] ? 0.0 : (double)z[i]);
    assert_true(fabs(auc_logloss_recent(&a) - ll / W) < 1e-4);
    auc_free(&a);
}

static void test_edge_cases(void **state)
{
    auc_stream a;
    auc_init(&a, 10);
    assert_float_equal(auc_cumulative(&a), 0.5, 0);
    assert_float_equal(auc_logloss(&a), 0.0, 0);
    auc_add(&a, 1.0f, 1);
    assert_float_equal(auc_cumulative(&a), 0.5, 0); /* one class only */
    auc_add(&a, NAN, 0);                            /* ignored */
    auc_add(&a, INFINITY, 0);
    assert_int_equal(a.n, 1);
    auc_add(&a, -1.0f, 0);
    assert_float_equal(auc_cumulative(&a), 1.0, 0);
    auc_add(&a, 1e30f, 0); /* extreme but finite: last bin, finite loss */
    assert_true(isfinite(auc_logloss(&a)));
    assert_float_equal(auc_cumulative(&a), 0.5, 0); /* one negative below, one above the positive */
    auc_free(&a);
    float z[4] = {0.1f, 0.1f, 0.2f, 0.3f};
    int y[4] = {1, 0, 0, 1};
    assert_float_equal(auc_exact(z, y, 4),
                       (0.5 + 2.0) / 4.0 /* pos 0.1 ties one neg; pos 0.3 beats both */, 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auc_vs_exact),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
