/* test_model_mtl.c - the model API over a declared multitask network:
 * binding by field name, progressive validation, learning a planted world,
 * published towers and dirty sets, and checkpoints (save, load, continue:
 * bit-identical to never stopping; corrupt and mismatched files refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "model/checkpoint.h"
#include "model/model.h"
#include "model/model_impl.h"
#include "model_test_layout.h"

#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH 256
#define NM 300
#define NC 40
#define K 4
static char dir[256], net_file[300];
static mts_layout *layout;
static double U[NM][K], V[NC][K];

static const char *NET =
    "multitask = { mechanism = \"joint\"; seed = 5; shared_table_lr = 0.1;\n"
    "  publish = { member = \"view.member\"; company = \"view.company\"; };\n"
    "  tasks = (\n"
    "   { name = \"view\"; label = \"viewed\"; model = {\n"
    "      member = ( { type = \"embedding\"; input = \"member_id\"; dim = 16; capacity = 1000; "
    "admit = 2; init = 0.1; },\n"
    "                 { type = \"dense\"; units = 8; } );\n"
    "      company = ( { type = \"embedding\"; input = \"company_id\"; dim = 16; capacity = 100; "
    "init = 0.1; },\n"
    "                  { type = \"dense\"; units = 8; } );\n"
    "      head = { type = \"dot\"; }; }; },\n"
    "   { name = \"apply\"; label = \"applied\"; sampling = { pos_keep = 1.0; neg_keep = 0.5; }; "
    "model = {\n"
    "      member = ( { type = \"embedding\"; input = \"member_id\"; dim = 16; capacity = 1000; "
    "admit = 2; init = 0.1; },\n"
    "                 { type = \"dense\"; units = 8; } );\n"
    "      company = ( { type = \"embedding\"; input = \"company_id\"; dim = 16; capacity = 100; "
    "init = 0.1; },\n"
    "                  { type = \"dense\"; units = 8; } );\n"
    "      head = { type = \"bilinear\"; }; }; },\n"
    "   { name = \"skill\"; label = \"label\"; model = {\n"
    "      entity = ( { type = \"embedding\"; input = \"entity_id\"; dim = 8; capacity = 100; } "
    ");\n"
    "      text = ( { type = \"ngram\"; input = \"tokens\"; dim = 8; capacity = 4096; } );\n"
    "      head = { type = \"mlp\"; hidden = 8; }; }; }\n"
    "  );\n};\n";

static model_config test_config(void)
{
    model_config c;
    model_config_defaults(&c);
    c.metrics_window = 1000;
    test_task(&c, "view", TASK_AFFINITY, "viewed", 1, 1);
    test_task(&c, "apply", TASK_AFFINITY, "applied", 1, 2);
    test_task(&c, "skill", TASK_SKILL, "label", 1, 1);
    snprintf(c.mtl_file, sizeof(c.mtl_file), "%s", net_file);
    return c;
}

typedef struct {
    mts_value v[F_COUNT];
    mts_str tok[3];
} ex;
static const char *words[] = {"spark", "data", "python", "wires", "give", "off"};

static void make_batch(mts_rng *r, ex *e, mts_row *rows)
{
    for (int i = 0; i < BATCH; i++) {
        memset(&e[i], 0, sizeof(e[i]));
        int t = rng_uniform(r) < 0.45 ? 0 : rng_uniform(r) < 0.8 ? 1 : 2;
        if (t < 2) {
            int m = (int)rng_below(r, NM), c = (int)rng_below(r, NC);
            double s = 0;
            for (int k = 0; k < K; k++)
                s += U[m][k] * V[c][k];
            int y = rng_uniform(r) < 1.0 / (1.0 + exp(-(3.0 * s - (t ? 1.0 : 0.0))));
            test_affinity_row(&rows[i], e[i].v, t, t ? F_APPLIED : F_VIEWED, 1000 + m, 70 + c, y);
            rows[i].timestamp_ms = 1700000000000LL + i;
            continue;
        }
        int w = (int)rng_below(r, 6);
        for (int k = 0; k < 3; k++)
            e[i].tok[k] = (mts_str){words[(w + k) % 6], (uint32_t)strlen(words[(w + k) % 6])};
        mts_value *v = e[i].v;
        v[F_ENTITY].u.l = 50 + w;
        v[F_TOKENS].u.sa = e[i].tok;
        v[F_TOKENS].n = 3;
        v[F_LABEL].u.l = w < 3;
        memset(&rows[i], 0, sizeof(rows[i]));
        rows[i].task = 2;
        rows[i].v = v;
    }
}

static void train(mts_model *m, mts_rng *r, int batches)
{
    static ex e[BATCH];
    static mts_row rows[BATCH];
    char err[256];
    for (int b = 0; b < batches; b++) {
        make_batch(r, e, rows);
        assert_int_equal(model_train_batch(m, rows, BATCH, err, sizeof(err)), 0);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/mts-model-mtl-%d", (int)getpid());
    mkdir(dir, 0700);
    snprintf(net_file, sizeof(net_file), "%s/net.conf", dir);
    FILE *f = fopen(net_file, "w");
    assert_non_null(f);
    fputs(NET, f);
    fclose(f);
    layout = test_layout_standard();
    mts_rng r;
    rng_seed(&r, 77);
    for (int m = 0; m < NM; m++)
        for (int k = 0; k < K; k++)
            U[m][k] = rng_normal(&r) / sqrt(2.0);
    for (int c = 0; c < NC; c++)
        for (int k = 0; k < K; k++)
            V[c][k] = rng_normal(&r) / sqrt(2.0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_layout_free(layout);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

/* Learns the planted world; embeddings come from the declared towers; dirty sets drain once. */
static void test_learns_and_publishes(void **state)
{
    (void)state;
    model_config c = test_config();
    char err[512];
    mts_model *m = model_new(&c, layout, err, sizeof(err));
    if (!m)
        fail_msg("model_new: %s", err);
    assert_int_equal(model_dim(m), 8);
    mts_rng r;
    rng_seed(&r, 1);
    train(m, &r, 400);
    task_metrics tm[3];
    for (int t = 0; t < 3; t++)
        model_task_metrics(m, t, &tm[t]);
    printf("  progressive AUC: view %.4f (recent %.4f, %llu events), apply %.4f (recent %.4f), "
           "skill %.4f\n",
           tm[0].auc, tm[0].auc_recent, (unsigned long long)tm[0].events, tm[1].auc,
           tm[1].auc_recent, tm[2].auc);
    assert_true(tm[0].events > 40000 && tm[1].events > 30000);
    assert_true(tm[0].auc_recent > 0.75);
    assert_true(tm[1].auc_recent > 0.70);
    assert_true(tm[2].auc_recent > 0.95);
    assert_int_equal(model_entity_count(m, ENTITY_MEMBER), NM);
    assert_int_equal(model_entity_count(m, ENTITY_COMPANY), NC);
    static int64_t ids[NM + 10];
    size_t n = model_drain_dirty(m, ENTITY_MEMBER, ids, NM + 10);
    assert_int_equal(n, NM);
    assert_int_equal(model_drain_dirty(m, ENTITY_MEMBER, ids, NM + 10), 0);
    float e[8];
    uint64_t seen = 0;
    assert_int_equal(model_embedding(m, ENTITY_MEMBER, 1000, e, &seen), 0);
    assert_true(seen > 50);
    for (int k = 0; k < 8; k++)
        assert_true(isfinite(e[k]));
    assert_int_equal(model_embedding(m, ENTITY_MEMBER, 99999, e, NULL), -1);
    assert_int_equal(model_mark_dirty(m, ENTITY_COMPANY, 99999), -1);
    model_drain_dirty(m, ENTITY_COMPANY, ids, NM);
    assert_int_equal(model_mark_dirty(m, ENTITY_COMPANY, 70), 0);
    assert_int_equal(model_drain_dirty(m, ENTITY_COMPANY, ids, NM), 1);
    assert_int_equal(ids[0], 70);
    /* the published embeddings rank the planted pairs: AUC of <u_m, v_c> vs the truth */
    static float eu[NM][8], ev[NC][8];
    for (int i = 0; i < NM; i++)
        assert_int_equal(model_embedding(m, ENTITY_MEMBER, 1000 + i, eu[i], NULL), 0);
    for (int j = 0; j < NC; j++)
        assert_int_equal(model_embedding(m, ENTITY_COMPANY, 70 + j, ev[j], NULL), 0);
    long conc = 0, tot = 0;
    for (int s = 0; s < 20000; s++) {
        int a = (int)rng_below(&r, NM), b = (int)rng_below(&r, NC), a2 = (int)rng_below(&r, NM),
            b2 = (int)rng_below(&r, NC);
        double t1 = 0, t2 = 0, p1 = 0, p2 = 0;
        for (int k = 0; k < K; k++)
            t1 += U[a][k] * V[b][k], t2 += U[a2][k] * V[b2][k];
        for (int k = 0; k < 8; k++)
            p1 += eu[a][k] * ev[b][k], p2 += eu[a2][k] * ev[b2][k];
        if (t1 == t2)
            continue;
        tot++;
        conc += (t1 > t2) == (p1 > p2);
    }
    printf("  pair ranking by published embeddings agrees with the planted truth: %.4f\n",
           (double)conc / tot);
    assert_true((double)conc / tot > 0.75);
    char d[8192];
    model_describe(m, d, sizeof(d));
    assert_non_null(strstr(d, "shared components:"));
    assert_non_null(strstr(d, "published: member embedding = output of tower view.member"));
    model_free(m);
}

