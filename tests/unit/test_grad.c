/* test_grad.c - every backward pass against central finite differences.
 *
 * Each layer is wrapped as a scalar loss L = <R, out> with a fixed random R
 * (so dL/dout = R), its backward gives the analytic gradient, and every
 * input/parameter element is perturbed by +-eps (gradcheck.h: one step size,
 * relative error with floor FLOOR). Inputs of ReLU and hinge are kept away
 * from their kinks. The whole affinity and skill models are checked the same
 * way on their real loss. Losses here are float-valued, like the models'. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/util.h"
#include "model/affinity.h"
#include "model/layers.h"
#include "model/skill.h"
#include "gradcheck.h"
#include "model_test_layout.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FLOOR 1e-2
#define TOL 1e-2

static mts_rng rng;

static void fill(float *a, int n, float lo, float hi)
{
    for (int i = 0; i < n; i++)
        a[i] = lo + (hi - lo) * (float)rng_uniform(&rng);
}

/* Away from 0: magnitude in [0.2, 1], random sign. */
static void fill_away(float *a, int n)
{
    for (int i = 0; i < n; i++)
        a[i] = (rng_uniform(&rng) < 0.5 ? -1.0f : 1.0f) * (0.2f + 0.8f * (float)rng_uniform(&rng));
}

/* ---- dense ---- */
enum { DB = 3, DC = 5, DOC = 4 };
typedef struct {
    float inp[DB * DC], w[DOC * DC], b[DOC], out[DB * DOC], R[DB * DOC];
} dense_ctx;

static double dense_loss(void *p)
{
    dense_ctx *c = p;
    dense_forward(c->out, c->inp, c->w, c->b, DB, DC, DOC);
    return (float)gc_dot(c->out, c->R, DB * DOC);
}

static void test_dense(void **state)
{
    dense_ctx c;
    fill(c.inp, DB * DC, -1, 1);
    fill(c.w, DOC * DC, -1, 1);
    fill(c.b, DOC, -1, 1);
    fill(c.R, DB * DOC, -1, 1);
    float dinp[DB * DC] = {0}, dw[DOC * DC] = {0}, db[DOC] = {0};
    dense_backward(dinp, dw, db, c.R, c.inp, c.w, DB, DC, DOC);
    double worst = 0;
    worst =
        fmax(worst, gc_check("dense d/inp", c.inp, DB * DC, dinp, dense_loss, &c, 1e-2f, FLOOR));
    worst =
        fmax(worst, gc_check("dense d/weight", c.w, DOC * DC, dw, dense_loss, &c, 1e-2f, FLOOR));
    worst = fmax(worst, gc_check("dense d/bias", c.b, DOC, db, dense_loss, &c, 1e-2f, FLOOR));
    assert_true(worst < TOL);
    /* the forward itself against a hand loop */
    dense_forward(c.out, c.inp, c.w, c.b, DB, DC, DOC);
    for (int b = 0; b < DB; b++)
        for (int o = 0; o < DOC; o++) {
            float s = c.b[o];
            for (int i = 0; i < DC; i++)
                s += c.inp[b * DC + i] * c.w[o * DC + i];
            assert_float_equal(c.out[b * DOC + o], s, 1e-5);
        }
}

/* ---- relu ---- */
enum { RN = 20 };
typedef struct {
    float in[RN], out[RN], R[RN];
} relu_ctx;

static double relu_loss(void *p)
{
    relu_ctx *c = p;
    relu_forward(c->out, c->in, RN);
    return (float)gc_dot(c->out, c->R, RN);
}

static void test_relu(void **state)
{
    relu_ctx c;
    fill_away(c.in, RN);
    fill(c.R, RN, -1, 1);
    relu_forward(c.out, c.in, RN);
    float din[RN] = {0};
    relu_backward(din, c.R, c.out, RN);
    assert_true(gc_check("relu d/in", c.in, RN, din, relu_loss, &c, 1e-2f, FLOOR) < TOL);
    int zeros = 0;
    for (int i = 0; i < RN; i++)
        zeros += c.in[i] < 0 && din[i] == 0.0f && c.out[i] == 0.0f;
    assert_true(zeros > 0); /* some units really were off */
}

