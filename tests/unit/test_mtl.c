/* test_mtl.c - the declarative multitask network: layers, tables, sharing,
 * validation, training mechanisms, determinism, sampling, transfer.
 *
 * Gradient checks: every new layer, loss and head, and the whole network's
 * loss in joint mode (fixed weights with distillation, uncertainty weights)
 * and iterative mode (hard and soft sharing), against central finite
 * differences in double-accumulated losses (gradcheck.h; relative error with
 * floor FLOOR). Layers at one step size; whole networks at three, the best
 * counting, so a ReLU/hinge kink inside one step is not a failure. The
 * largest error is printed and asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/util.h"
#include "model/auc.h"
#include "model/blas.h"
#include "model/dyntable.h"
#include "model/layers.h"
#include "model/mtl.h"
#include "model/mtl_layers.h"
#include "../tools/mtl_world.h"
#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FLOOR 1e-3
#define TOL 2e-2

static mts_rng rng;

static void fill(float *a, int n, float lo, float hi)
{
    for (int i = 0; i < n; i++)
        a[i] = lo + (hi - lo) * (float)rng_uniform(&rng);
}

/* ---- bilinear head and row dot ---- */
enum { BB = 4, B1 = 3, B2 = 5 };
typedef struct {
    float u[BB * B1], v[BB * B2], M[B1 * B2], bias, logit[BB], uM[BB * B2], R[BB];
} bil_ctx;

static double bil_loss(void *p)
{
    bil_ctx *c = p;
    bilinear_forward(c->logit, c->uM, c->u, c->v, c->M, c->bias, BB, B1, B2);
    return gc_dot(c->logit, c->R, BB);
}

static void test_bilinear(void **state)
{
    bil_ctx c;
    fill(c.u, BB * B1, -1, 1), fill(c.v, BB * B2, -1, 1), fill(c.M, B1 * B2, -1, 1),
        fill(c.R, BB, -1, 1);
    c.bias = 0.3f;
    float du[BB * B1] = {0}, dv[BB * B2] = {0}, dM[B1 * B2] = {0}, db = 0;
    bil_loss(&c);
    bilinear_backward(du, dv, dM, &db, c.R, c.uM, c.u, c.v, c.M, BB, B1, B2);
    double w = 0;
    w = fmax(w, gc_check("bilinear d/u", c.u, BB * B1, du, bil_loss, &c, 1e-2f, FLOOR));
    w = fmax(w, gc_check("bilinear d/v", c.v, BB * B2, dv, bil_loss, &c, 1e-2f, FLOOR));
    w = fmax(w, gc_check("bilinear d/M", c.M, B1 * B2, dM, bil_loss, &c, 1e-2f, FLOOR));
    w = fmax(w, gc_check("bilinear d/bias", &c.bias, 1, &db, bil_loss, &c, 1e-2f, FLOOR));
    assert_true(w < TOL);
    bil_loss(&c);
    /* forward against a hand loop */
    for (int b = 0; b < BB; b++) {
        double s = c.bias;
        for (int i = 0; i < B1; i++)
            for (int j = 0; j < B2; j++)
                s += (double)c.u[b * B1 + i] * c.M[i * B2 + j] * c.v[b * B2 + j];
        assert_float_equal(c.logit[b], s, 1e-4);
    }
}

typedef struct {
    float a[BB * B2], c[BB * B2], out[BB], R[BB];
} rd_ctx;

static double rd_loss(void *p)
{
    rd_ctx *c = p;
    rowdot_forward(c->out, c->a, c->c, BB, B2);
    return gc_dot(c->out, c->R, BB);
}

static void test_rowdot_concat(void **state)
{
    rd_ctx c;
    fill(c.a, BB * B2, -1, 1), fill(c.c, BB * B2, -1, 1), fill(c.R, BB, -1, 1);
    float da[BB * B2] = {0}, dc[BB * B2] = {0};
    rowdot_backward(da, dc, c.R, c.a, c.c, BB, B2);
    double w = fmax(gc_check("rowdot d/a", c.a, BB * B2, da, rd_loss, &c, 1e-2f, FLOOR),
                    gc_check("rowdot d/c", c.c, BB * B2, dc, rd_loss, &c, 1e-2f, FLOOR));
    assert_true(w < TOL);
    /* concat: forward places columns, backward returns them */
    float out[BB * 8] = {0}, back[BB * B2] = {0};
    concat_forward(out, c.a, BB, B2, 8, 2);
    assert_float_equal(out[1 * 8 + 2 + 3], c.a[1 * B2 + 3], 0);
    concat_backward(back, out, BB, B2, 8, 2);
    for (int i = 0; i < BB * B2; i++)
        assert_float_equal(back[i], c.a[i], 0);
}

/* ---- uncertainty weighting ---- */
typedef struct {
    float L[3], s[3];
    int act[3];
} unc_ctx;

static double unc_loss(void *p)
{
    unc_ctx *c = p;
    return uncertainty_forward(c->L, c->s, c->act, 3);
}

static void test_uncertainty(void **state)
{
    unc_ctx c = {{0.7f, 0.2f, 1.3f}, {0.1f, -0.5f, 0.8f}, {1, 1, 0}};
    float dL[3] = {0}, ds[3] = {0};
    uncertainty_backward(dL, ds, c.L, c.s, c.act, 3);
    double w = fmax(gc_check("uncertainty d/task loss", c.L, 3, dL, unc_loss, &c, 1e-3f, FLOOR),
                    gc_check("uncertainty d/log variance", c.s, 3, ds, unc_loss, &c, 1e-3f, FLOOR));
    assert_true(w < TOL);
    assert_float_equal(dL[2], 0, 0); /* inactive task: no gradient */
    assert_float_equal(unc_loss(&c), expf(-0.1f) * 0.7f + 0.1f + expf(0.5f) * 0.2f - 0.5f, 1e-5);
}