/* Save, load, continue == never stopped (bit-identical); damaged / mismatched refused. */
static void test_checkpoint_round_trip(void **state)
{
    (void)state;
    model_config c = test_config();
    char err[1024], path[400];
    mts_model *a = model_new(&c, layout, err, sizeof(err)), *b = NULL;
    assert_non_null(a);
    mts_rng ra;
    rng_seed(&ra, 9);
    train(a, &ra, 60);
    ckpt_meta meta, got;
    ckpt_meta_init(&meta);
    meta.n_tasks = 3;
    snprintf(path, sizeof(path), "%s/ck", dir);
    assert_int_equal(checkpoint_write_file(path, a, &meta, err, sizeof(err)), 0);
    ckpt_status st = checkpoint_load_file(path, &c, layout, NULL, &b, &got, err, sizeof(err));
    if (st != CKPT_OK)
        fail_msg("load: %s", err);
    assert_int_equal(mtl_param_hash(a->net), mtl_param_hash(b->net));
    mts_rng rb = ra;
    train(a, &ra, 40);
    train(b, &rb, 40);
    uint64_t ha = mtl_param_hash(a->net), hb = mtl_param_hash(b->net);
    printf("  continued after a checkpoint: parameter hash %016llx, never stopped %016llx\n",
           (unsigned long long)hb, (unsigned long long)ha);
    assert_true(ha == hb);
    task_metrics ta, tb;
    model_task_metrics(a, 1, &ta);
    model_task_metrics(b, 1, &tb);
    assert_true(ta.events == tb.events && ta.auc == tb.auc);
    static int64_t ia[2000], ib[2000];
    size_t na = model_drain_dirty(a, ENTITY_MEMBER, ia, 2000),
           nb = model_drain_dirty(b, ENTITY_MEMBER, ib, 2000);
    assert_int_equal(na, nb);
    assert_memory_equal(ia, ib, na * sizeof(int64_t));
    model_free(b);
    ckpt_meta_free(&got);

    /* every single-byte corruption in the network section is caught (CRC) */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, -200, SEEK_END);
    int ch = fgetc(f);
    fseek(f, -200, SEEK_END);
    fputc(ch ^ 0x40, f);
    fclose(f);
    st = checkpoint_load_file(path, &c, layout, NULL, &b, &got, err, sizeof(err));
    assert_int_equal(st, CKPT_CORRUPT);
    assert_null(b);
    printf("  damaged: %s\n", err);

    /* another declaration (a changed width) is a mismatch, named */
    assert_int_equal(checkpoint_write_file(path, a, &meta, err, sizeof(err)), 0);
    char other[400];
    snprintf(other, sizeof(other), "%s/net2.conf", dir);
    f = fopen(other, "w");
    assert_non_null(f);
    char *text = xstrdup(NET), *u = strstr(text, "hidden = 8");
    u[9] = '6';
    fputs(text, f);
    fclose(f);
    free(text);
    model_config c2 = c;
    snprintf(c2.mtl_file, sizeof(c2.mtl_file), "%s", other);
    st = checkpoint_load_file(path, &c2, layout, NULL, &b, &got, err, sizeof(err));
    assert_int_equal(st, CKPT_MISMATCH);
    assert_non_null(strstr(err, "another network declaration"));
    printf("  mismatch: %s\n", err);
    /* the fixed model's checkpoint is not loaded into a declared network */
    model_config fixed = c;
    fixed.mtl_file[0] = '\0';
    fixed.table_capacity = 2000;
    fixed.ngram_buckets = 1024;
    mts_model *fm = model_new(&fixed, layout, err, sizeof(err));
    assert_non_null(fm);
    assert_int_equal(checkpoint_write_file(path, fm, &meta, err, sizeof(err)), 0);
    st = checkpoint_load_file(path, &c, layout, NULL, &b, &got, err, sizeof(err));
    assert_int_equal(st, CKPT_MISMATCH);
    model_free(fm);
    model_free(a);
    ckpt_meta_free(&meta);
}

/* Binding errors name the field. */
static void test_binding_errors(void **state)
{
    (void)state;
    model_config c = test_config();
    char err[512];
    strcpy(c.tasks[0].name, "vue");
    assert_null(model_new(&c, layout, err, sizeof(err)));
    assert_non_null(strstr(err, "vue has no model"));
    c = test_config();
    c.n_tasks = 2;
    assert_null(model_new(&c, layout, err, sizeof(err)));
    assert_non_null(strstr(err, "declares 3 tasks"));
    static const test_field bad[] = {{"member_id", FK_STRING}, {"company_id", FK_LONG},
                                     {"viewed", FK_LONG},      {"applied", FK_LONG},
                                     {"entity_id", FK_LONG},   {"tokens", FK_STRING},
                                     {"label", FK_LONG}};
    mts_layout *l = test_layout_new(bad, 7);
    c = test_config();
    assert_null(model_new(&c, l, err, sizeof(err)));
    assert_non_null(strstr(err, "member_id"));
    printf("  refused: %s\n", err);
    test_layout_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learns_and_publishes),
        cmocka_unit_test(test_checkpoint_round_trip),
        cmocka_unit_test(test_binding_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
