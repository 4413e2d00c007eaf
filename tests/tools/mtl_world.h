/* mtl_world.h - a planted two-task world for the multitask experiment
 * (tests/tools/exp_mtl.c) and its unit test (tests/unit/test_mtl.c).
 *
 * In the spirit of the MMoE paper's synthetic study (Ma et al., KDD 2018):
 * members and companies carry latent vectors u_m, v_c ~ N(0, I_k). The view
 * task's score is s_view = <u_m, v_c> / sqrt(k); the InMail task's score is
 *   s_inmail = rho * s_view + sqrt(1 - rho^2) * <u'_m, v'_c> / sqrt(k)
 * with independent latents u', v', so both scores have unit variance and
 * correlation rho. Labels are Bernoulli(sigmoid(a * s + bias)). The InMail
 * task gets one event for every `ratio` view events. Everything derives from
 * the seed. Header-only so the tool and the test share one generator. */
#ifndef MTS_MTL_WORLD_H
#define MTS_MTL_WORLD_H

#include "common/util.h"
#include "model/mtl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    int n_members, n_companies, k;
    double rho, sharpness;
    float *u, *v, *u2, *v2; /* (n, k) latents */
    mts_rng rng;
} mtlw_world;

typedef struct {
    int task; /* 0 = view, 1 = inmail (the network's task index is mapped by the caller) */
    int64_t member, company;
    float label;
} mtlw_event;

static inline void mtlw_init(mtlw_world *w, int n_members, int n_companies, int k, double rho,
                             uint64_t seed)
{
    w->n_members = n_members;
    w->n_companies = n_companies;
    w->k = k;
    w->rho = rho;
    w->sharpness = 3.0;
    rng_seed(&w->rng, seed);
    w->u = xmalloc((size_t)n_members * k * sizeof(float));
    w->u2 = xmalloc((size_t)n_members * k * sizeof(float));
    w->v = xmalloc((size_t)n_companies * k * sizeof(float));
    w->v2 = xmalloc((size_t)n_companies * k * sizeof(float));
    for (size_t i = 0; i < (size_t)n_members * k; i++) {
        w->u[i] = (float)rng_normal(&w->rng);
        w->u2[i] = (float)rng_normal(&w->rng);
    }
    for (size_t i = 0; i < (size_t)n_companies * k; i++) {
        w->v[i] = (float)rng_normal(&w->rng);
        w->v2[i] = (float)rng_normal(&w->rng);
    }
}

static inline void mtlw_free(mtlw_world *w)
{
    free(w->u), free(w->v), free(w->u2), free(w->v2);
}

static inline double mtlw_score(const mtlw_world *w, int task, int m, int c)
{
    double s1 = 0, s2 = 0;
    for (int i = 0; i < w->k; i++) {
        s1 += (double)w->u[(size_t)m * w->k + i] * w->v[(size_t)c * w->k + i];
        s2 += (double)w->u2[(size_t)m * w->k + i] * w->v2[(size_t)c * w->k + i];
    }
    s1 /= sqrt(w->k);
    s2 /= sqrt(w->k);
    return task == 0 ? s1 : w->rho * s1 + sqrt(1.0 - w->rho * w->rho) * s2;
}

static inline mtlw_event mtlw_draw(mtlw_world *w, int task)
{
    mtlw_event e;
    e.task = task;
    int m = (int)rng_below(&w->rng, (uint64_t)w->n_members),
        c = (int)rng_below(&w->rng, (uint64_t)w->n_companies);
    e.member = 1000000 + m;
    e.company = 5000000 + c;
    double z = w->sharpness * mtlw_score(w, task, m, c) + (task == 0 ? -1.0 : -1.5);
    e.label = rng_uniform(&w->rng) < 1.0 / (1.0 + exp(-z)) ? 1.0f : 0.0f;
    return e;
}

