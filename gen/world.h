/* world.h - a planted synthetic jobs marketplace and its event stream.
 *
 * No public log of job views, applications or InMails exists, so those
 * streams come from this generator. Its structure is planted (known ground
 * truth), so tests can check that learned embeddings recover it.
 *
 * The model, for a world of M members, C companies, latent dimension d:
 *
 *   skill vectors   s_k ~ N(0, I / sqrt(d))  for each skill of the pool
 *   member factors  u_m = sqrt(1 - rho) z_m + sqrt(rho) sum_{k in S_m} s_k / sqrt(|S_m|),
 *                   z_m ~ N(0, I / sqrt(d)), rho = 0.5, S_m = the member's 3..8
 *                   skills (skewed popularity: pool index floor(n u^2))
 *   company factors v_c ~ N(0, I / sqrt(d))
 *   affinity        a(m, c) = <u_m, v_c>      (variance d * (1/sqrt(d))^2 = 1)
 *
 * Every factor component has variance 1/sqrt(d) rather than 1/d so that the
 * affinity has standard deviation about 1 whatever d is.
 *
 * Per-member attributes, fixed for the member: seniority 0..6, region (one
 * of a few country codes), a true job-search intent t_m in (0, 1)
 * (sigmoid(N(-0.3, 1.2))), observed (has_intent, search_intent = t_m) for
 * 70 % of members and null for the rest.
 *
 * The stream: each call draws the kind (view : apply : InMail =
 * 1 : apply_share : inmail_share), then a member and a company uniformly
 * at random, so most member-company pairs are never seen (the held-out
 * pairs), then the context and the label:
 *
 *   view    P(viewed)   = sigmoid(alpha a + beta_view   + 1.0 (t_m - 0.5) - 0.03 position)
 *   apply   P(applied)  = sigmoid(alpha a + beta_apply  + 3.0 (t_m - 0.5) + 0.5 easy_apply)
 *   InMail  P(accepted) = sigmoid(alpha a + beta_inmail - 0.2 (seniority - 3))
 *
 * alpha = 2.5 by default: strong enough that a logistic factorisation learns
 * the factors from a few hundred thousand events, weak enough that labels
 * stay noisy. Each beta is calibrated once in world_new (bisection over a
 * fixed Monte-Carlo sample of the same draws the stream makes) so the mean
 * label rate hits view_rate (0.30), apply_rate (0.10), inmail_rate (0.05).
 * Intent moves the apply probability far more than the view probability,
 * which is the "activity features give positive transfer" effect.
 *
 * Context: a view has a position 0..24 and a device (DESKTOP 50 %, MOBILE
 * 30 %, APP 20 %); a job belongs to a company (64 per company) and is
 * easy-apply for ~30 % of jobs; an apply has seconds_on_page (log-normal,
 * depends on intent, not on the label); an InMail has a recruiter of the
 * company (4 per company) and a message length 200..1999. Every event
 * carries the member's skills (up to 8 ids). Timestamps start at start_ms
 * and increase strictly (1 + exponential gap, mean 20 ms).
 *
 * Ids look like real ids, not indices: member i is 1000000 + 7 i, company
 * j is 50000 + 13 j, job k of company j is 3000000000 + 64 j + k,
 * recruiter r of company j is 7000000 + 8 j + r.
 *
 * Determinism: the world and the stream depend only on the configuration
 * (seed included). Two worlds built from equal configurations produce the
 * same events in the same order. */
#ifndef MTS_GEN_WORLD_H
#define MTS_GEN_WORLD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int n_members;            /* default 2000 */
    int n_companies;          /* default 300 */
    int latent_dim;           /* default 8 */
    uint64_t seed;            /* default 42 */
    double apply_share;       /* apply events per view event, default 0.10 */
    double inmail_share;      /* InMail events per view event, default 0.03 */
    double alpha;             /* weight of the affinity in every logit, default 2.5 */
    double view_rate;         /* target mean label of views, default 0.30 */
    double apply_rate;        /* target mean label of applies, default 0.10 */
    double inmail_rate;       /* target mean label of InMails, default 0.05 */
    int64_t start_ms;         /* timestamp of the first event, default 1700000000000 */
    const int64_t *skill_ids; /* (n_skill_ids) pool of member skills, e.g. the skill
                                 corpus' entity ids; NULL: 500 synthetic ids. Copied. */
    size_t n_skill_ids;
} world_config;

void world_config_defaults(world_config *c);
/* 0 if the configuration is usable, else -1 and the reason in err. */
int world_config_check(const world_config *c, char *err, size_t errlen);

typedef struct gen_world gen_world;

/* NULL (reason logged) if world_config_check fails. world_free(NULL) is a no-op. */
gen_world *world_new(const world_config *c);
void world_free(gen_world *w);
const world_config *world_get_config(const gen_world *w); /* skill_ids points into w */

int64_t world_member_id(const gen_world *w, int i);              /* 0 <= i < n_members */
int64_t world_company_id(const gen_world *w, int j);             /* 0 <= j < n_companies */
int world_member_index(const gen_world *w, int64_t member_id);   /* -1 if not a member */
int world_company_index(const gen_world *w, int64_t company_id); /* -1 if not a company */

/* Planted affinity <u_m, v_c>; NAN if either id is unknown. */
double world_affinity(const gen_world *w, int64_t member_id, int64_t company_id);
/* Planted factors: out gets latent_dim values; -1 if the id is unknown. */
int world_member_factor(const gen_world *w, int64_t member_id, double *out);
int world_company_factor(const gen_world *w, int64_t company_id, double *out);
/* The calibrated intercepts beta_view, beta_apply, beta_inmail (by kind). */
double world_beta(const gen_world *w, int kind);

typedef enum { EV_JOB_VIEW, EV_JOB_APPLY, EV_INMAIL } gen_event_kind;

typedef struct {
    gen_event_kind kind;
    int64_t member_id, company_id;
    int64_t job_id;       /* 0 for InMails */
    int64_t recruiter_id; /* 0 for views and applies */
    int64_t timestamp_ms;
    int label;                 /* viewed / applied / accepted */
    int member_seniority;      /* 0 intern .. 6 executive */
    const char *member_region; /* static string */
    int has_intent;            /* 0: search_intent is null */
    float search_intent;       /* 0..1 */
    int position;              /* views: rank 0..24 */
    int device;                /* views: 0 DESKTOP, 1 MOBILE, 2 APP */
    float seconds_on_page;     /* applies */
    int easy_apply;            /* applies */
    int message_length;        /* InMails */
    int n_skills;              /* the member's skills */
    int64_t skills[8];         /* (n_skills) */
} gen_event;

/* The next event of the stream. */
void world_next_event(gen_world *w, gen_event *ev);

/* Replay the first n_events of the stream of a fresh world built from c and
 * mark the pairs they touch: returns a (n_members * n_companies) byte map,
 * map[i * n_companies + j] = OR of (1 << kind) over the events for member i
 * and company j, 0 for a pair never seen. Caller frees. NULL if c is bad
 * or the map would exceed 2^32 bytes. */
uint8_t *world_seen_pairs(const world_config *c, uint64_t n_events);

/* The event as a JSON object in the shape of schemas/job_view.avsc,
 * job_apply.avsc or inmail_response.avsc (Avro JSON without union
 * wrappers: search_intent is a number or null, enums are symbol strings).
 * Caller decrefs. */
json_t *gen_event_to_json(const gen_event *ev);
/* "job_view", "job_apply", "inmail_response" (the schema file stems). */
const char *gen_event_kind_name(gen_event_kind k);

#endif