/* ---- hashed n-grams ---- */
static void test_ngrams(void **state)
{
    int64_t a[64], b[64];
    int na = ngram_ids(a, 64, "Spark  jobs", 3, 1), nb = ngram_ids(b, 64, "spark", 3, 1);
    assert_int_equal(na, 5 + 4); /* "<spark>" 7 code points -> 5 trigrams; "<jobs>" -> 4 */
    assert_int_equal(nb, 5);
    for (int i = 0; i < nb; i++)
        assert_true(a[i] == b[i]); /* ASCII case folded */
    /* UTF-8: "<kø>" is 4 code points -> 2 trigrams, whatever the byte count */
    assert_int_equal(ngram_ids(a, 64, "k\xc3\xb8", 3, 1), 2);
    /* malformed / truncated UTF-8: counted byte by byte, no over-read */
    assert_int_equal(ngram_ids(a, 64, "\xc3", 3, 1), 1);
    assert_int_equal(ngram_ids(a, 64, "\xf0\x9f", 3, 1), 2);
    assert_int_equal(ngram_ids(a, 64, NULL, 3, 1), 0);
    assert_int_equal(ngram_ids(a, 3, "a long sentence", 3, 1), 3); /* max respected */
    /* short word: the whole word is one gram */
    assert_int_equal(ngram_ids(a, 64, "a", 5, 1), 1);
}

/* ---- the table: admission, expiry, capacity ---- */
static void test_dyntable(void **state)
{
    dyntable t;
    char err[128];
    assert_int_equal(dyntable_init(&t, 4, 0, 1, 0, 0.1f, 1, 1, err, sizeof(err)), -1);
    assert_int_equal(dyntable_init(&t, 4, 10, 0, 0, 0.1f, 1, 1, err, sizeof(err)), -1);
    assert_int_equal(dyntable_init(&t, 4, 100, 3, 50, 0.1f, 1, 1, err, sizeof(err)), 0);
    /* admission: a row on the third sighting */
    assert_int_equal(dyntable_lookup(&t, 42, 1, 1), -1);
    assert_int_equal(dyntable_lookup(&t, 42, 2, 1), -1);
    int32_t r = dyntable_lookup(&t, 42, 3, 1);
    assert_true(r >= 0);
    assert_int_equal(dyntable_lookup(&t, 42, 4, 0), r);
    assert_int_equal(dyntable_lookup(&t, 43, 4, 0), -1); /* create = 0 never counts */
    assert_int_equal(t.pending, 2);
    /* expiry: idle longer than 50 */
    for (int i = 0; i < 3; i++)
        dyntable_lookup(&t, 7, 10, 1);
    assert_int_equal(t.n, 2);
    dyntable_lookup(&t, 42, 60, 1);
    assert_int_equal(dyntable_expire(&t, 61), 1); /* 7 idle since 10 */
    assert_int_equal(dyntable_find(&t, 7), -1);
    assert_int_equal(dyntable_find(&t, 42), r);
    dyntable_free(&t);

    /* churn: 200k distinct ids through a 1000-row table with expiry; all live ids findable */
    assert_int_equal(dyntable_init(&t, 8, 1000, 1, 500, 0.1f, 2, 1, err, sizeof(err)), 0);
    size_t bound = dyntable_bytes_bound(&t);
    for (int64_t i = 0; i < 200000; i++) {
        int64_t id = (int64_t)mix64((uint64_t)i) ^ (i % 7 ? 0 : INT64_MIN);
        dyntable_lookup(&t, id, i, 1);
        assert_true(t.n <= 1000);
        if (i % 9 == 0)
            dyntable_lookup(&t, 77, i, 1); /* a hot id never expires */
    }
    assert_true(t.expired > 150000);
    assert_true(dyntable_find(&t, 77) >= 0);
    uint32_t live = 0;
    for (uint32_t r2 = 0; r2 < t.top; r2++)
        if (t.last[r2] != INT64_MIN) {
            live++;
            assert_int_equal(dyntable_find(&t, t.ids[r2]), (int32_t)r2);
        }
    assert_int_equal(live, t.n);
    assert_true(dyntable_bytes(&t) <= bound);
    printf("figure: dyntable churn: 200000 ids through capacity 1000: %u rows live, %llu expired, "
           "%llu refused, "
           "%zu bytes (bound %zu)\n",
           t.n, (unsigned long long)t.expired, (unsigned long long)t.refused, dyntable_bytes(&t),
           bound);
    dyntable_free(&t);

    /* full, nothing idle: refused, never exceeded */
    assert_int_equal(dyntable_init(&t, 2, 10, 1, 0, 0.1f, 3, 2, err, sizeof(err)), 0);
    for (int i = 0; i < 50; i++)
        dyntable_lookup(&t, i, i, 1);
    assert_int_equal(t.n, 10);
    assert_int_equal(t.refused, 40);
    /* sparse update touches only rows with a gradient, per state column */
    float before = dyntable_row(&t, 0)[0];
    float *g = dyntable_grad(&t, 0);
    g[0] = 1.0f;
    dyntable_update(&t, OPT_ADAGRAD, 0.1f, 1);
    assert_true(dyntable_row(&t, 0)[0] < before);
    assert_float_equal(t.acc[0 * 2 + 0], 0, 0);
    assert_true(t.acc[0 * 2 + 1] > 0);
    dyntable_free(&t);
}

