/* bench_mtl.c - `make bench` figures of the declarative multitask network.
 *
 * 1. Training examples/s per core of the declared default model
 *    (conf/multitask-example.conf, its three affinity tasks mixed 70/20/10,
 *    100k members, 10k companies, batch 256, one BLAS thread).
 * 2. Dense layers: achieved GFLOP/s of dense_forward + dense_backward
 *    (6 B C OC flops) at batch 256 for several widths, next to the
 *    single-core sgemm rate measured in the same run (1024^3 product).
 * 3. An embedding table under churn: 5M distinct ids through capacity
 *    100k with expiry; peak rows and bytes against the capacity and the
 *    computed memory bound.
 * Each figure is the median of `runs` repetitions. */
#include "common/util.h"
#include "model/blas.h"
#include "model/dyntable.h"
#include "model/layers.h"
#include "model/mtl.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_d);
    return v[n / 2];
}

static double sgemm_gflops(int n)
{
    float *a = xmalloc((size_t)n * n * sizeof(float)), *b = xmalloc((size_t)n * n * sizeof(float)),
          *c = xcalloc((size_t)n * n, sizeof(float));
    for (size_t i = 0; i < (size_t)n * n; i++)
        a[i] = b[i] = (float)(i % 7) * 0.1f;
    blas_gemm_nt(c, a, b, n, n, n, 0.0f); /* warm-up */
    int reps = 0;
    double t0 = mono_sec(), t;
    do {
        blas_gemm_nt(c, a, b, n, n, n, 0.0f);
        reps++;
    } while ((t = mono_sec() - t0) < 0.5);
    free(a), free(b), free(c);
    return 2.0 * n * n * (double)n * reps / t / 1e9;
}