/* ---- dot head ---- */
enum { HB = 5, HD = 4, HT = 3 };
typedef struct {
    float m[HB * HD], c[HB * HD], scale[HT], bias[HT], logit[HB], dotv[HB], R[HB];
    int task[HB];
} head_ctx;

static double head_loss(void *p)
{
    head_ctx *c = p;
    dot_head_forward(c->logit, c->dotv, c->m, c->c, c->task, c->scale, c->bias, HB, HD);
    return (float)gc_dot(c->logit, c->R, HB);
}

static void test_dot_head(void **state)
{
    head_ctx c;
    fill(c.m, HB * HD, -1, 1);
    fill(c.c, HB * HD, -1, 1);
    fill(c.scale, HT, 0.5f, 2);
    fill(c.bias, HT, -1, 1);
    fill(c.R, HB, -1, 1);
    for (int b = 0; b < HB; b++)
        c.task[b] = b % HT;
    head_loss(&c);
    float dm[HB * HD] = {0}, dc[HB * HD] = {0}, ds[HT] = {0}, dbias[HT] = {0};
    dot_head_backward(dm, dc, ds, dbias, c.R, c.dotv, c.m, c.c, c.task, c.scale, HB, HD);
    double worst = 0;
    worst =
        fmax(worst, gc_check("dot head d/member", c.m, HB * HD, dm, head_loss, &c, 1e-2f, FLOOR));
    worst =
        fmax(worst, gc_check("dot head d/company", c.c, HB * HD, dc, head_loss, &c, 1e-2f, FLOOR));
    worst = fmax(worst, gc_check("dot head d/scale", c.scale, HT, ds, head_loss, &c, 1e-2f, FLOOR));
    worst =
        fmax(worst, gc_check("dot head d/bias", c.bias, HT, dbias, head_loss, &c, 1e-2f, FLOOR));
    assert_true(worst < TOL);
}

/* ---- weighted BCE ---- */
enum { LB = 8 };
typedef struct {
    float z[LB], y[LB], w[LB];
} bce_ctx;

static double bce_loss(void *p)
{
    bce_ctx *c = p;
    return bce_forward(NULL, c->z, c->y, c->w, LB);
}

static void test_bce(void **state)
{
    bce_ctx c;
    fill(c.z, LB, -4, 4);
    for (int i = 0; i < LB; i++)
        c.y[i] = i < 3 ? 1.0f : i < 6 ? 0.0f : 0.3f; /* hard and soft labels */
    fill(c.w, LB, 0.5f, 3);
    float dz[LB] = {0};
    bce_backward(dz, c.z, c.y, c.w, LB);
    assert_true(gc_check("weighted bce d/logit", c.z, LB, dz, bce_loss, &c, 1e-2f, FLOOR) < TOL);
    /* value against the textbook formula, and stability at huge logits */
    float z1 = 2.0f, y1 = 1.0f, w1 = 2.0f, l;
    bce_forward(&l, &z1, &y1, &w1, 1);
    assert_float_equal(l, -logf(1.0f / (1.0f + expf(-2.0f))), 1e-6);
    float zb[2] = {1000.0f, -1000.0f}, yb[2] = {0.0f, 1.0f}, wb[2] = {1, 1};
    float L = bce_forward(NULL, zb, yb, wb, 2);
    assert_true(isfinite(L));
    assert_float_equal(L, 2000.0f, 1e-2);
    float dzb[2] = {0};
    bce_backward(dzb, zb, yb, wb, 2);
    assert_float_equal(dzb[0], 1.0f, 1e-6);
    assert_float_equal(dzb[1], -1.0f, 1e-6);
}

/* ---- hinge ---- */
typedef struct {
    float s[LB], y[LB], w[LB];
} hinge_ctx;

static double hinge_loss(void *p)
{
    hinge_ctx *c = p;
    return hinge_forward(c->s, c->y, c->w, 1.0f, LB);
}

