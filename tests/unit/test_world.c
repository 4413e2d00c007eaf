/* test_world.c - the planted synthetic world (gen/world.c).
 *
 * Checks determinism, ids, the affinity scale, label rates and event
 * shares against the configuration, that the planted affinity (and
 * intent) drive the labels, the seen-pair map, the JSON shapes against the
 * schemas, and that a plain logistic factorisation trained on the stream
 * recovers the planted affinity on held-out pairs. Run from the repository
 * root (reads schemas/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/util.h"
#include "gen/world.h"
#include "schema_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_STREAM 300000

/* One stream of N_STREAM events from the default world, shared by tests. */
static gen_event *stream;
static gen_world *world;

static int setup(void **state)
{
    world_config c;
    world_config_defaults(&c);
    world = world_new(&c);
    if (!world)
        return -1;
    stream = xmalloc(sizeof(gen_event) * N_STREAM);
    for (int i = 0; i < N_STREAM; i++)
        world_next_event(world, &stream[i]);
    return 0;
}

static int teardown(void **state)
{
    free(stream);
    world_free(world);
    return 0;
}

static void test_config_check(void **state)
{
    world_config c;
    char err[256];
    world_config_defaults(&c);
    assert_int_equal(c.n_members, 2000);
    assert_int_equal(c.n_companies, 300);
    assert_int_equal(c.latent_dim, 8);
    assert_true(fabs(c.apply_share - 0.10) < 1e-12 && fabs(c.inmail_share - 0.03) < 1e-12);
    assert_int_equal(world_config_check(&c, err, sizeof(err)), 0);

    world_config bad = c;
    bad.n_members = 0;
    assert_int_equal(world_config_check(&bad, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "n_members"));
    assert_null(world_new(&bad));
    bad = c;
    bad.latent_dim = -3;
    assert_int_equal(world_config_check(&bad, err, sizeof(err)), -1);
    bad = c;
    bad.apply_share = NAN;
    assert_int_equal(world_config_check(&bad, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "apply_share"));
    bad = c;
    bad.inmail_share = -0.1;
    assert_int_equal(world_config_check(&bad, err, sizeof(err)), -1);
    bad = c;
    bad.view_rate = 1.0;
    assert_int_equal(world_config_check(&bad, err, sizeof(err)), -1);
    bad = c;
    bad.alpha = INFINITY;
    assert_int_equal(world_config_check(&bad, err, sizeof(err)), -1);
    bad = c;
    bad.n_skill_ids = 5; /* with skill_ids NULL */
    assert_int_equal(world_config_check(&bad, err, sizeof(err)), -1);
    world_free(NULL);
}

static void test_ids(void **state)
{
    const world_config *c = world_get_config(world);
    int64_t prev = -1;
    for (int i = 0; i < c->n_members; i++) {
        int64_t id = world_member_id(world, i);
        assert_true(id > prev && id >= 1000000);
        assert_int_equal(world_member_index(world, id), i);
        prev = id;
    }
    prev = -1;
    for (int j = 0; j < c->n_companies; j++) {
        int64_t id = world_company_id(world, j);
        assert_true(id > prev && id >= 10000);
        assert_int_equal(world_company_index(world, id), j);
        prev = id;
    }
    /* not ids: indices, off-stride values, past the end, negative */
    assert_int_equal(world_member_index(world, 0), -1);
    assert_int_equal(world_member_index(world, world_member_id(world, 3) + 1), -1);
    assert_int_equal(world_member_index(world, world_member_id(world, c->n_members)), -1);
    assert_int_equal(world_company_index(world, -13), -1);
    assert_true(isnan(world_affinity(world, 5, world_company_id(world, 0))));
    assert_true(isnan(world_affinity(world, world_member_id(world, 0), 7)));
    double f[8];
    assert_int_equal(world_member_factor(world, 1, f), -1);
    assert_int_equal(world_company_factor(world, world_company_id(world, 2), f), 0);
    double u[8];
    assert_int_equal(world_member_factor(world, world_member_id(world, 9), u), 0);
    double a = 0;
    for (int k = 0; k < 8; k++)
        a += u[k] * f[k];
    assert_true(fabs(a - world_affinity(world, world_member_id(world, 9),
                                        world_company_id(world, 2))) < 1e-12);
    /* every event's ids belong to the world, and ids of other kinds look real too */
    for (int i = 0; i < 1000; i++) {
        const gen_event *e = &stream[i];
        assert_true(world_member_index(world, e->member_id) >= 0);
        assert_true(world_company_index(world, e->company_id) >= 0);
        if (e->kind == EV_INMAIL)
            assert_true(e->recruiter_id >= 7000000 && e->job_id == 0);
        else
            assert_true(e->job_id >= 3000000000LL && e->recruiter_id == 0);
    }
}