static double dense_gflops(int B, int C, int OC)
{
    float *x = xmalloc((size_t)B * C * sizeof(float)), *w = xmalloc((size_t)OC * C * sizeof(float));
    float *bias = xcalloc((size_t)OC, sizeof(float)), *y = xmalloc((size_t)B * OC * sizeof(float));
    float *dx = xcalloc((size_t)B * C, sizeof(float)), *dw = xcalloc((size_t)OC * C, sizeof(float));
    float *db = xcalloc((size_t)OC, sizeof(float));
    for (size_t i = 0; i < (size_t)B * C; i++)
        x[i] = (float)(i % 13) * 0.01f;
    for (size_t i = 0; i < (size_t)OC * C; i++)
        w[i] = (float)(i % 11) * 0.01f;
    int reps = 0;
    double t0 = mono_sec(), t;
    do {
        dense_forward(y, x, w, bias, B, C, OC);
        dense_backward(dx, dw, db, y, x, w, B, C, OC);
        reps++;
    } while ((t = mono_sec() - t0) < 0.3);
    free(x), free(w), free(bias), free(y), free(dx), free(dw), free(db);
    return 6.0 * B * C * (double)OC * reps / t / 1e9;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 3;
    int nev = argc > 2 ? atoi(argv[2]) : 300000;
    const char *conf = argc > 3 ? argv[3] : "conf/multitask-example.conf";
    if (runs < 1 || runs > 50 || nev < 1000) {
        fprintf(stderr, "usage: bench_mtl [runs 1..50] [events >= 1000] [config]\n");
        return 2;
    }
    blas_init_single_thread();
    double *v = xmalloc((size_t)runs * sizeof(double));
    char err[512];

    /* 1. training throughput */
    for (int r = 0; r < runs; r++) {
        mtl_net *net = mtl_new_from_file(conf, err, sizeof(err));
        if (!net) {
            fprintf(stderr, "bench_mtl: %s: %s\n", conf, err);
            return 1;
        }
        int tv = mtl_task_index(net, "job_view"), ta = mtl_task_index(net, "job_apply"),
            ti = mtl_task_index(net, "inmail");
        int im = mtl_input_index(net, "member_id"), ic = mtl_input_index(net, "company_id");
        int ni = mtl_n_inputs(net);
        if (tv < 0 || ta < 0 || ti < 0 || im < 0 || ic < 0) {
            fprintf(
                stderr,
                "bench_mtl: %s lacks the job_view/job_apply/inmail tasks or member_id/company_id\n",
                conf);
            return 1;
        }
        mtl_value *vals = xcalloc((size_t)256 * ni, sizeof(mtl_value));
        mtl_example ex[256];
        mts_rng g;
        rng_seed(&g, 1);
        double busy = 0;
        for (int i = 0; i < nev; i += 256) {
            for (int j = 0; j < 256; j++) {
                double u = rng_uniform(&g);
                mtl_value *x = vals + (size_t)j * ni;
                x[im].id = (int64_t)rng_below(&g, 100000);
                x[ic].id = (int64_t)rng_below(&g, 10000);
                ex[j] = (mtl_example){.task = u < 0.7   ? tv
                                              : u < 0.9 ? ta
                                                        : ti,
                                      .label = rng_uniform(&g) < 0.2 ? 1.0f : 0.0f,
                                      .weight = 1,
                                      .in = x};
            }
            double t0 = mono_sec();
            mtl_train_batch(net, ex, 256, err, sizeof(err));
            busy += mono_sec() - t0;
        }
        v[r] = (nev / 256 * 256) / busy;
        free(vals);
        mtl_free(net);
    }
    printf("declared model (%s, 3 affinity tasks, batch 256): %.0f training examples/s per core "
           "(median of %d)\n",
           conf, median(v, runs), runs);

    /* 2. dense layers vs sgemm */
    for (int r = 0; r < runs; r++)
        v[r] = sgemm_gflops(1024);
    double peak = median(v, runs);
    printf("single-core sgemm (1024 x 1024 x 1024): %.1f GFLOP/s\n", peak);
    const int widths[] = {32, 128, 256, 512};
    for (size_t k = 0; k < sizeof(widths) / sizeof(widths[0]); k++) {
        for (int r = 0; r < runs; r++)
            v[r] = dense_gflops(256, widths[k], widths[k]);
        double gf = median(v, runs);
        printf(
            "dense %3d -> %3d, batch 256, forward + backward: %.1f GFLOP/s = %.0f%% of sgemm%s\n",
            widths[k], widths[k], gf, 100 * gf / peak,
            widths[k] >= 256 ? (gf >= 0.4 * peak ? " (target 40%: met)" : " (target 40%: NOT met)")
                             : "");
    }

    /* 3. table churn */
    dyntable t;
    if (dyntable_init(&t, 32, 100000, 1, 200000, 0.05f, 1, 1, err, sizeof(err))) {
        fprintf(stderr, "bench_mtl: %s\n", err);
        return 1;
    }
    size_t bound = dyntable_bytes_bound(&t), peak_bytes = 0;
    uint32_t peak_rows = 0;
    const int64_t N = 5000000;
    double t0 = mono_sec();
    for (int64_t i = 0; i < N; i++) {
        /* half the lookups from 20k hot ids, half fresh ids: far beyond capacity */
        int64_t id = (i & 1) ? (int64_t)mix64((uint64_t)i) : (int64_t)(i % 20000);
        int32_t row = dyntable_lookup(&t, id, i, 1);
        if (row >= 0 && (i & 255) == 0) {
            dyntable_grad(&t, row)[0] = 0.1f;
            dyntable_update(&t, OPT_ADAGRAD, 0.05f, 0);
        }
        if (t.n > peak_rows)
            peak_rows = t.n;
        if ((i & 4095) == 0 && dyntable_bytes(&t) > peak_bytes)
            peak_bytes = dyntable_bytes(&t);
    }
    double dt = mono_sec() - t0;
    if (dyntable_bytes(&t) > peak_bytes)
        peak_bytes = dyntable_bytes(&t);
    int ok = peak_rows <= t.capacity && peak_bytes <= bound;
    printf("table churn: %lld lookups (%.1fM/s), %llu distinct-id rows created, %llu expired, %llu "
           "refused; peak %u rows "
           "(capacity %u), peak %.1f MiB (bound %.1f MiB): %s\n",
           (long long)N, N / dt / 1e6, (unsigned long long)t.created, (unsigned long long)t.expired,
           (unsigned long long)t.refused, peak_rows, t.capacity, peak_bytes / 1048576.0,
           bound / 1048576.0, ok ? "within capacity and bound" : "EXCEEDED");
    dyntable_free(&t);
    free(v);
    return ok ? 0 : 1;
}
