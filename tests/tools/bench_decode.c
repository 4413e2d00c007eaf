/* bench_decode.c - decode rate of the intake hot path: N job-view records
 * (varied values, Avro binary) decoded with plan_decode into the 4-task
 * unified layout, 5 timed runs, median records/s printed.
 *
 *   build/tests/bench_decode [N]     (run from the repo root) */
#include "consumer/plan.h"
#include "consumer/unify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000000;
    static const char *files[] = {"schemas/job_view.avsc", "schemas/job_apply.avsc",
                                  "schemas/inmail_response.avsc", "schemas/skill_annotation.avsc"};
    static const char *names[] = {"job_view", "job_apply", "inmail", "skill"};
    static const char *regions[] = {"emea", "na", "apac", "latam"};
    char err[512];
    av_schema *s[4];
    for (int i = 0; i < 4; i++)
        if (!(s[i] = av_schema_parse_file(files[i], err, sizeof(err)))) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
    mts_layout *l = layout_unify(s, names, 4, err, sizeof(err));
    mts_plan *p = l ? plan_compile(s[0], s[0], l, 0, err, sizeof(err)) : NULL;
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    /* encode n records back to back; offsets index them */
    mts_buf data;
    buf_init(&data);
    size_t *off = malloc(((size_t)n + 1) * sizeof(size_t));
    mts_rng rng;
    rng_seed(&rng, 42);
    for (int i = 0; i < n; i++) {
        off[i] = data.len;
        json_t *rec = json_pack("{s:I,s:I,s:I,s:I,s:b,s:i,s:s,s:o,s:i,s:s}", "member_id",
                                (json_int_t)rng_below(&rng, 1000000), "company_id",
                                (json_int_t)rng_below(&rng, 50000), "job_id", (json_int_t)rng_below(&rng, 10000000),
                                "timestamp", (json_int_t)(1700000000000LL + i), "viewed", (int)rng_below(&rng, 2),
                                "member_seniority", (int)rng_below(&rng, 7), "member_region",
                                regions[rng_below(&rng, 4)], "search_intent",
                                rng_below(&rng, 3) ? json_real(rng_uniform(&rng)) : json_null(), "position",
                                (int)rng_below(&rng, 25), "device", rng_below(&rng, 2) ? "MOBILE" : "DESKTOP");
        if (av_encode_json(s[0], rec, &data, err, sizeof(err)) < 0) {
            fprintf(stderr, "encode: %s\n", err);
            return 1;
        }
        json_decref(rec);
    }
    off[n] = data.len;
    mts_value *v = calloc((size_t)l->n_fields, sizeof(mts_value));
    mts_row row = {.v = v};
    mts_arena arena;
    arena_init(&arena, 1 << 16);
    double rates[5];
    long long check = 0;
    for (int run = 0; run < 5; run++) {
        double t0 = mono_sec();
        for (int i = 0; i < n; i++) {
            if ((i & 1023) == 0)
                arena_reset(&arena); /* one batch of 1024 rows */
            decode_reason r = plan_decode(p, data.data + off[i], off[i + 1] - off[i], &row, &arena, err,
                                          sizeof(err));
            if (r != DR_OK) {
                fprintf(stderr, "record %d: %s\n", i, err);
                return 1;
            }
            check += v[0].u.l;
        }
        rates[run] = n / (mono_sec() - t0);
    }
    qsort(rates, 5, sizeof(double), cmp_double);
    printf("bench_decode: %d job-view records (%.1f bytes avg), %d layout slots\n", n,
           (double)data.len / n, l->n_fields);
    printf("plan_decode: median %.0f records/s/core (min %.0f, max %.0f) [checksum %lld]\n", rates[2], rates[0],
           rates[4], check);
    free(v);
    free(off);
    arena_free(&arena);
    buf_free(&data);
    plan_free(p);
    layout_free(l);
    for (int i = 0; i < 4; i++)
        av_schema_free(s[i]);
    return 0;
}
