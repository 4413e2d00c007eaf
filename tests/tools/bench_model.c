/* bench_model.c - training throughput of the affinity model.
 *
 * Usage: bench_model [events] [batch] [runs]   (defaults 700000 256 3)
 * Three affinity tasks mixed 70/20/10 over 100k members and 10k companies,
 * default model sizes; prints events/s per run and the median. */
#include "common/util.h"
#include "model/model.h"
#include "../unit/model_test_layout.h"

#include <stdio.h>
#include <stdlib.h>

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int nev = argc > 1 ? atoi(argv[1]) : 700000, batch = argc > 2 ? atoi(argv[2]) : 256;
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    if (nev < 1 || batch < 1 || batch > 65536 || runs < 1 || runs > 50) {
        fprintf(stderr, "usage: bench_model [events] [batch 1..65536] [runs 1..50]\n");
        return 2;
    }
    mts_layout *l = test_layout_standard();
    model_config cfg;
    model_config_defaults(&cfg);
    test_task(&cfg, "view", TASK_AFFINITY, "viewed", 1, 1);
    test_task(&cfg, "apply", TASK_AFFINITY, "applied", 1, 2);
    test_task(&cfg, "inmail", TASK_AFFINITY, "accepted", 1, 1);
    mts_row *rows = xmalloc((size_t)batch * sizeof(mts_row));
    mts_value *vals = xmalloc((size_t)batch * F_COUNT * sizeof(mts_value));
    double *rate = xmalloc((size_t)runs * sizeof(double));
    char err[256];
    for (int run = 0; run < runs; run++) {
        mts_model *m = model_new(&cfg, l, err, sizeof(err));
        if (!m) {
            fprintf(stderr, "model_new: %s\n", err);
            return 1;
        }
        mts_rng r;
        rng_seed(&r, 1);
        double busy = 0;
        for (int i = 0; i < nev; i += batch) {
            int n = nev - i < batch ? nev - i : batch;
            for (int j = 0; j < n; j++) {
                double u = rng_uniform(&r);
                int t = u < 0.7 ? 0 : u < 0.9 ? 1 : 2;
                test_affinity_row(&rows[j], vals + (size_t)j * F_COUNT, t, F_VIEWED + t,
                                  (int64_t)rng_below(&r, 100000), (int64_t)rng_below(&r, 10000),
                                  rng_uniform(&r) < 0.2);
            }
            double t0 = mono_sec();
            if (model_train_batch(m, rows, n, err, sizeof(err)) < 0) {
                fprintf(stderr, "train: %s\n", err);
                return 1;
            }
            busy += mono_sec() - t0;
        }
        rate[run] = nev / busy;
        printf("run %d: %d events in %.3f s of training: %.0f events/s\n", run, nev, busy,
               rate[run]);
        model_free(m);
    }
    qsort(rate, (size_t)runs, sizeof(double), cmp_d);
    printf("median: %.0f events/s (batch %d, dim %d, id_dim %d, hidden %d)\n", rate[runs / 2],
           batch, cfg.dim, cfg.id_dim, cfg.hidden);
    free(rows);
    free(vals);
    free(rate);
    test_layout_free(l);
    return 0;
}