/* The training stream: `inmail` InMail events among ratio * inmail views, interleaved. */
static inline mtlw_event *mtlw_stream(mtlw_world *w, int inmail, int ratio, int *n_out)
{
    int n = inmail * (ratio + 1);
    mtlw_event *ev = xmalloc((size_t)n * sizeof(mtlw_event));
    for (int i = 0; i < n; i++)
        ev[i] = mtlw_draw(w, i % (ratio + 1) == ratio ? 1 : 0);
    *n_out = n;
    return ev;
}

typedef enum { MTLW_SINGLE, MTLW_JOINT, MTLW_ITERATIVE } mtlw_mode;

/* The models of the experiment: matrix factorisation, towers that are
 * embedding tables (dim 64, init 0.01, row-wise Adagrad at 0.01) under a dot
 * head. The view task scores a shared member/company pair. The InMail task
 * scores that shared pair plus a private pair (share = false) with a learned
 * scale per pair, so it uses the shared structure as far as it helps; its
 * loss_weight of 1/20 (its share of the events) sets its pull on the shared
 * tables to that of one view event per InMail event. Heads use Adagrad at 0.1;
 * in joint mode InMail's head takes a step in every mixed batch, 21 times the
 * steps it takes alone, and gets a lower rate, 0.04 (chosen on seeds 0-9).
 * The single-task model is the InMail task's own pair trained alone, with
 * the same settings. */
static inline void mtlw_config(char *buf, size_t len, mtlw_mode mode, const char *weighting,
                               uint64_t seed)
{
    char tw[4][300];
    const char *ent[2] = {"member", "company"};
    for (int k = 0; k < 4; k++)
        snprintf(tw[k], sizeof(tw[0]),
                 "%s%s = ( { type = \"embedding\"; input = \"%s_id\"; dim = 64; capacity = 100000; "
                 "init = 0.01;%s } );",
                 ent[k % 2], k >= 2 ? "_own" : "", ent[k % 2], k >= 2 ? " share = false;" : "");
    const char *opts = "optimizer = \"adagrad\"; lr = 0.1; table_lr = 0.01;";
    char task[1600], view[800];
    if (mode == MTLW_SINGLE)
        snprintf(task, sizeof(task),
                 "{ name = \"inmail\"; label = \"accepted\"; %s model = { %s %s head = { type = "
                 "\"dot\"; }; }; }",
                 opts, tw[2], tw[3]);
    else
        snprintf(
            task, sizeof(task),
            "{ name = \"inmail\"; label = \"accepted\"; loss_weight = 0.05; %s model = { %s %s "
            "%s %s head = { type = \"dot\"; lr = %s; }; }; }",
            opts, tw[0], tw[1], tw[2], tw[3], mode == MTLW_JOINT ? "0.04" : "0.1");
    snprintf(view, sizeof(view),
             "{ name = \"view\"; label = \"viewed\"; %s model = { %s %s head = { type = \"dot\"; "
             "}; }; }",
             opts, tw[0], tw[1]);
    if (mode == MTLW_SINGLE)
        snprintf(buf, len, "multitask = { mechanism = \"joint\"; seed = %llu; tasks = ( %s ); };",
                 (unsigned long long)seed, task);
    else
        snprintf(buf, len,
                 "multitask = { mechanism = \"%s\"; weighting = \"%s\"; seed = %llu; "
                 "shared_optimizer = \"adagrad\"; shared_lr = 0.1; shared_table_lr = 0.01; "
                 "tasks = ( %s, %s ); };",
                 mode == MTLW_JOINT ? "joint" : "iterative",
                 mode == MTLW_JOINT ? weighting : "fixed", (unsigned long long)seed, view, task);
}

/* Train on the stream (epochs passes, batch rows per step; iterative mode
 * gets per-task batches, joint mode mixed ones) and return the held-out AUC
 * of the InMail task on `test` fresh InMail events. NaN on failure. */
