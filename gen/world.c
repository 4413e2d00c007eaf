/* world.c - the planted synthetic world and its event stream.
 *
 * The model is documented in world.h. How it is built: world_new draws
 * every per-entity quantity from one RNG seeded with the configured seed
 * (skills, then members, then companies, in index order), calibrates the
 * three intercepts on a Monte-Carlo sample drawn from a second RNG, and
 * seeds the stream's RNG from a third derivation of the seed. The stream
 * shares draw_context() with the calibration, so the calibrated rates are
 * the rates of the stream. */
#include "gen/world.h"

#include "common/log.h"
#include "common/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMBER_ID_BASE 1000000LL
#define MEMBER_ID_STRIDE 7LL
#define COMPANY_ID_BASE 50000LL
#define COMPANY_ID_STRIDE 13LL
#define JOB_ID_BASE 3000000000LL
#define JOBS_PER_COMPANY 64
#define RECRUITER_ID_BASE 7000000LL
#define RECRUITERS_PER_COMPANY 4
#define SYNTH_SKILLS 500
#define MAX_SKILLS 8
#define N_POSITIONS 25
#define CALIB_SAMPLES 40000
#define SKILL_SHARE 0.5 /* rho in world.h */

static const char *const regions[] = {"US", "IN", "BR", "GB", "DE", "FR", "CA", "DK"};
static const double region_weights[] = {0.30, 0.20, 0.12, 0.10, 0.09, 0.08, 0.07, 0.04};
static const double seniority_weights[] = {0.05, 0.20, 0.25, 0.20, 0.15, 0.10, 0.05};

struct gen_world {
    world_config cfg; /* skill_ids points at skill_pool */
    int d;
    int64_t *skill_pool;    /* (n_skills) */
    double *member_f;       /* (M, d) u_m */
    double *company_f;      /* (C, d) v_c */
    uint8_t *seniority;     /* (M) */
    uint8_t *region;        /* (M) index into regions */
    float *intent;          /* (M) true intent t_m */
    uint8_t *has_intent;    /* (M) */
    uint8_t *n_mskills;     /* (M) */
    int64_t *mskills;       /* (M, MAX_SKILLS) */
    double beta[3];         /* by gen_event_kind */
    double p_view, p_apply; /* kind thresholds: u < p_view view, < p_view + p_apply apply */
    mts_rng rng;            /* the stream */
    int64_t t_ms;           /* timestamp of the last event */
};

void world_config_defaults(world_config *c)
{
    memset(c, 0, sizeof(*c));
    c->n_members = 2000;
    c->n_companies = 300;
    c->latent_dim = 8;
    c->seed = 42;
    c->apply_share = 0.10;
    c->inmail_share = 0.03;
    c->alpha = 2.5;
    c->view_rate = 0.30;
    c->apply_rate = 0.10;
    c->inmail_rate = 0.05;
    c->start_ms = 1700000000000LL;
}

static int rate_ok(double r)
{
    return isfinite(r) && r > 0.0 && r < 1.0;
}

int world_config_check(const world_config *c, char *err, size_t errlen)
{
    if (c->n_members <= 0 || c->n_members > 50000000)
        return snprintf(err, errlen, "n_members %d out of range 1..50000000", c->n_members), -1;
    if (c->n_companies <= 0 || c->n_companies > 10000000)
        return snprintf(err, errlen, "n_companies %d out of range 1..10000000", c->n_companies), -1;
    if (c->latent_dim <= 0 || c->latent_dim > 1024)
        return snprintf(err, errlen, "latent_dim %d out of range 1..1024", c->latent_dim), -1;
    if (!isfinite(c->apply_share) || c->apply_share < 0 || c->apply_share > 1000)
        return snprintf(err, errlen, "apply_share %g out of range 0..1000", c->apply_share), -1;
    if (!isfinite(c->inmail_share) || c->inmail_share < 0 || c->inmail_share > 1000)
        return snprintf(err, errlen, "inmail_share %g out of range 0..1000", c->inmail_share), -1;
    if (!isfinite(c->alpha) || c->alpha < 0 || c->alpha > 100)
        return snprintf(err, errlen, "alpha %g out of range 0..100", c->alpha), -1;
    if (!rate_ok(c->view_rate) || !rate_ok(c->apply_rate) || !rate_ok(c->inmail_rate))
        return snprintf(err, errlen, "label rates must be in (0, 1): view %g apply %g inmail %g",
                        c->view_rate, c->apply_rate, c->inmail_rate),
               -1;
    if (c->start_ms < 0 || c->start_ms > 4000000000000LL)
        return snprintf(err, errlen, "start_ms %lld out of range", (long long)c->start_ms), -1;
    if (c->n_skill_ids > 0 && !c->skill_ids)
        return snprintf(err, errlen, "n_skill_ids %zu but skill_ids is NULL", c->n_skill_ids), -1;
    if (c->n_skill_ids > 100000000)
        return snprintf(err, errlen, "n_skill_ids %zu too large", c->n_skill_ids), -1;
    return 0;
}