/* ---- whole-network gradient checks ---- */
static const char *GC_JOINT =
    "multitask = { mechanism = \"joint\"; weighting = \"%s\"; seed = 3; %s tasks = ("
    "{ name = \"a\"; pos_weight = 2.0; model = {"
    "  m = ( { type = \"embedding\"; input = \"member\"; dim = 6; init = 0.5; }, { type = "
    "\"dense\"; units = 5; activation = \"relu\"; } );"
    "  c = ( { type = \"bag\"; input = \"skills\"; dim = 5; init = 0.5; } );"
    "  head = { type = \"dot\"; }; }; },"
    "{ name = \"b\"; model = {"
    "  m = ( { type = \"embedding\"; input = \"member\"; dim = 6; init = 0.5; }, { type = "
    "\"dense\"; units = 5; activation = \"relu\"; }, { type = \"dense\"; units = 3; } );"
    "  t = ( { type = \"ngram\"; input = \"text\"; dim = 4; init = 0.5; } );"
    "  head = { type = \"bilinear\"; }; }; },"
    "{ name = \"c\"; model = {"
    "  m = ( { type = \"embedding\"; input = \"member\"; dim = 6; init = 0.5; } );"
    "  t = ( { type = \"ngram\"; input = \"text\"; dim = 4; init = 0.5; }, { type = \"dense\"; "
    "units = 4; activation = \"relu\"; share = false; } );"
    "  head = { type = \"mlp\"; hidden = 5; }; }; } ); };";

typedef struct {
    mtl_net *net;
    mtl_example ex[24];
    mtl_value val[24][4];
    int64_t bag[24][3];
    char text[24][32];
    int n, step;
} net_ctx;

static double net_loss(void *p)
{
    net_ctx *c = p;
    return mtl_loss(c->net, c->ex, c->n, c->step);
}

static void make_batch(net_ctx *c, int tasks)
{
    static const char *words[] = {"spark",
                                  "java",
                                  "wires give off",
                                  "kubernetes",
                                  "sql",
                                  "r\xc3\xb8"
                                  "d"};
    c->n = 24;
    for (int i = 0; i < c->n; i++) {
        int im = mtl_input_index(c->net, "member"), is = mtl_input_index(c->net, "skills"),
            it = mtl_input_index(c->net, "text");
        for (int k = 0; k < 3; k++)
            c->bag[i][k] = (int64_t)rng_below(&rng, 6);
        snprintf(c->text[i], sizeof(c->text[i]), "%s", words[rng_below(&rng, 6)]);
        if (im >= 0)
            c->val[i][im] = (mtl_value){.id = (int64_t)rng_below(&rng, 8)};
        if (is >= 0)
            c->val[i][is] = (mtl_value){.ids = c->bag[i], .n_ids = 1 + (int)rng_below(&rng, 3)};
        if (it >= 0)
            c->val[i][it] = (mtl_value){.text = c->text[i]};
        c->ex[i] = (mtl_example){.task = tasks < 0 ? -tasks - 1 : i % tasks,
                                 .label = (float)(rng_uniform(&rng) < 0.4),
                                 .weight = 0.5f + (float)rng_uniform(&rng),
                                 .in = c->val[i]};
    }
}

static double net_check(const char *what, const char *cfg, int step, int tasks)
{
    char err[512];
    net_ctx *c = xcalloc(1, sizeof(*c));
    c->net = mtl_new_from_string(cfg, err, sizeof(err));
    if (!c->net)
        fail_msg("%s: %s", what, err);
    /* a few steps first: soft-sharing copies drift apart, weights move */
    for (int k = 0; k < 3; k++) {
        make_batch(c, 3);
        assert_int_equal(mtl_train_batch(c->net, c->ex, c->n, err, sizeof(err)), 0);
    }
    make_batch(c, tasks);
    c->step = step;
    float *w[8192], *g[8192];
    float *gcopy = xmalloc(8192 * sizeof(float));
    mtl_forward_backward(c->net, c->ex, c->n, step);
    mtl_freeze_teacher(c->net, 1);
    size_t n = mtl_grad_params(c->net, step, w, g, 8192);
    assert_true(n > 50 && n < 8192);
    for (size_t i = 0; i < n; i++)
        gcopy[i] = *g[i];
    /* three step sizes, the best one counts: a ReLU or hinge kink inside
     * a step spoils that difference only (kinks lie within 1e-3 of a
     * parameter now and then); a wrong gradient spoils all three */
    static const float steps[3] = {1e-2f, 1e-3f, 1e-4f};
    gc_result r = {0};
    for (size_t i = 0; i < n; i++) {
        double num, e = gc_element(w[i], gcopy[i], steps, 3, FLOOR, net_loss, c, &num);
        gc_note(&r, i, e, gcopy[i], num);
    }
    printf(
        "  %-40s n=%5zu (%zu nonzero)  max rel err %.2e (param %zu: analytic %.5g numeric %.5g)\n",
        what, n, r.nonzero, r.worst, r.at, r.analytic, r.numeric);
    printf("figure: gradcheck %s: %zu parameters, max rel err %.2e\n", what, n, r.worst);
    assert_true(r.nonzero > 20);
    free(gcopy);
    mtl_free(c->net);
    free(c);
    return r.worst;
}