static void test_hinge(void **state)
{
    hinge_ctx c;
    for (int i = 0; i < LB; i++) {
        c.y[i] = i % 2 ? 1.0f : -1.0f;
        /* margins y*s in {-0.5, 0.3, 1.6, 2.5}: two active, two inactive, none near 1 */
        static const float ys[4] = {-0.5f, 0.3f, 1.6f, 2.5f};
        c.s[i] = c.y[i] * ys[i % 4];
    }
    fill(c.w, LB, 0.5f, 2);
    float ds[LB] = {0};
    hinge_backward(ds, c.s, c.y, c.w, 1.0f, LB);
    assert_true(gc_check("hinge d/score", c.s, LB, ds, hinge_loss, &c, 1e-2f, FLOOR) < TOL);
    int inactive = 0;
    for (int i = 0; i < LB; i++)
        inactive += ds[i] == 0.0f;
    assert_int_equal(inactive, LB / 2);
}

/* ---- mean pooling ---- */
enum { PB = 4, PD = 3, PN = 7 };
typedef struct {
    float in[PN * PD], out[PB * PD], R[PB * PD];
    int off[PB + 1];
} pool_ctx;

static double pool_loss(void *p)
{
    pool_ctx *c = p;
    meanpool_forward(c->out, c->in, c->off, PB, PD);
    return (float)gc_dot(c->out, c->R, PB * PD);
}

static void test_pool(void **state)
{
    pool_ctx c = {.off = {0, 3, 3, 4, 7}}; /* bag 1 is empty */
    fill(c.in, PN * PD, -1, 1);
    fill(c.R, PB * PD, -1, 1);
    float din[PN * PD] = {0};
    meanpool_backward(din, c.R, c.off, PB, PD);
    assert_true(gc_check("meanpool d/in", c.in, PN * PD, din, pool_loss, &c, 1e-2f, FLOOR) < TOL);
    pool_loss(&c);
    for (int i = 0; i < PD; i++) {
        assert_float_equal(c.out[1 * PD + i], 0.0f, 0);
        assert_float_equal(c.out[0 * PD + i], (c.in[i] + c.in[PD + i] + c.in[2 * PD + i]) / 3,
                           1e-6);
    }
}

/* ---- the whole affinity model ---- */
enum { AB = 8 };
typedef struct {
    affinity a;
    int64_t mid[AB], cid[AB];
    int task[AB];
    float y[AB], w[AB];
} aff_ctx;

static double aff_loss(void *p)
{
    aff_ctx *c = p;
    return affinity_forward(&c->a, c->mid, c->cid, c->task, c->y, c->w, AB, 1);
}

static void test_affinity_model(void **state)
{
    static aff_ctx c;
    char err[256];
    assert_int_equal(affinity_init(&c.a, 6, 5, 4, 3, 100, 0.01f, 0.1f, 7, err, sizeof(err)), 0);
    for (int b = 0; b < AB; b++) {
        c.mid[b] = 100 + b % 5; /* members repeat inside the batch */
        c.cid[b] = 900 + b % 3;
        c.task[b] = b % 3;
        c.y[b] = (float)(b % 2);
        c.w[b] = 1.0f + 0.5f * (float)(b % 3);
    }
    /* make the head count: non-trivial scales and biases */
    for (int t = 0; t < 3; t++) {
        c.a.p.scale[t] = 1.5f + 0.5f * t;
        c.a.p.bias[t] = -0.3f + 0.2f * t;
    }
    aff_loss(&c);
    affinity_backward(&c.a);
    size_t np = c.a.n_params;
    float *g = xmalloc(np * sizeof(float));
    memcpy(g, c.a.mem + np, np * sizeof(float));
    /* each dense tensor, located by its offset inside the one allocation */
    struct {
        const char *name;
        float *p;
        int n;
    } t[] = {
        {"affinity d/member w1", c.a.p.m_w1, 30},  {"affinity d/member b1", c.a.p.m_b1, 5},
        {"affinity d/member w2", c.a.p.m_w2, 20},  {"affinity d/member b2", c.a.p.m_b2, 4},
        {"affinity d/company w1", c.a.p.c_w1, 30}, {"affinity d/company w2", c.a.p.c_w2, 20},
        {"affinity d/head scale", c.a.p.scale, 3}, {"affinity d/head bias", c.a.p.bias, 3},
    };
    double worst = 0;
    for (size_t i = 0; i < ARRAY_LEN(t); i++)
        worst = fmax(worst, gc_check(t[i].name, t[i].p, t[i].n, g + (t[i].p - c.a.mem), aff_loss,
                                     &c, 1e-2f, FLOOR));
    /* table rows: members 100 (3 uses) and 104 (1 use), company 901 */
    int64_t mids[2] = {100, 104};
    for (int k = 0; k < 2; k++) {
        int32_t r = embtable_find(&c.a.members, mids[k]);
        assert_true(r >= 0);
        float grow[6];
        memcpy(grow, embtable_grad(&c.a.members, r), sizeof(grow));
        worst = fmax(worst,
                     gc_check(k ? "affinity d/member row 104" : "affinity d/member row 100",
                              embtable_row(&c.a.members, r), 6, grow, aff_loss, &c, 1e-2f, FLOOR));
    }
    int32_t r = embtable_find(&c.a.companies, 901);
    float grow[6];
    memcpy(grow, embtable_grad(&c.a.companies, r), sizeof(grow));
    worst = fmax(worst, gc_check("affinity d/company row 901", embtable_row(&c.a.companies, r), 6,
                                 grow, aff_loss, &c, 1e-3f, FLOOR));
    printf("  affinity model: largest relative error %.2e\n", worst);
    assert_true(worst < TOL);
    free(g);
    affinity_free(&c.a);
}