static int pick_weighted(mts_rng *r, const double *w, int n)
{
    double u = rng_uniform(r);
    for (int i = 0; i < n - 1; i++) {
        if (u < w[i])
            return i;
        u -= w[i];
    }
    return n - 1;
}

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static double dot(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Everything of an event except kind-independent bookkeeping (timestamp)
 * and the label; shared by the stream and the calibration. */
static void draw_context(const gen_world *w, mts_rng *r, gen_event_kind kind, gen_event *ev,
                         int *mi, int *cj)
{
    int m = (int)rng_below(r, (uint64_t)w->cfg.n_members);
    int c = (int)rng_below(r, (uint64_t)w->cfg.n_companies);
    *mi = m;
    *cj = c;
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    ev->member_id = world_member_id(w, m);
    ev->company_id = world_company_id(w, c);
    ev->member_seniority = w->seniority[m];
    ev->member_region = regions[w->region[m]];
    ev->has_intent = w->has_intent[m];
    ev->search_intent = w->has_intent[m] ? w->intent[m] : 0.0f;
    ev->n_skills = w->n_mskills[m];
    memcpy(ev->skills, w->mskills + (size_t)m * MAX_SKILLS, sizeof(int64_t) * (size_t)ev->n_skills);
    switch (kind) {
    case EV_JOB_VIEW: {
        int k = (int)rng_below(r, JOBS_PER_COMPANY);
        ev->job_id = JOB_ID_BASE + (int64_t)c * JOBS_PER_COMPANY + k;
        ev->position = (int)rng_below(r, N_POSITIONS);
        double u = rng_uniform(r);
        ev->device = u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
        break;
    }
    case EV_JOB_APPLY: {
        int k = (int)rng_below(r, JOBS_PER_COMPANY);
        ev->job_id = JOB_ID_BASE + (int64_t)c * JOBS_PER_COMPANY + k;
        ev->easy_apply = mix64((uint64_t)ev->job_id) % 10 < 3;
        ev->seconds_on_page = (float)exp(3.0 + 0.4 * w->intent[m] + 0.6 * rng_normal(r));
        break;
    }
    case EV_INMAIL:
        ev->recruiter_id =
            RECRUITER_ID_BASE + (int64_t)c * 8 + (int64_t)rng_below(r, RECRUITERS_PER_COMPANY);
        ev->message_length = 200 + (int)rng_below(r, 1800);
        break;
    }
}

/* The logit of the event's label without the intercept (see world.h). */
static double base_logit(const gen_world *w, const gen_event *ev, int m, int c)
{
    int d = w->d;
    double a = dot(w->member_f + (size_t)m * d, w->company_f + (size_t)c * d, d);
    double t = w->intent[m];
    switch (ev->kind) {
    case EV_JOB_VIEW:
        return w->cfg.alpha * a + 1.0 * (t - 0.5) - 0.03 * ev->position;
    case EV_JOB_APPLY:
        return w->cfg.alpha * a + 3.0 * (t - 0.5) + 0.5 * ev->easy_apply;
    case EV_INMAIL:
        return w->cfg.alpha * a - 0.2 * (ev->member_seniority - 3);
    }
    return 0;
}

/* beta such that the mean of sigmoid(z_i + beta) is target. */
static double solve_intercept(const double *z, int n, double target)
{
    double lo = -40, hi = 40;
    for (int it = 0; it < 80; it++) {
        double mid = 0.5 * (lo + hi), s = 0;
        for (int i = 0; i < n; i++)
            s += sigmoid(z[i] + mid);
        if (s / n < target)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

static void calibrate(gen_world *w)
{
    mts_rng r;
    rng_seed(&r, mix64(w->cfg.seed ^ 0xca11b7a7e0000001ULL));
    double *z = xmalloc(sizeof(double) * CALIB_SAMPLES);
    const double target[3] = {w->cfg.view_rate, w->cfg.apply_rate, w->cfg.inmail_rate};
    for (int kind = 0; kind < 3; kind++) {
        for (int i = 0; i < CALIB_SAMPLES; i++) {
            gen_event ev;
            int m, c;
            draw_context(w, &r, (gen_event_kind)kind, &ev, &m, &c);
            z[i] = base_logit(w, &ev, m, c);
        }
        w->beta[kind] = solve_intercept(z, CALIB_SAMPLES, target[kind]);
    }
    free(z);
}

gen_world *world_new(const world_config *c)
{
    char err[256];
    if (world_config_check(c, err, sizeof(err)) < 0) {
        log_err("world configuration: %s", err);
        return NULL;
    }
    gen_world *w = xcalloc(1, sizeof(*w));
    w->cfg = *c;
    int d = w->d = c->latent_dim;
    size_t M = (size_t)c->n_members, C = (size_t)c->n_companies;
    double sd = pow((double)d, -0.25); /* component variance 1/sqrt(d) */
    mts_rng r;
    rng_seed(&r, c->seed);

    size_t ns = c->n_skill_ids ? c->n_skill_ids : SYNTH_SKILLS;
    w->skill_pool = xmalloc(sizeof(int64_t) * ns);
    for (size_t k = 0; k < ns; k++) {
        char name[48];
        snprintf(name, sizeof(name), "synthetic-skill-%zu", k);
        w->skill_pool[k] =
            c->n_skill_ids ? c->skill_ids[k] : (int64_t)(hash64(name, strlen(name)) >> 1);
    }
    w->cfg.skill_ids = w->skill_pool;
    w->cfg.n_skill_ids = ns;
    /* Skill vectors live only during construction: they shape u_m. */
    double *skill_f = xmalloc(sizeof(double) * ns * (size_t)d); /* (ns, d) */
    for (size_t i = 0; i < ns * (size_t)d; i++)
        skill_f[i] = sd * rng_normal(&r);

    w->member_f = xmalloc(sizeof(double) * M * (size_t)d);
    w->company_f = xmalloc(sizeof(double) * C * (size_t)d);
    w->seniority = xmalloc(M);
    w->region = xmalloc(M);
    w->intent = xmalloc(sizeof(float) * M);
    w->has_intent = xmalloc(M);
    w->n_mskills = xmalloc(M);
    w->mskills = xcalloc(M * MAX_SKILLS, sizeof(int64_t));
    double *mix = xmalloc(sizeof(double) * (size_t)d);
    for (size_t m = 0; m < M; m++) {
        double *u = w->member_f + m * (size_t)d;
        int n = 3 + (int)rng_below(&r, MAX_SKILLS - 2); /* 3..8 */
        int got = 0;
        memset(mix, 0, sizeof(double) * (size_t)d);
        for (int tries = 0; got < n && tries < 64; tries++) {
            double q = rng_uniform(&r);
            size_t k = (size_t)(q * q * (double)ns);
            int dup = 0;
            for (int i = 0; i < got; i++)
                dup |= w->mskills[m * MAX_SKILLS + (size_t)i] == w->skill_pool[k];
            if (dup)
                continue;
            w->mskills[m * MAX_SKILLS + (size_t)got++] = w->skill_pool[k];
            for (int i = 0; i < d; i++)
                mix[i] += skill_f[k * (size_t)d + (size_t)i];
        }
        w->n_mskills[m] = (uint8_t)got;
        for (int i = 0; i < d; i++)
            u[i] = sqrt(1.0 - SKILL_SHARE) * sd * rng_normal(&r) +
                   sqrt(SKILL_SHARE) * mix[i] / sqrt((double)got);
        w->seniority[m] =
            (uint8_t)pick_weighted(&r, seniority_weights, (int)ARRAY_LEN(seniority_weights));
        w->region[m] = (uint8_t)pick_weighted(&r, region_weights, (int)ARRAY_LEN(region_weights));
        w->intent[m] = (float)sigmoid(-0.3 + 1.2 * rng_normal(&r));
        w->has_intent[m] = rng_uniform(&r) < 0.7;
    }
    free(mix);
    free(skill_f);
    for (size_t i = 0; i < C * (size_t)d; i++)
        w->company_f[i] = sd * rng_normal(&r);

    double total = 1.0 + c->apply_share + c->inmail_share;
    w->p_view = 1.0 / total;
    w->p_apply = c->apply_share / total;
    calibrate(w);
    rng_seed(&w->rng, mix64(c->seed ^ 0x5772ea4d00000002ULL));
    w->t_ms = c->start_ms;
    return w;
}

void world_free(gen_world *w)
{
    if (!w)
        return;
    free(w->skill_pool);
    free(w->member_f);
    free(w->company_f);
    free(w->seniority);
    free(w->region);
    free(w->intent);
    free(w->has_intent);
    free(w->n_mskills);
    free(w->mskills);
    free(w);
}

const world_config *world_get_config(const gen_world *w)
{
    return &w->cfg;
}

int64_t world_member_id(const gen_world *w, int i)
{
    (void)w;
    return MEMBER_ID_BASE + MEMBER_ID_STRIDE * (int64_t)i;
}

int64_t world_company_id(const gen_world *w, int j)
{
    (void)w;
    return COMPANY_ID_BASE + COMPANY_ID_STRIDE * (int64_t)j;
}

static int index_of(int64_t id, int64_t base, int64_t stride, int n)
{
    if (id < base || (id - base) % stride != 0 || (id - base) / stride >= n)
        return -1;
    return (int)((id - base) / stride);
}

int world_member_index(const gen_world *w, int64_t member_id)
{
    return index_of(member_id, MEMBER_ID_BASE, MEMBER_ID_STRIDE, w->cfg.n_members);
}

int world_company_index(const gen_world *w, int64_t company_id)
{
    return index_of(company_id, COMPANY_ID_BASE, COMPANY_ID_STRIDE, w->cfg.n_companies);
}

double world_affinity(const gen_world *w, int64_t member_id, int64_t company_id)
{
    int m = world_member_index(w, member_id), c = world_company_index(w, company_id);
    if (m < 0 || c < 0)
        return NAN;
    return dot(w->member_f + (size_t)m * w->d, w->company_f + (size_t)c * w->d, w->d);
}

int world_member_factor(const gen_world *w, int64_t member_id, double *out)
{
    int m = world_member_index(w, member_id);
    if (m < 0)
        return -1;
    memcpy(out, w->member_f + (size_t)m * w->d, sizeof(double) * (size_t)w->d);
    return 0;
}

int world_company_factor(const gen_world *w, int64_t company_id, double *out)
{
    int c = world_company_index(w, company_id);
    if (c < 0)
        return -1;
    memcpy(out, w->company_f + (size_t)c * w->d, sizeof(double) * (size_t)w->d);
    return 0;
}

double world_beta(const gen_world *w, int kind)
{
    return kind >= 0 && kind < 3 ? w->beta[kind] : NAN;
}

void world_next_event(gen_world *w, gen_event *ev)
{
    double u = rng_uniform(&w->rng);
    gen_event_kind kind = u < w->p_view                ? EV_JOB_VIEW
                          : u < w->p_view + w->p_apply ? EV_JOB_APPLY
                                                       : EV_INMAIL;
    int m, c;
    draw_context(w, &w->rng, kind, ev, &m, &c);
    double p = sigmoid(base_logit(w, ev, m, c) + w->beta[kind]);
    ev->label = rng_uniform(&w->rng) < p;
    w->t_ms += 1 + (int64_t)(-20.0 * log(1.0 - rng_uniform(&w->rng)));
    ev->timestamp_ms = w->t_ms;
}

uint8_t *world_seen_pairs(const world_config *c, uint64_t n_events)
{
    char err[256];
    if (world_config_check(c, err, sizeof(err)) < 0) {
        log_err("world configuration: %s", err);
        return NULL;
    }
    if ((uint64_t)c->n_members * (uint64_t)c->n_companies > (1ULL << 32)) {
        log_err("world_seen_pairs: %d x %d pairs is too large for a byte map", c->n_members,
                c->n_companies);
        return NULL;
    }
    gen_world *w = world_new(c);
    size_t C = (size_t)c->n_companies;
    uint8_t *seen = xcalloc((size_t)c->n_members * C, 1);
    for (uint64_t e = 0; e < n_events; e++) {
        gen_event ev;
        world_next_event(w, &ev);
        size_t m = (size_t)world_member_index(w, ev.member_id);
        size_t j = (size_t)world_company_index(w, ev.company_id);
        seen[m * C + j] |= (uint8_t)(1u << ev.kind);
    }
    world_free(w);
    return seen;
}

const char *gen_event_kind_name(gen_event_kind k)
{
    switch (k) {
    case EV_JOB_VIEW:
        return "job_view";
    case EV_JOB_APPLY:
        return "job_apply";
    case EV_INMAIL:
        return "inmail_response";
    }
    return "?";
}

static json_t *skills_json(const gen_event *ev)
{
    json_t *a = json_array();
    int n = ev->n_skills < 0 ? 0 : ev->n_skills > MAX_SKILLS ? MAX_SKILLS : ev->n_skills;
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(ev->skills[i]));
    return a;
}

json_t *gen_event_to_json(const gen_event *ev)
{
    static const char *const devices[] = {"DESKTOP", "MOBILE", "APP"};
    json_t *o = json_object();
    json_object_set_new(o, "member_id", json_integer(ev->member_id));
    json_object_set_new(o, "company_id", json_integer(ev->company_id));
    if (ev->kind == EV_INMAIL)
        json_object_set_new(o, "recruiter_id", json_integer(ev->recruiter_id));
    else
        json_object_set_new(o, "job_id", json_integer(ev->job_id));
    json_object_set_new(o, "timestamp", json_integer(ev->timestamp_ms));
    const char *label = ev->kind == EV_JOB_VIEW    ? "viewed"
                        : ev->kind == EV_JOB_APPLY ? "applied"
                                                   : "accepted";
    json_object_set_new(o, label, json_boolean(ev->label));
    json_object_set_new(o, "member_seniority", json_integer(ev->member_seniority));
    const char *region = ev->member_region ? ev->member_region : "";
    json_object_set_new(o, "member_region", json_string(region));
    if (ev->kind != EV_INMAIL)
        json_object_set_new(o, "search_intent",
                            ev->has_intent ? json_real(ev->search_intent) : json_null());
    switch (ev->kind) {
    case EV_JOB_VIEW:
        json_object_set_new(o, "position", json_integer(ev->position));
        json_object_set_new(
            o, "device", json_string(devices[ev->device >= 0 && ev->device < 3 ? ev->device : 0]));
        break;
    case EV_JOB_APPLY:
        json_object_set_new(o, "seconds_on_page", json_real(ev->seconds_on_page));
        json_object_set_new(o, "easy_apply", json_boolean(ev->easy_apply));
        json_object_set_new(o, "member_skills", skills_json(ev));
        break;
    case EV_INMAIL:
        json_object_set_new(o, "message_length", json_integer(ev->message_length));
        break;
    }
    return o;
}