static void test_net_grad_joint(void **state)
{
    char cfg[4096];
    snprintf(cfg, sizeof(cfg), GC_JOINT, "fixed", "");
    assert_true(net_check("joint fixed", cfg, -1, 3) < TOL);
    snprintf(cfg, sizeof(cfg), GC_JOINT, "fixed",
             "distillation = { teacher = \"b\"; student = \"a\"; weight = 0.7; margin = 1.0; };");
    assert_true(net_check("joint fixed + distillation", cfg, -1, 3) < TOL);
    snprintf(cfg, sizeof(cfg), GC_JOINT, "uncertainty", "");
    assert_true(net_check("joint uncertainty weights", cfg, -1, 3) < TOL);
    snprintf(cfg, sizeof(cfg), GC_JOINT, "gradnorm", "");
    assert_true(net_check("joint gradnorm (weights held)", cfg, -1, 3) < TOL);
}

static void test_net_grad_iterative(void **state)
{
    char cfg[4096];
    const char *iter =
        "mechanism = \"iterative\"; sharing = \"%s\"; soft_l2 = 0.3; seed = 5; tasks = (";
    /* same declaration as GC_JOINT's tasks, iterative */
    const char *tasks = strstr(GC_JOINT, "tasks = (") + strlen("tasks = (");
    char head[256];
    snprintf(head, sizeof(head), iter, "hard");
    snprintf(cfg, sizeof(cfg), "multitask = { %s%s", head, tasks);
    assert_true(net_check("iterative hard, task b's step", cfg, 1, -2) < TOL);
    snprintf(head, sizeof(head), iter, "soft");
    snprintf(cfg, sizeof(cfg), "multitask = { %s%s", head, tasks);
    assert_true(net_check("iterative soft, task a's step", cfg, 0, -1) < TOL);
}

/* A dot head summing two tower pairs, one shared with another task and one
 * private (share = false): logit = g_0 <m, c> + g_1 <m_own, c_own> + b with a
 * learned scale g_p per pair. Joint loss and task a's iterative step. */
static const char *GC_PAIRS =
    "multitask = { mechanism = \"%s\"; seed = 4; tasks = ("
    "{ name = \"a\"; model = {"
    "  m = ( { type = \"embedding\"; input = \"member\"; dim = 6; init = 0.5; }, { type = "
    "\"dense\"; units = 4; } );"
    "  c = ( { type = \"bag\"; input = \"skills\"; dim = 4; init = 0.5; } );"
    "  m_own = ( { type = \"embedding\"; input = \"member\"; dim = 3; init = 0.5; share = false; } "
    ");"
    "  c_own = ( { type = \"ngram\"; input = \"text\"; dim = 3; init = 0.5; share = false; } );"
    "  head = { type = \"dot\"; }; }; },"
    "{ name = \"b\"; model = {"
    "  m = ( { type = \"embedding\"; input = \"member\"; dim = 6; init = 0.5; }, { type = "
    "\"dense\"; units = 4; } );"
    "  c = ( { type = \"bag\"; input = \"skills\"; dim = 4; init = 0.5; } );"
    "  head = { type = \"dot\"; }; }; } ); };";

static void test_net_grad_dot_pairs(void **state)
{
    char cfg[4096];
    snprintf(cfg, sizeof(cfg), GC_PAIRS, "joint");
    double wj = net_check("joint, dot head over 2 pairs", cfg, -1, 2);
    snprintf(cfg, sizeof(cfg), GC_PAIRS, "iterative");
    double wi = net_check("iterative, 2-pair task a's step", cfg, 0, -1);
    printf(
        "figure: gradcheck dot head with per-pair scales: max rel err joint %.2e, iterative %.2e\n",
        wj, wi);
    assert_true(wj < TOL);
    assert_true(wi < TOL);
}

