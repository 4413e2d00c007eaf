/* bench_decode.c - decode rate of the intake hot path, per event kind: N
 * random records of each task's schema (Avro binary; skill: N/4 with 20
 * tokens each) decoded with plan_decode into the 4-task unified layout
 * (decode + unify), 5 timed runs each, median records/s on one core.
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

/* A random value of schema s as JSON: short strings (skill tokens: 20
 * words), arrays of 0..4 items (tokens: 20), both union branches. */
static json_t *random_value(const av_schema *s, const char *field, mts_rng *rng)
{
    static const char *const words[] = {"emea",  "na",     "apac", "latam",
                                        "Spark", "python", "the",  "Zürich"};
    switch (s->type) {
    case AV_NULL:
        return json_null();
    case AV_BOOLEAN:
        return json_boolean(rng_below(rng, 2));
    case AV_INT:
        return json_integer((json_int_t)rng_below(rng, 50));
    case AV_LONG:
        return json_integer((json_int_t)rng_below(rng, 10000000));
    case AV_FLOAT:
    case AV_DOUBLE:
        return json_real(rng_uniform(rng));
    case AV_STRING:
    case AV_BYTES:
        return json_string(words[rng_below(rng, ARRAY_LEN(words))]);
    case AV_ENUM:
        return json_string(s->symbols[rng_below(rng, (uint64_t)s->n_symbols)]);
    case AV_UNION:
        return random_value(s->branches[rng_below(rng, (uint64_t)s->n_branches)], field, rng);
    case AV_ARRAY: {
        json_t *a = json_array();
        int n = field && !strcmp(field, "tokens") ? 20 : (int)rng_below(rng, 5);
        for (int i = 0; i < n; i++)
            json_array_append_new(a, random_value(s->items, NULL, rng));
        return a;
    }
    case AV_RECORD: {
        json_t *o = json_object();
        for (int i = 0; i < s->n_fields; i++)
            json_object_set_new(o, s->fields[i].name,
                                random_value(s->fields[i].type, s->fields[i].name, rng));
        return o;
    }
    default:
        return json_null();
    }
}

/* Median records/s of plan_decode over n encoded records of one kind. */
static int bench_kind(const av_schema *s, const mts_layout *l, int task, int n, const char *name)
{
    char err[512];
    mts_plan *p = plan_compile(s, s, l, task, err, sizeof(err));
    if (!p) {
        fprintf(stderr, "%s: %s\n", name, err);
        return 1;
    }
    mts_buf data;
    buf_init(&data);
    size_t *off = malloc(((size_t)n + 1) * sizeof(size_t));
    mts_rng rng;
    rng_seed(&rng, 42 + (uint64_t)task);
    for (int i = 0; i < n; i++) {
        off[i] = data.len;
        json_t *rec = random_value(s, NULL, &rng);
        if (av_encode_json(s, rec, &data, err, sizeof(err)) < 0) {
            fprintf(stderr, "%s: encode: %s\n", name, err);
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
            decode_reason r = plan_decode(p, data.data + off[i], off[i + 1] - off[i], &row, &arena,
                                          err, sizeof(err));
            if (r != DR_OK) {
                fprintf(stderr, "%s record %d: %s\n", name, i, err);
                return 1;
            }
            check += v[0].u.l + v[0].n; /* keep the work observable */
        }
        rates[run] = n / (mono_sec() - t0);
    }
    qsort(rates, 5, sizeof(double), cmp_double);
    printf("%-10s %8d records, %5.1f bytes avg: median %9.0f records/s/core (min %.0f, max %.0f) "
           "[%lld]\n",
           name, n, (double)data.len / n, rates[2], rates[0], rates[4], check);
    free(v);
    free(off);
    arena_free(&arena);
    buf_free(&data);
    plan_free(p);
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000000;
    static const char *files[] = {"schemas/job_view.avsc", "schemas/job_apply.avsc",
                                  "schemas/inmail_response.avsc", "schemas/skill_annotation.avsc"};
    static const char *names[] = {"job_view", "job_apply", "inmail", "skill"};
    char err[512];
    av_schema *s[4];
    for (int i = 0; i < 4; i++)
        if (!(s[i] = av_schema_parse_file(files[i], err, sizeof(err)))) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
    mts_layout *l = layout_unify(s, names, 4, err, sizeof(err));
    if (!l) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("bench_decode: plan_decode (decode + unify into the %d-slot layout of 4 tasks), 5 runs "
           "each, "
           "one core\n",
           l->n_fields);
    int rc = 0;
    for (int t = 0; t < 4 && !rc; t++)
        rc = bench_kind(s[t], l, t, t == 3 ? n / 4 : n, names[t]);
    layout_free(l);
    for (int i = 0; i < 4; i++)
        av_schema_free(s[i]);
    return rc;
}