static inline double mtlw_run(mtlw_world *w, mtlw_mode mode, const char *weighting, uint64_t seed,
                              int inmail, int ratio, int epochs, int batch, int test,
                              mtl_net **keep)
{
    char cfg[8000], err[512];
    mtlw_config(cfg, sizeof(cfg), mode, weighting, seed);
    mtl_net *net = mtl_new_from_string(cfg, err, sizeof(err));
    if (!net) {
        fprintf(stderr, "mtlw_run: %s\n", err);
        return NAN;
    }
    int im = mtl_task_index(net, "inmail"), vw = mtl_task_index(net, "view");
    int in_m = mtl_input_index(net, "member_id"), in_c = mtl_input_index(net, "company_id");
    mts_rng save = w->rng;
    int n;
    mtlw_event *ev = mtlw_stream(w, inmail, ratio, &n);
    mtlw_event *te = xmalloc((size_t)test * sizeof(mtlw_event));
    for (int i = 0; i < test; i++)
        te[i] = mtlw_draw(w, 1);
    w->rng = save; /* every mode sees the same stream */
    mtl_value *vals = xmalloc((size_t)2 * batch * sizeof(mtl_value));
    mtl_example *ex = xmalloc((size_t)batch * sizeof(mtl_example));
    /* iterative: per-task queues, a task steps when its queue holds a batch */
    mtl_example *q[2];
    mtl_value *qv[2];
    int qn[2] = {0, 0};
    for (int t = 0; t < 2; t++) {
        q[t] = xmalloc((size_t)batch * sizeof(mtl_example));
        qv[t] = xmalloc((size_t)2 * batch * sizeof(mtl_value));
    }
    for (int ep = 0; ep < epochs; ep++) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            const mtlw_event *e = &ev[i];
            int task = e->task == 1 ? im : vw;
            if (task < 0)
                continue; /* single-task: no view task */
            int slot = mode == MTLW_ITERATIVE ? e->task : -1;
            mtl_example *x = slot >= 0 ? &q[slot][qn[slot]] : &ex[k];
            mtl_value *v = slot >= 0 ? &qv[slot][2 * qn[slot]] : &vals[2 * k];
            v[in_m] = (mtl_value){.id = e->member};
            v[in_c] = (mtl_value){.id = e->company};
            *x = (mtl_example){.task = task, .label = e->label, .weight = 1.0f, .in = v};
            if (slot >= 0) {
                if (++qn[slot] == batch) {
                    mtl_train_batch(net, q[slot], batch, err, sizeof(err));
                    qn[slot] = 0;
                }
            } else if (++k == batch) {
                mtl_train_batch(net, ex, k, err, sizeof(err));
                k = 0;
            }
        }
        if (k)
            mtl_train_batch(net, ex, k, err, sizeof(err));
        for (int t = 0; t < 2; t++)
            if (qn[t]) {
                mtl_train_batch(net, q[t], qn[t], err, sizeof(err));
                qn[t] = 0;
            }
    }
    float *prob = xmalloc((size_t)test * sizeof(float));
    int *lab = xmalloc((size_t)test * sizeof(int));
    mtl_value *tv = xmalloc((size_t)2 * test * sizeof(mtl_value));
    mtl_example *tx = xmalloc((size_t)test * sizeof(mtl_example));
    for (int i = 0; i < test; i++) {
        tv[2 * i + in_m] = (mtl_value){.id = te[i].member};
        tv[2 * i + in_c] = (mtl_value){.id = te[i].company};
        tx[i] = (mtl_example){.task = im, .label = 0, .weight = 1, .in = &tv[2 * i]};
        lab[i] = te[i].label >= 0.5f;
    }
    mtl_predict(net, tx, test, prob);
    double auc = auc_exact(prob, lab, test);
    if (keep)
        *keep = net;
    else
        mtl_free(net);
    free(prob), free(lab), free(tv), free(tx), free(ev), free(te), free(vals), free(ex);
    for (int t = 0; t < 2; t++)
        free(q[t]), free(qv[t]);
    return auc;
}

#endif