/* ---- sharing, describe, validation ---- */
static void test_sharing_and_validation(void **state)
{
    char err[512], buf[8192];
    char cfg[4096];
    snprintf(cfg, sizeof(cfg), GC_JOINT, "fixed", "");
    mtl_net *n = mtl_new_from_string(cfg, err, sizeof(err));
    assert_non_null(n);
    mtl_describe(n, buf, sizeof(buf));
    printf("%s", buf);
    /* member embedding shared by a, b, c; dense(6->5, relu) by a and b; c's ngram dense private */
    assert_non_null(strstr(buf, "embedding(member, dim=6"));
    assert_non_null(strstr(buf, "used by: a, b, c"));
    assert_non_null(strstr(buf, "dense(6->5, relu)  params 35  used by: a, b"));
    assert_non_null(strstr(
        buf, "ngram(text, n=3, dim=4, capacity=100000, init=0.5)  params 0 now, up to 400000 "
             "(capacity x dim)  used by: b, c"));
    assert_non_null(strstr(buf, "dense(4->4, relu)  params 20  used by: c"));
    mtl_free(n);

    struct {
        const char *cfg, *msg;
    } bad[] = {
        {"multitask = { mechanism = \"iterative\"; distillation = { teacher = \"a\"; student = "
         "\"b\"; }; tasks = ("
         "{ name = \"a\"; model = { m = ( { type = \"embedding\"; input = \"x\"; } ); c = ( { type "
         "= \"embedding\"; input = \"y\"; } ); head = { type = \"dot\"; }; }; },"
         "{ name = \"b\"; model = { m = ( { type = \"embedding\"; input = \"x\"; } ); c = ( { type "
         "= \"embedding\"; input = \"y\"; } ); head = { type = \"dot\"; }; }; } ); };",
         "distillation needs joint training"},
        {"multitask = { mechanism = \"joint\"; tasks = ("
         "{ name = \"a\"; model = { m = ( { type = \"embedding\"; input = \"x\"; } ); c = ( { type "
         "= \"embedding\"; input = \"y\"; } ); head = { type = \"dot\"; }; }; },"
         "{ name = \"b\"; model = { m = ( { type = \"embedding\"; input = \"x\"; dim = 8; } ); c = "
         "( { type = \"embedding\"; input = \"y\"; dim = 8; } ); head = { type = \"dot\"; }; }; } "
         "); };",
         "needs at least one shared component"},
        {"multitask = { tasks = ( { name = \"a\"; model = { m = ( { type = \"embedding\"; input = "
         "\"x\"; dim = 4; } ); c = ( { type = \"embedding\"; input = \"y\"; dim = 5; } ); head = { "
         "type = \"dot\"; }; }; } ); };",
         "equal width"},
        {"multitask = { tasks = ( { name = \"a\"; model = { m = ( { type = \"dense\"; units = 4; } "
         "); head = { type = \"mlp\"; }; }; } ); };",
         "starts with an input layer"},
        {"multitask = { tasks = ( { name = \"a\"; model = { m = ( { type = \"embedding\"; input = "
         "\"x\"; } ); t = ( { type = \"ngram\"; input = \"x\"; } ); head = { type = \"mlp\"; }; }; "
         "} ); };",
         "used as text here but as id"},
        {"multitask = { tasks = ( { name = \"a\"; colour = 3; model = { m = ( { type = "
         "\"embedding\"; input = \"x\"; } ); head = { type = \"mlp\"; }; }; } ); };",
         "colour: unknown setting"},
        {"multitask = { mechanism = \"joint\"; sharing = \"soft\"; tasks = ( { name = \"a\"; model "
         "= { m = ( { type = \"embedding\"; input = \"x\"; } ); head = { type = \"mlp\"; }; }; } "
         "); };",
         "soft sharing is an iterative"},
        {"multitask = { mechanism = \"iterative\"; weighting = \"gradnorm\"; tasks = ( { name = "
         "\"a\"; model = { m = ( { type = \"embedding\"; input = \"x\"; } ); head = { type = "
         "\"mlp\"; }; }; } ); };",
         "only joint training has"},
        {"multitask = { tasks = ( { name = \"a\"; sampling = { neg_keep = 0.0; }; model = { m = ( "
         "{ type = \"embedding\"; input = \"x\"; } ); head = { type = \"mlp\"; }; }; } ); };",
         "neg_keep: 0 out of range"},
        {"multitask = { tasks = ( { name = \"a\"; model = { m = ( { type = \"embedding\"; input = "
         "\"x\"; capacity = 0; } ); head = { type = \"mlp\"; }; }; } ); };",
         "capacity: 0 out of range"},
        {"multitask = { tasks = ( { name = \"a\"; model = { m = ( { type = \"embedding\"; input = "
         "\"x\"; } ); head = { type = \"mlp\"; lr = 0.0; }; }; } ); };",
         "head.lr: 0 out of range"},
        {"multitask = { tasks = ( ); };", "non-empty list"},
        {"multitask = { tasks = ( { name = \"a\"; model = { head = { type = \"mlp\"; }; }; } ); };",
         "no tower"},
        {"multitask = { tasks = ( ", "syntax error"},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        err[0] = 0;
        mtl_net *b = mtl_new_from_string(bad[i].cfg, err, sizeof(err));
        if (b || !strstr(err, bad[i].msg))
            fail_msg("case %zu: expected refusal with \"%s\", got %s: %s", i, bad[i].msg,
                     b ? "accepted" : "refused", err);
        printf("  refused: %s\n", err);
    }
    /* the example configuration is accepted */
    n = mtl_new_from_file("conf/multitask-example.conf", err, sizeof(err));
    if (!n)
        fail_msg("conf/multitask-example.conf: %s", err);
    assert_int_equal(mtl_n_tasks(n), 5);
    mtl_free(n);
}

/* ---- determinism, bad rows ---- */
static uint64_t train_hash(const char *mech, uint64_t seed)
{
    char cfg[4096], err[256];
    const char *tasks = strstr(GC_JOINT, "tasks = (");
    snprintf(cfg, sizeof(cfg), "multitask = { mechanism = \"%s\"; seed = %llu; %s", mech,
             (unsigned long long)seed, tasks);
    mtl_net *n = mtl_new_from_string(cfg, err, sizeof(err));
    assert_non_null(n);
    net_ctx *c = xcalloc(1, sizeof(*c));
    c->net = n;
    mts_rng save = rng;
    rng_seed(&rng, 99);
    for (int s = 0; s < 30; s++) {
        make_batch(c, 3);
        assert_int_equal(mtl_train_batch(n, c->ex, c->n, err, sizeof(err)), 0);
    }
    rng = save;
    uint64_t h = mtl_param_hash(n);
    mtl_free(n);
    free(c);
    return h;
}