/* ---- the whole skill model ---- */
enum { SB = 6 };
typedef struct {
    skill s;
    int64_t ent[SB];
    int dom[SB], off[SB * SKILL_GROUPS + 1];
    uint32_t bk[SB * SKILL_MAX_NGRAMS];
    float pos[SB * SKILL_POS];
    float y[SB], w[SB];
} skill_ctx;

static double skill_loss(void *p)
{
    skill_ctx *c = p;
    return skill_forward(&c->s, c->ent, c->dom, c->bk, c->off, c->pos, c->y, c->w, SB, 1);
}

static void test_skill_model(void **state)
{
    static skill_ctx c;
    char err[256];
    assert_int_equal(skill_init(&c.s, 4, 5, 64, 100, 0.01f, 0.1f, 3, err, sizeof(err)), 0);
    const char *sent[SB][4] = {
        {"we", "use", "Spark", "daily"},    {"wires", "give", "off", "spark"},
        {"Java", "and", "SQL", "skills"},   {"good", "team", "player", "!"},
        {"erfaring", "med", "Python", "."}, {"sparks", "fly", "at", "night"}};
    int64_t spans[SB][2] = {{2, 3}, {3, 4}, {0, 1}, {1, 3}, {2, 3}, {0, 1}};
    c.off[0] = 0;
    for (int b = 0; b < SB; b++) {
        mts_str tok[4];
        for (int i = 0; i < 4; i++) {
            tok[i].p = sent[b][i];
            tok[i].len = (uint32_t)strlen(sent[b][i]);
        }
        int *off = c.off + b * SKILL_GROUPS, counts[SKILL_GROUPS];
        skill_featurize(&c.s, tok, 4, spans[b][0], spans[b][1], c.bk + off[0], counts,
                        c.pos + b * SKILL_POS);
        for (int g = 0; g < SKILL_GROUPS; g++)
            off[g + 1] = off[g] + counts[g];
        c.ent[b] = 10 + b % 4;
        c.dom[b] = skill_domain(&c.s, b < 4 ? "tech" : "da", b < 4 ? 4 : 2, 1);
        c.y[b] = (float)(b % 2 == 0);
        c.w[b] = 1.0f + (float)b / 4;
    }
    assert_int_equal(c.s.n_domains, 2);
    /* non-zero domain parts so their gradient paths matter */
    for (int i = 0; i < 2 * 5; i++) {
        c.s.p.dom_w[i] = 0.3f * (float)((i % 3) - 1);
        c.s.p.dom_v[i] = 0.2f * (float)((i % 4) - 1.5);
    }
    /* the default init is tiny (0.1): scale rows and biases up so hidden
     * pre-activations sit well away from the ReLU kink at this eps */
    skill_loss(&c);
    for (size_t i = 0; i < (size_t)c.s.entities.n * 4; i++)
        c.s.entities.w[i] *= 10.0f;
    for (size_t i = 0; i < (size_t)c.s.ngrams.n * 4; i++)
        c.s.ngrams.w[i] *= 10.0f;
    for (int i = 0; i < 5; i++)
        c.s.p.b1[i] = i % 2 ? 0.5f : -0.4f;
    skill_loss(&c);
    /* pre-activations W1 x + b1 + v_d: redraw b1 until all are away from
     * the ReLU kink by more than the perturbations (eps times |x| <= ~0.02) */
    double kink = 0;
    for (int trial = 0; trial < 200 && kink < 0.05; trial++) {
        if (trial > 0)
            fill(c.s.p.b1, 5, -0.6f, 0.6f);
        kink = 1e9;
        for (int b = 0; b < SB; b++)
            for (int i = 0; i < 5; i++) {
                double z = c.s.p.b1[i] + (c.dom[b] >= 0 ? c.s.p.dom_v[c.dom[b] * 5 + i] : 0);
                for (int j = 0; j < c.s.X; j++)
                    z += (double)c.s.p.w1[i * c.s.X + j] * c.s.x[b * c.s.X + j];
                kink = fmin(kink, fabs(z));
            }
    }
    printf("  skill: smallest |pre-activation| %.3f\n", kink);
    assert_true(kink >= 0.05);
    skill_loss(&c);
    skill_backward(&c.s);
    size_t np = c.s.n_params;
    float *g = xmalloc(np * sizeof(float));
    memcpy(g, c.s.mem + np, np * sizeof(float));
    struct {
        const char *name;
        float *p;
        int n;
    } t[] = {
        {"skill d/w1", c.s.p.w1, 5 * c.s.X},
        {"skill d/b1", c.s.p.b1, 5},
        {"skill d/domain hidden v", c.s.p.dom_v, 10},
        {"skill d/w2", c.s.p.w2, 5},
        {"skill d/b2", c.s.p.b2, 1},
        {"skill d/domain w", c.s.p.dom_w, 10},
        {"skill d/domain b", c.s.p.dom_b, 2},
    };
    double worst = 0;
    for (size_t i = 0; i < ARRAY_LEN(t); i++)
        worst = fmax(worst, gc_check(t[i].name, t[i].p, t[i].n, g + (t[i].p - c.s.mem), skill_loss,
                                     &c, 1e-2f, FLOOR));
    int32_t r = embtable_find(&c.s.entities, 10);
    float ge[4];
    memcpy(ge, embtable_grad(&c.s.entities, r), sizeof(ge));
    worst = fmax(worst, gc_check("skill d/entity row", embtable_row(&c.s.entities, r), 4, ge,
                                 skill_loss, &c, 1e-2f, FLOOR));
    /* one bucket row of every bag (span, left, right, neighbours) of candidate 1 */
    for (int bag = 0; bag < SKILL_GROUPS; bag++) {
        assert_true(c.off[SKILL_GROUPS + bag + 1] > c.off[SKILL_GROUPS + bag] ||
                    bag == 2); /* "spark" ends its sentence */
        if (c.off[SKILL_GROUPS + bag + 1] == c.off[SKILL_GROUPS + bag])
            continue;
        r = c.s.nrow[c.off[SKILL_GROUPS + bag]];
        memcpy(ge, embtable_grad(&c.s.ngrams, r), sizeof(ge));
        char name[64];
        snprintf(name, sizeof(name), "skill d/bucket row, bag %d", bag);
        worst = fmax(worst, gc_check(name, embtable_row(&c.s.ngrams, r), 4, ge, skill_loss, &c,
                                     1e-2f, FLOOR));
    }
    /* the position features of candidate 1 as the model sees them */
    assert_float_equal(c.pos[SKILL_POS + 0], 1.0f, 0);     /* one word */
    assert_float_equal(c.pos[SKILL_POS + 5], 1.0f, 0);     /* at the sentence end */
    assert_float_equal(c.pos[SKILL_POS + 6], 0.75f, 1e-6); /* starts at 3 of 4 */
    printf("  skill model: largest relative error %.2e\n", worst);
    assert_true(worst < TOL);
    free(g);
    skill_free(&c.s);
}

int main(void)
{
    rng_seed(&rng, 12345);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense),          cmocka_unit_test(test_relu),
        cmocka_unit_test(test_dot_head),       cmocka_unit_test(test_bce),
        cmocka_unit_test(test_hinge),          cmocka_unit_test(test_pool),
        cmocka_unit_test(test_affinity_model), cmocka_unit_test(test_skill_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