static int events_equal(const gen_event *a, const gen_event *b)
{
    return a->kind == b->kind && a->member_id == b->member_id && a->company_id == b->company_id &&
           a->job_id == b->job_id && a->recruiter_id == b->recruiter_id &&
           a->timestamp_ms == b->timestamp_ms && a->label == b->label &&
           a->member_seniority == b->member_seniority &&
           !strcmp(a->member_region, b->member_region) && a->has_intent == b->has_intent &&
           a->search_intent == b->search_intent && a->position == b->position &&
           a->device == b->device && a->seconds_on_page == b->seconds_on_page &&
           a->easy_apply == b->easy_apply && a->message_length == b->message_length &&
           a->n_skills == b->n_skills &&
           !memcmp(a->skills, b->skills, sizeof(int64_t) * (size_t)a->n_skills);
}

static void test_determinism(void **state)
{
    world_config c;
    world_config_defaults(&c);
    gen_world *w1 = world_new(&c);
    assert_non_null(w1);
    for (int i = 0; i < 20000; i++) {
        gen_event e;
        world_next_event(w1, &e);
        if (!events_equal(&e, &stream[i]))
            fail_msg("event %d differs between two worlds with the same seed", i);
    }
    assert_true(world_beta(w1, EV_JOB_VIEW) == world_beta(world, EV_JOB_VIEW));
    world_free(w1);

    c.seed = 43;
    gen_world *w2 = world_new(&c);
    int same = 0;
    for (int i = 0; i < 1000; i++) {
        gen_event e;
        world_next_event(w2, &e);
        same += events_equal(&e, &stream[i]);
    }
    double a1 = world_affinity(world, world_member_id(world, 0), world_company_id(world, 0));
    double a2 = world_affinity(w2, world_member_id(w2, 0), world_company_id(w2, 0));
    world_free(w2);
    printf("seed 43: %d of 1000 events equal to seed 42's\n", same);
    assert_true(same < 10);
    assert_true(a1 != a2);
}

static void test_affinity_scale(void **state)
{
    const world_config *c = world_get_config(world);
    double s = 0, ss = 0;
    long n = 0;
    for (int i = 0; i < c->n_members; i++)
        for (int j = 0; j < c->n_companies; j++) {
            double a = world_affinity(world, world_member_id(world, i), world_company_id(world, j));
            s += a;
            ss += a * a;
            n++;
        }
    double mean = s / n, sd = sqrt(ss / n - mean * mean);
    printf("affinity over all %ld pairs: mean %.3f sd %.3f\n", n, mean, sd);
    assert_true(fabs(mean) < 0.15);
    assert_true(sd > 0.8 && sd < 1.25);

    /* same scale for another latent dimension */
    world_config c32;
    world_config_defaults(&c32);
    c32.latent_dim = 32;
    c32.n_members = 500;
    gen_world *w = world_new(&c32);
    s = ss = 0;
    n = 0;
    for (int i = 0; i < 500; i++)
        for (int j = 0; j < 300; j++) {
            double a = world_affinity(w, world_member_id(w, i), world_company_id(w, j));
            s += a;
            ss += a * a;
            n++;
        }
    world_free(w);
    sd = sqrt(ss / n - (s / n) * (s / n));
    printf("latent_dim 32: affinity sd %.3f\n", sd);
    assert_true(sd > 0.8 && sd < 1.25);
}