static void test_determinism(void **state)
{
    uint64_t a = train_hash("joint", 1), b = train_hash("joint", 1), c = train_hash("joint", 2);
    uint64_t d = train_hash("iterative", 1), e = train_hash("iterative", 1);
    printf("figure: determinism: joint %016llx == %016llx, iterative %016llx == %016llx\n",
           (unsigned long long)a, (unsigned long long)b, (unsigned long long)d,
           (unsigned long long)e);
    assert_true(a == b);
    assert_true(d == e);
    assert_true(a != c);
    assert_true(a != d);
}

static void test_bad_rows(void **state)
{
    char cfg[4096], err[256];
    snprintf(cfg, sizeof(cfg), GC_JOINT, "fixed", "");
    mtl_net *n = mtl_new_from_string(cfg, err, sizeof(err));
    net_ctx *c = xcalloc(1, sizeof(*c));
    c->net = n;
    make_batch(c, 3);
    c->ex[0].task = 7;
    c->ex[1].label = NAN;
    c->ex[2].label = 2.0f;
    c->ex[3].weight = INFINITY;
    c->ex[4].in = NULL;
    c->val[5][mtl_input_index(n, "skills")].n_ids = -5;          /* treated as empty */
    c->val[6][mtl_input_index(n, "skills")].ids = NULL;          /* empty */
    c->val[7][mtl_input_index(n, "text")].text = "\xff\xfe\xc3"; /* malformed UTF-8 */
    assert_int_equal(mtl_train_batch(n, c->ex, c->n, err, sizeof(err)), 0);
    assert_int_equal(mtl_rows_skipped(n), 5);
    assert_int_equal(mtl_train_batch(n, NULL, 3, err, sizeof(err)), -1);
    assert_int_equal(mtl_train_batch(n, c->ex, -1, err, sizeof(err)), -1);
    assert_int_equal(mtl_train_batch(n, c->ex, 0, err, sizeof(err)), 0);
    for (int t = 0; t < 3; t++)
        assert_true(isfinite(mtl_task_loss(n, t)));
    mtl_free(n);
    free(c);
}

/* ---- sampling keeps predictions calibrated ---- */
static double calib_run(float neg_keep, int weights)
{
    char cfg[1024], err[256];
    snprintf(cfg, sizeof(cfg),
             "multitask = { seed = 1; tasks = ( { name = \"t\"; lr = 0.02; sampling = { neg_keep = "
             "%g; }; model = {"
             " m = ( { type = \"embedding\"; input = \"x\"; dim = 2; init = 0.0; } ); head = { "
             "type = \"mlp\"; hidden = 2; }; }; } ); };",
             neg_keep);
    mtl_net *n = mtl_new_from_string(cfg, err, sizeof(err));
    assert_non_null(n);
    mts_rng r;
    rng_seed(&r, 3);
    mtl_value v[256];
    mtl_example ex[256];
    for (int s = 0; s < 800; s++) {
        for (int i = 0; i < 256; i++) {
            v[i] = (mtl_value){.id = 1};
            ex[i] = (mtl_example){
                .task = 0, .label = rng_uniform(&r) < 0.2 ? 1.0f : 0.0f, .weight = 1, .in = &v[i]};
        }
        if (!weights) { /* what sampling without importance weights would do */
            int k = 0;
            for (int i = 0; i < 256; i++)
                if (ex[i].label > 0.5f || rng_uniform(&r) < neg_keep)
                    ex[k++] = ex[i];
            mtl_train_batch(n, ex, k, err, sizeof(err));
        } else
            mtl_train_batch(n, ex, 256, err, sizeof(err));
    }
    float p;
    mtl_predict(n, ex, 1, &p);
    mtl_free(n);
    return p;
}

static void test_sampling_calibrated(void **state)
{
    double with = calib_run(0.1f, 1), without = calib_run(1.0f, 0);
    printf("figure: sampling: base rate 0.20, neg_keep 0.1 with importance weights predicts %.3f; "
           "no sampling %.3f\n",
           with, without);
    assert_true(fabs(with - 0.2) < 0.03);
    assert_true(fabs(without - 0.2) < 0.03);
}

/* ---- loss_weight: a task's pull on the components it shares ---- */
/* One step on a batch of task a (member 1) and task b (member 2) over one
 * shared member/company pair, every example weighing ew (0: no gradient, so
 * the rows stay where they were initialised); returns member 2's and member
 * 1's shared rows after it. */
static void pull_run(const char *mech, double wb, float ew, const char *extra, float *row2,
                     float *row1)
{
    char cfg[2000], err[256];
    const char *tw =
        "m = ( { type = \"embedding\"; input = \"member_id\"; dim = 4; init = 0.1; } ); "
        "c = ( { type = \"embedding\"; input = \"company_id\"; dim = 4; init = 0.1; } );";
    snprintf(
        cfg, sizeof(cfg),
        "multitask = { mechanism = \"%s\"; seed = 5; shared_optimizer = \"adagrad\"; "
        "shared_table_lr = 0.1; tasks = ( "
        "{ name = \"a\"; optimizer = \"adagrad\"; table_lr = 0.1; model = { %s head = { type = "
        "\"dot\"; }; }; }, "
        "{ name = \"b\"; loss_weight = %g; optimizer = \"adagrad\"; table_lr = 0.1; model = { %s "
        "head = { type = \"dot\"; }; }; } ); publish = { member = \"a.m\"; }; %s };",
        mech, tw, wb, tw, extra);
    mtl_net *n = mtl_new_from_string(cfg, err, sizeof(err));
    assert_non_null(n);
    int im = mtl_input_index(n, "member_id"), ic = mtl_input_index(n, "company_id");
    mtl_value v[16][2];
    mtl_example ex[16];
    for (int i = 0; i < 16; i++) {
        v[i][im] = (mtl_value){.id = i < 8 ? 1 : 2};
        v[i][ic] = (mtl_value){.id = 10 + i % 3};
        ex[i] = (mtl_example){.task = i < 8 ? 0 : 1, .label = i % 2, .weight = ew, .in = v[i]};
    }
    assert_int_equal(mtl_train_batch(n, ex, 16, err, sizeof(err)), 0);
    int p = mtl_publish_index(n, "member");
    assert_int_equal(mtl_publish_embed(n, p, 2, row2), 0);
    assert_int_equal(mtl_publish_embed(n, p, 1, row1), 0);
    mtl_free(n);
}

static void test_loss_weight_pull(void **state)
{
    const char *mechs[] = {"joint", "iterative"};
    for (int k = 0; k < 2; k++) {
        float r0[4], r5[4], r1[4], r2[4], a0[4], a5[4], a1[4], a2[4], i2[4], i1[4];
        pull_run(mechs[k], 1.0, 0.0f, "", i2, i1); /* initial rows */
        pull_run(mechs[k], 0.0, 1.0f, "", r0, a0);
        pull_run(mechs[k], 0.5, 1.0f, "", r5, a5);
        pull_run(mechs[k], 1.0, 1.0f, "", r1, a1);
        pull_run(mechs[k], 2.0, 1.0f, "", r2, a2);
        double worst = 0, moved = 0, amoved = 0;
        for (int j = 0; j < 4; j++) {
            assert_true(memcmp(&r0[j], &i2[j], sizeof(float)) == 0); /* weight 0: b's row stays */
            double full = r1[j] - i2[j], half = r5[j] - i2[j];
            moved = fmax(moved, fabs(full));
            worst = fmax(worst, fabs(half - 0.5 * full));
            assert_true(memcmp(&a0[j], &a1[j], sizeof(float)) == 0); /* a's row: a's pull only */
            assert_true(memcmp(&a0[j], &a5[j], sizeof(float)) == 0);
            /* b weighing 2: b has the largest weight (its step as at 1), a pulls half */
            double afull = a1[j] - i1[j];
            amoved = fmax(amoved, fabs(afull));
            if (k == 0) /* iterative: b steps after a moved the shared company rows */
                worst = fmax(worst, fabs((r2[j] - i2[j]) - full));
            worst = fmax(worst, fabs((a2[j] - i1[j]) - 0.5 * afull));
        }
        printf("figure: %s: b's step on a shared row with loss_weight 1 moves it up to %.4f; "
               "weight 0.5 moves it half as far, 0 not at all; b at 2 halves a's step "
               "(largest deviation %.1e)\n",
               mechs[k], moved, worst);
        assert_true(moved > 1e-3);
        assert_true(amoved > 1e-3);
        assert_true(worst < 1e-6);
    }
}

/* Distillation: the student's gradient on a shared table mixes its own loss
 * and the hinge towards the teacher, so its pull is not scaled by its
 * loss_weight: a student at weight 0 still learns the shared rows from its
 * teacher, and as far as at weight 1 minus its own loss's share. */
static void test_pull_distillation(void **state)
{
    const char *d =
        "distillation = { teacher = \"a\"; student = \"b\"; weight = 1.0; margin = 1.0; };";
    float i2[4], i1[4], z2[4], z1[4], o2[4], o1[4];
    pull_run("joint", 1.0, 0.0f, d, i2, i1); /* initial rows */
    pull_run("joint", 0.0, 1.0f, d, z2, z1);
    pull_run("joint", 1.0, 1.0f, d, o2, o1);
    double moved0 = 0, moved1 = 0;
    for (int j = 0; j < 4; j++) {
        assert_true(isfinite(z2[j]) && isfinite(o2[j]));
        moved0 = fmax(moved0, fabs(z2[j] - i2[j]));
        moved1 = fmax(moved1, fabs(o2[j] - i2[j]));
    }
    printf("figure: distillation: the student's shared row moves up to %.4f at loss_weight 0, "
           "%.4f at 1\n",
           moved0, moved1);
    assert_true(moved0 > 1e-3);
    assert_true(moved1 > 1e-3);
}

/* A task's pull must not depend on which other tasks a batch holds: b's step
 * on its own shared row is the same whether a's rows (other member, other
 * company) are in the batch or not, with fixed, uncertainty and GradNorm
 * weights that differ between the tasks. */