static void test_rates_and_shares(void **state)
{
    long cnt[3] = {0}, pos[3] = {0};
    for (int i = 0; i < N_STREAM; i++) {
        assert_true(stream[i].kind >= EV_JOB_VIEW && stream[i].kind <= EV_INMAIL);
        assert_true(stream[i].label == 0 || stream[i].label == 1);
        cnt[stream[i].kind]++;
        pos[stream[i].kind] += stream[i].label;
    }
    double rate[3];
    for (int k = 0; k < 3; k++)
        rate[k] = (double)pos[k] / (double)cnt[k];
    double apply_share = (double)cnt[1] / cnt[0], inmail_share = (double)cnt[2] / cnt[0];
    printf("%d events: views %ld applies %ld InMails %ld; apply/view %.4f InMail/view %.4f\n",
           N_STREAM, cnt[0], cnt[1], cnt[2], apply_share, inmail_share);
    printf("label rates: view %.4f apply %.4f InMail %.4f (betas %.3f %.3f %.3f)\n", rate[0],
           rate[1], rate[2], world_beta(world, 0), world_beta(world, 1), world_beta(world, 2));
    assert_true(fabs(apply_share - 0.10) < 0.005);
    assert_true(fabs(inmail_share - 0.03) < 0.002);
    assert_true(fabs(rate[0] - 0.30) < 0.01);
    assert_true(fabs(rate[1] - 0.10) < 0.01);
    assert_true(fabs(rate[2] - 0.05) < 0.01);

    /* other shares and rates are honoured too */
    world_config c;
    world_config_defaults(&c);
    c.apply_share = 0.5;
    c.inmail_share = 0.0;
    c.view_rate = 0.1;
    c.seed = 7;
    gen_world *w = world_new(&c);
    long n[3] = {0}, p0 = 0;
    for (int i = 0; i < 60000; i++) {
        gen_event e;
        world_next_event(w, &e);
        n[e.kind]++;
        if (e.kind == EV_JOB_VIEW)
            p0 += e.label;
    }
    world_free(w);
    printf("apply_share 0.5, inmail_share 0, view_rate 0.1: apply/view %.3f InMails %ld "
           "view rate %.4f\n",
           (double)n[1] / n[0], n[2], (double)p0 / n[0]);
    assert_true(fabs((double)n[1] / n[0] - 0.5) < 0.02);
    assert_int_equal(n[2], 0);
    assert_true(fabs((double)p0 / n[0] - 0.1) < 0.01);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Mean label of the kind's events in the bottom and top quartile of affinity. */
static void quartile_rates(gen_event_kind kind, double *bottom, double *top)
{
    double *a = xmalloc(sizeof(double) * N_STREAM);
    int n = 0;
    for (int i = 0; i < N_STREAM; i++)
        if (stream[i].kind == kind)
            a[n++] = world_affinity(world, stream[i].member_id, stream[i].company_id);
    qsort(a, (size_t)n, sizeof(double), cmp_double);
    double q1 = a[n / 4], q3 = a[3 * n / 4];
    free(a);
    long nb = 0, nt = 0, pb = 0, pt = 0;
    for (int i = 0; i < N_STREAM; i++) {
        if (stream[i].kind != kind)
            continue;
        double x = world_affinity(world, stream[i].member_id, stream[i].company_id);
        if (x < q1)
            nb++, pb += stream[i].label;
        else if (x >= q3)
            nt++, pt += stream[i].label;
    }
    *bottom = (double)pb / nb;
    *top = (double)pt / nt;
}

static void test_affinity_drives_labels(void **state)
{
    static const double margin[3] = {0.40, 0.15, 0.08};
    for (int k = 0; k < 3; k++) {
        double b, t;
        quartile_rates((gen_event_kind)k, &b, &t);
        printf("%-16s mean label: bottom affinity quartile %.4f, top quartile %.4f\n",
               gen_event_kind_name((gen_event_kind)k), b, t);
        assert_true(t - b > margin[k]);
    }
}

static void test_intent_drives_applies(void **state)
{
    long n[2] = {0}, p[2] = {0}, nv[2] = {0}, pv[2] = {0};
    for (int i = 0; i < N_STREAM; i++) {
        const gen_event *e = &stream[i];
        if (!e->has_intent) {
            assert_true(e->search_intent == 0.0f);
            continue;
        }
        assert_true(e->search_intent > 0.0f && e->search_intent < 1.0f);
        int hi = e->search_intent > 0.5f;
        if (e->kind == EV_JOB_APPLY)
            n[hi]++, p[hi] += e->label;
        else if (e->kind == EV_JOB_VIEW)
            nv[hi]++, pv[hi] += e->label;
    }
    double lo = (double)p[0] / n[0], hi = (double)p[1] / n[1];
    double vlo = (double)pv[0] / nv[0], vhi = (double)pv[1] / nv[1];
    printf("apply rate: intent <= 0.5 %.4f, > 0.5 %.4f; view rate %.4f vs %.4f\n", lo, hi, vlo,
           vhi);
    assert_true(hi > 1.8 * lo);                /* strong effect on applies */
    assert_true(vhi > vlo && vhi < 1.6 * vlo); /* weaker on views */

    /* the attributes are the member's: same member, same attributes */
    for (int i = 1; i < 5000; i++)
        for (int j = 0; j < i && j < 50; j++)
            if (stream[i].member_id == stream[j].member_id) {
                assert_int_equal(stream[i].member_seniority, stream[j].member_seniority);
                assert_string_equal(stream[i].member_region, stream[j].member_region);
                assert_int_equal(stream[i].has_intent, stream[j].has_intent);
                assert_true(stream[i].search_intent == stream[j].search_intent);
                assert_int_equal(stream[i].n_skills, stream[j].n_skills);
            }
}

static void test_event_fields(void **state)
{
    int64_t prev = 0;
    long has_intent = 0, easy = 0, applies = 0, dev[3] = {0};
    for (int i = 0; i < N_STREAM; i++) {
        const gen_event *e = &stream[i];
        if (e->timestamp_ms <= prev)
            fail_msg("timestamp of event %d (%lld) not after the previous (%lld)", i,
                     (long long)e->timestamp_ms, (long long)prev);
        prev = e->timestamp_ms;
        assert_true(e->member_seniority >= 0 && e->member_seniority <= 6);
        assert_true(e->member_region && strlen(e->member_region) == 2);
        assert_true(e->n_skills >= 3 && e->n_skills <= 8);
        has_intent += e->has_intent;
        if (e->kind == EV_JOB_VIEW) {
            assert_true(e->position >= 0 && e->position < 25);
            assert_true(e->device >= 0 && e->device < 3);
            dev[e->device]++;
        } else if (e->kind == EV_JOB_APPLY) {
            assert_true(isfinite(e->seconds_on_page) && e->seconds_on_page > 0);
            applies++;
            easy += e->easy_apply;
        } else {
            assert_true(e->message_length >= 200 && e->message_length < 2000);
        }
    }
    double span_h = (double)(stream[N_STREAM - 1].timestamp_ms - stream[0].timestamp_ms) / 3.6e6;
    printf("timestamps span %.2f h; intent known on %.3f of events; easy_apply %.3f of applies\n",
           span_h, (double)has_intent / N_STREAM, (double)easy / applies);
    assert_true(stream[0].timestamp_ms > 1700000000000LL);
    assert_true(fabs((double)has_intent / N_STREAM - 0.7) < 0.05);
    assert_true(fabs((double)easy / applies - 0.3) < 0.06);
    assert_true(dev[0] > dev[1] && dev[1] > dev[2]);
}

static void test_seen_pairs(void **state)
{
    world_config c;
    world_config_defaults(&c);
    const uint64_t n = 50000;
    uint8_t *seen = world_seen_pairs(&c, n);
    assert_non_null(seen);
    size_t M = (size_t)c.n_members, C = (size_t)c.n_companies;
    uint8_t *mine = xcalloc(M * C, 1);
    for (uint64_t i = 0; i < n; i++) {
        size_t m = (size_t)world_member_index(world, stream[i].member_id);
        size_t j = (size_t)world_company_index(world, stream[i].company_id);
        mine[m * C + j] |= (uint8_t)(1u << stream[i].kind);
    }
    assert_memory_equal(seen, mine, M * C);
    size_t n_seen = 0, n_multi = 0;
    for (size_t i = 0; i < M * C; i++) {
        n_seen += seen[i] != 0;
        n_multi += (seen[i] & (seen[i] - 1)) != 0;
    }
    double expect = (double)(M * C) * (1.0 - exp(-(double)n / (double)(M * C)));
    printf("%llu events touch %zu of %zu pairs (%.1f%%, expected %.0f); %zu with 2+ kinds\n",
           (unsigned long long)n, n_seen, M * C, 100.0 * n_seen / (M * C), expect, n_multi);
    assert_true(fabs((double)n_seen - expect) < 0.02 * expect);
    free(mine);
    free(seen);
    c.n_companies = -1;
    assert_null(world_seen_pairs(&c, 10));
    c.n_companies = 10000000;
    c.n_members = 50000000;
    assert_null(world_seen_pairs(&c, 10)); /* refused, not a 500 TB allocation */
}

static void test_json_shapes(void **state)
{
    static const char *const avsc[3] = {"schemas/job_view.avsc", "schemas/job_apply.avsc",
                                        "schemas/inmail_response.avsc"};
    int checked[3] = {0}, null_intent = 0;
    char err[512];
    for (int i = 0; i < 3000; i++) {
        const gen_event *e = &stream[i];
        json_t *o = gen_event_to_json(e);
        assert_non_null(o);
        if (sc_check_record(avsc[e->kind], o, err, sizeof(err)) < 0)
            fail_msg("event %d (%s): %s", i, gen_event_kind_name(e->kind), err);
        assert_int_equal(json_integer_value(json_object_get(o, "member_id")), e->member_id);
        assert_int_equal(json_integer_value(json_object_get(o, "timestamp")), e->timestamp_ms);
        const char *label = e->kind == EV_JOB_VIEW    ? "viewed"
                            : e->kind == EV_JOB_APPLY ? "applied"
                                                      : "accepted";
        assert_int_equal(json_is_true(json_object_get(o, label)), e->label);
        if (e->kind == EV_JOB_APPLY) {
            json_t *sk = json_object_get(o, "member_skills");
            assert_int_equal(json_array_size(sk), e->n_skills);
            assert_int_equal(json_integer_value(json_array_get(sk, 0)), e->skills[0]);
        }
        if (e->kind != EV_INMAIL && !e->has_intent)
            null_intent += json_is_null(json_object_get(o, "search_intent"));
        checked[e->kind]++;
        json_decref(o);
    }
    printf("JSON checked against the schemas: %d views, %d applies, %d InMails (%d null intents)\n",
           checked[0], checked[1], checked[2], null_intent);
    assert_true(checked[0] > 0 && checked[1] > 0 && checked[2] > 0 && null_intent > 0);
    assert_string_equal(gen_event_kind_name(EV_INMAIL), "inmail_response");
}

static void test_skill_pool(void **state)
{
    int64_t pool[5] = {11, 22, 33, 44, 55};
    world_config c;
    world_config_defaults(&c);
    c.skill_ids = pool;
    c.n_skill_ids = 5;
    c.n_members = 100;
    gen_world *w = world_new(&c);
    assert_non_null(w);
    pool[0] = -1; /* the world keeps its own copy */
    for (int i = 0; i < 2000; i++) {
        gen_event e;
        world_next_event(w, &e);
        assert_true(e.n_skills >= 1 && e.n_skills <= 5);
        for (int k = 0; k < e.n_skills; k++) {
            assert_true(e.skills[k] % 11 == 0 && e.skills[k] >= 11 && e.skills[k] <= 55);
            for (int l = 0; l < k; l++)
                assert_true(e.skills[k] != e.skills[l]);
        }
    }
    assert_int_equal(world_get_config(w)->skill_ids[0], 11);
    world_free(w);
}

typedef struct {
    double s;
    int y;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    double x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return x < y ? -1 : x > y;
}

static double auc(scored *v, int n)
{
    qsort(v, (size_t)n, sizeof(scored), cmp_scored);
    double rank_sum = 0, npos = 0;
    for (int i = 0; i < n; i++)
        if (v[i].y)
            rank_sum += i + 1, npos++;
    return (rank_sum - npos * (npos + 1) / 2) / (npos * (n - npos));
}

/* A logistic factorisation trained by SGD on the view events recovers the
 * planted affinity on pairs it never saw. */
static void test_learnable(void **state)
{
    world_config c;
    world_config_defaults(&c);
    gen_world *w = world_new(&c);
    const int K = 8, M = c.n_members, C = c.n_companies, N = 700000, H = 50000;
    double *U = xmalloc(sizeof(double) * (size_t)(M * K)); /* (M, K) */
    double *V = xmalloc(sizeof(double) * (size_t)(C * K)); /* (C, K) */
    double *bm = xcalloc((size_t)M, sizeof(double)), *bc = xcalloc((size_t)C, sizeof(double));
    double b0 = 0;
    mts_rng r;
    rng_seed(&r, 1);
    for (int i = 0; i < M * K; i++)
        U[i] = 0.1 * rng_normal(&r);
    for (int i = 0; i < C * K; i++)
        V[i] = 0.1 * rng_normal(&r);
    uint8_t *seen = xcalloc((size_t)M * C, 1);
    gen_event *ev = xmalloc(sizeof(gen_event) * (size_t)N);
    for (int e = 0; e < N; e++)
        world_next_event(w, &ev[e]);
    const double lr = 0.05, l2 = 1e-4;
    for (int epoch = 0; epoch < 3; epoch++)
        for (int e = 0; e < N; e++) {
            if (ev[e].kind != EV_JOB_VIEW)
                continue;
            int m = world_member_index(w, ev[e].member_id);
            int j = world_company_index(w, ev[e].company_id);
            seen[(size_t)m * C + j] = 1;
            double *u = U + m * K, *v = V + j * K, s = b0 + bm[m] + bc[j];
            for (int k = 0; k < K; k++)
                s += u[k] * v[k];
            double g = 1 / (1 + exp(-s)) - ev[e].label;
            b0 -= lr * g, bm[m] -= lr * g, bc[j] -= lr * g;
            for (int k = 0; k < K; k++) {
                double uk = u[k];
                u[k] -= lr * (g * v[k] + l2 * uk);
                v[k] -= lr * (g * uk + l2 * v[k]);
            }
        }
    scored *learned = xmalloc(sizeof(scored) * H), *oracle = xmalloc(sizeof(scored) * H);
    int h = 0;
    double sx = 0, sy = 0, sxy = 0, sxx = 0, syy = 0;
    while (h < H) {
        gen_event e;
        world_next_event(w, &e);
        int m = world_member_index(w, e.member_id), j = world_company_index(w, e.company_id);
        if (e.kind != EV_JOB_VIEW || seen[(size_t)m * C + j])
            continue;
        double s = bm[m] + bc[j], a = world_affinity(w, e.member_id, e.company_id);
        for (int k = 0; k < K; k++)
            s += U[m * K + k] * V[j * K + k];
        learned[h] = (scored){s, e.label};
        oracle[h] = (scored){a, e.label};
        sx += s, sy += a, sxy += s * a, sxx += s * s, syy += a * a;
        h++;
    }
    double corr = (sxy / H - sx / H * sy / H) /
                  sqrt((sxx / H - sx / H * sx / H) * (syy / H - sy / H * sy / H));
    double auc_l = auc(learned, H), auc_o = auc(oracle, H);
    printf("logistic MF on %d events, held-out pairs: AUC %.4f (planted affinity %.4f), "
           "corr(score, affinity) %.3f\n",
           N, auc_l, auc_o, corr);
    assert_true(auc_o > 0.85);
    assert_true(auc_l > 0.80 && auc_l > auc_o - 0.06);
    assert_true(corr > 0.8);
    free(learned);
    free(oracle);
    free(ev);
    free(seen);
    free(U);
    free(V);
    free(bm);
    free(bc);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_check),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_affinity_scale),
        cmocka_unit_test(test_rates_and_shares),
        cmocka_unit_test(test_affinity_drives_labels),
        cmocka_unit_test(test_intent_drives_applies),
        cmocka_unit_test(test_event_fields),
        cmocka_unit_test(test_seen_pairs),
        cmocka_unit_test(test_json_shapes),
        cmocka_unit_test(test_skill_pool),
        cmocka_unit_test(test_learnable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