static void test_pull_batch_independent(void **state)
{
    const char *ws[] = {"fixed", "uncertainty", "gradnorm"};
    const char *tw =
        "m = ( { type = \"embedding\"; input = \"member_id\"; dim = 4; init = 0.1; } ); "
        "c = ( { type = \"embedding\"; input = \"company_id\"; dim = 4; init = 0.1; } );";
    for (int wi = 0; wi < 3; wi++) {
        char cfg[2000], err[256];
        snprintf(cfg, sizeof(cfg),
                 "multitask = { mechanism = \"joint\"; weighting = \"%s\"; seed = 5; "
                 "shared_optimizer = \"adagrad\"; shared_lr = 0.05; shared_table_lr = 0.1; "
                 "tasks = ( { name = \"a\"; optimizer = \"adagrad\"; model = { %s head = { type = "
                 "\"dot\"; }; }; }, { name = \"b\"; loss_weight = 0.3; optimizer = \"adagrad\"; "
                 "model = { %s head = { type = \"dot\"; }; }; } ); publish = { member = "
                 "\"a.m\"; }; };",
                 ws[wi], tw, tw);
        mtl_net *n[3];
        for (int i = 0; i < 3; i++) {
            n[i] = mtl_new_from_string(cfg, err, sizeof(err));
            assert_non_null(n[i]);
        }
        int im = mtl_input_index(n[0], "member_id"), ic = mtl_input_index(n[0], "company_id");
        mtl_value v[64][2];
        mtl_example ex[64];
        /* a's labels all 1: its loss falls, so its learned weight rises above b's */
        for (int it = 0; it < 40; it++) {
            for (int k = 0; k < 64; k++) {
                int a = k < 48;
                v[k][im] = (mtl_value){.id = a ? 1 + k % 5 : 2};
                v[k][ic] = (mtl_value){.id = 10 + k % 3};
                ex[k] = (mtl_example){
                    .task = a ? 0 : 1, .label = a ? 1.0f : (float)(k % 2), .weight = 1, .in = v[k]};
            }
            assert_int_equal(mtl_train_batch(n[0], ex, 64, err, sizeof(err)), 0);
        }
        float wa = mtl_task_weight(n[0], 0), wb = mtl_task_weight(n[0], 1);
        assert_true(wa > 1.5f * wb); /* the weights differ, so a wrong pull shows */
        mts_buf b;
        buf_init(&b);
        mtl_state_save(n[0], &b);
        for (int i = 1; i < 3; i++)
            assert_int_equal(mtl_state_load(n[i], b.data, b.len, err, sizeof(err)), 0);
        buf_free(&b);
        int p = mtl_publish_index(n[0], "member");
        float r0[4], rx[4], ry[4];
        assert_int_equal(mtl_publish_embed(n[1], p, 2, r0), 0);
        for (int k = 0; k < 16; k++) { /* rows 0-7: b on member 2; 8-15: a on member 1 */
            v[k][im] = (mtl_value){.id = k < 8 ? 2 : 1};
            v[k][ic] = (mtl_value){.id = k < 8 ? 10 + k % 3 : 50};
            ex[k] = (mtl_example){.task = k < 8 ? 1 : 0, .label = k % 2, .weight = 1, .in = v[k]};
        }
        assert_int_equal(mtl_train_batch(n[1], ex, 8, err, sizeof(err)), 0);
        assert_int_equal(mtl_train_batch(n[2], ex, 16, err, sizeof(err)), 0);
        assert_int_equal(mtl_publish_embed(n[1], p, 2, rx), 0);
        assert_int_equal(mtl_publish_embed(n[2], p, 2, ry), 0);
        double moved = 0, worst = 0;
        for (int j = 0; j < 4; j++) {
            moved = fmax(moved, fabs(rx[j] - r0[j]));
            worst = fmax(worst, fabs((ry[j] - r0[j]) - (rx[j] - r0[j])));
        }
        printf("figure: %s weights a %.2f b %.2f: b's step on its shared row %.4f without a's "
               "rows in the batch, differs by %.1e with them\n",
               ws[wi], wa, wb, moved, worst);
        assert_true(moved > 1e-3);
        assert_true(worst < 1e-6);
        for (int i = 0; i < 3; i++)
            mtl_free(n[i]);
    }
}

/* ---- transfer: the high-correlation case of the experiment, smaller ---- */
static void test_transfer_high_correlation(void **state)
{
    double t0 = mono_sec();
    double s = 0, j = 0, it = 0;
    for (int seed = 0; seed < 2; seed++) {
        mtlw_world w;
        mtlw_init(&w, 400, 60, 4, 1.0, 1000 + (uint64_t)seed);
        s += mtlw_run(&w, MTLW_SINGLE, "fixed", 7 + (uint64_t)seed, 3000, 20, 2, 256, 3000, NULL) /
             2;
        j +=
            mtlw_run(&w, MTLW_JOINT, "fixed", 7 + (uint64_t)seed, 3000, 20, 2, 256, 3000, NULL) / 2;
        it += mtlw_run(&w, MTLW_ITERATIVE, "fixed", 7 + (uint64_t)seed, 3000, 20, 2, 256, 3000,
                       NULL) /
              2;
        mtlw_free(&w);
    }
    printf("figure: transfer rho=1 (2 seeds, 3000 InMail + 60000 views): InMail AUC single %.3f, "
           "joint %.3f, "
           "iterative %.3f (%.1f s)\n",
           s, j, it, mono_sec() - t0);
    assert_true(j >= s + 0.05);
    assert_true(it >= s + 0.05);
}

int main(void)
{
    rng_seed(&rng, 12345);
    blas_init_single_thread();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bilinear),
        cmocka_unit_test(test_rowdot_concat),
        cmocka_unit_test(test_uncertainty),
        cmocka_unit_test(test_ngrams),
        cmocka_unit_test(test_dyntable),
        cmocka_unit_test(test_net_grad_joint),
        cmocka_unit_test(test_net_grad_iterative),
        cmocka_unit_test(test_net_grad_dot_pairs),
        cmocka_unit_test(test_sharing_and_validation),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_sampling_calibrated),
        cmocka_unit_test(test_loss_weight_pull),
        cmocka_unit_test(test_pull_distillation),
        cmocka_unit_test(test_pull_batch_independent),
        cmocka_unit_test(test_transfer_high_correlation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
