/* test_checkpoint.c - checkpoints restore the whole state, detect damage,
 * refuse another configuration and survive storage faults.
 *
 * A model with two affinity tasks and one skill task is trained on random
 * events, saved, loaded into a fresh model: the loaded model must be
 * bit-identical (every embedding, and a re-save gives the same bytes), and
 * continued training of the original and the loaded copy must stay
 * bit-identical. Then the file is truncated at many lengths and single bits
 * are flipped at many positions: every load must fail as CKPT_CORRUPT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/util.h"
#include "model/checkpoint.h"
#include "model/model.h"
#include "model_test_layout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH 128
static char dir[256];
static mts_layout *layout;

static model_config test_config(void)
{
    model_config c;
    model_config_defaults(&c);
    c.table_capacity = 5000;
    c.ngram_buckets = 4096;
    c.metrics_window = 500;
    test_task(&c, "view", TASK_AFFINITY, "viewed", 1, 1);
    test_task(&c, "apply", TASK_AFFINITY, "applied", 1, 2);
    test_task(&c, "skill", TASK_SKILL, "label", 1, 1);
    return c;
}

typedef struct {
    mts_value v[F_COUNT];
    mts_str tok[6];
} ex;
static const char *words[] = {"spark", "data", "python", "wires", "give",
                              "off",   "the",  "house",  "dansk", "kode"};

/* One batch of mixed rows from r (deterministic). */
static void make_batch(mts_rng *r, ex *e, mts_row *rows)
{
    for (int i = 0; i < BATCH; i++) {
        memset(&e[i], 0, sizeof(e[i]));
        int t = (int)rng_below(r, 3);
        if (t < 2) {
            test_affinity_row(&rows[i], e[i].v, t, t ? F_APPLIED : F_VIEWED,
                              1000 + (int64_t)rng_below(r, 300), 70 + (int64_t)rng_below(r, 40),
                              rng_uniform(r) < 0.3);
            continue;
        }
        for (int k = 0; k < 6; k++) {
            const char *w = words[rng_below(r, ARRAY_LEN(words))];
            e[i].tok[k] = (mts_str){w, (uint32_t)strlen(w)};
        }
        mts_value *v = e[i].v;
        v[F_ENTITY].u.l = 50 + (int64_t)rng_below(r, 30);
        v[F_TOKENS].u.sa = e[i].tok;
        v[F_TOKENS].n = 6;
        v[F_SPAN_START].u.l = 2;
        v[F_SPAN_END].u.l = 3;
        const char *dom = rng_uniform(r) < 0.6 ? "tech" : "house";
        v[F_DOMAIN].u.s = dom;
        v[F_DOMAIN].n = (uint32_t)strlen(dom);
        v[F_LABEL].u.l = rng_uniform(r) < 0.5;
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

static void fill_meta(ckpt_meta *meta)
{
    ckpt_meta_init(meta);
    meta->created_ms = 1700000000000;
    meta->sequence = 7;
    meta->n_tasks = 3;
    for (int t = 0; t < 3; t++) {
        meta->schema_fp[t] = 0x1234567890abcdefULL + (uint64_t)t;
        meta->task_learned[t] = 100 + (uint64_t)t;
        meta->task_dead[t] = (uint64_t)t;
    }
    for (int p = 0; p < 4; p++) {
        ckpt_partition *cp = ckpt_meta_part(meta, p < 2 ? "t.views" : "t.skills", p % 2, 1);
        cp->next_offset = 1000 * p + 5;
        cp->learned = 900 * (uint64_t)p;
        cp->dead_lettered = (uint64_t)p;
    }
}

static char *path_in(const char *name)
{
    static char buf[4][512];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, 512, "%s/%s", dir, name);
    return b;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = xmalloc((size_t)sz + 1);
    assert_int_equal(fread(d, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *n = (size_t)sz;
    return d;
}

static void spit(const char *path, const uint8_t *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, n, f), n);
    fclose(f);
}

/* Every embedding of both kinds identical to the last bit. */
static void assert_same_embeddings(const mts_model *a, const mts_model *b)
{
    for (int k = 0; k < 2; k++) {
        size_t n = model_entity_count(a, (entity_kind)k);
        assert_int_equal(n, model_entity_count(b, (entity_kind)k));
        int64_t *ia = xmalloc(n * sizeof(int64_t)), *ib = xmalloc(n * sizeof(int64_t));
        assert_int_equal(model_entity_ids(a, (entity_kind)k, ia, n), n);
        assert_int_equal(model_entity_ids(b, (entity_kind)k, ib, n), n);
        assert_memory_equal(ia, ib, n * sizeof(int64_t));
        for (size_t i = 0; i < n; i++) {
            float va[64], vb[64];
            uint64_t ea, eb;
            assert_int_equal(model_embedding(a, (entity_kind)k, ia[i], va, &ea), 0);
            assert_int_equal(model_embedding(b, (entity_kind)k, ia[i], vb, &eb), 0);
            assert_memory_equal(va, vb, (size_t)model_dim(a) * sizeof(float));
            assert_int_equal(ea, eb);
        }
        free(ia);
        free(ib);
    }
    for (int t = 0; t < 3; t++) {
        task_metrics ma, mb;
        model_task_metrics(a, t, &ma);
        model_task_metrics(b, t, &mb);
        assert_int_equal(ma.events, mb.events);
        assert_true(ma.auc == mb.auc && ma.auc_recent == mb.auc_recent &&
                    ma.logloss == mb.logloss && ma.logloss_recent == mb.logloss_recent);
    }
}

static ckpt_status load(const char *path, const model_config *c, mts_model **m, ckpt_meta *meta,
                        char *err, size_t errlen)
{
    ckpt_meta expect;
    fill_meta(&expect);
    ckpt_status st = checkpoint_load_file(path, c, layout, &expect, m, meta, err, errlen);
    ckpt_meta_free(&expect);
    return st;
}

static void test_round_trip(void **state)
{
    model_config c = test_config();
    char err[1024];
    mts_model *a = model_new(&c, layout, err, sizeof(err));
    assert_non_null(a);
    mts_rng r;
    rng_seed(&r, 99);
    train(a, &r, 60);
    int64_t drained[8];
    model_drain_dirty(a, ENTITY_MEMBER, drained,
                      8); /* a partly drained dirty set must survive too */
    ckpt_meta meta;
    fill_meta(&meta);
    assert_int_equal(checkpoint_save(dir, a, &meta, err, sizeof(err)), 0);
    struct stat st;
    assert_int_equal(stat(path_in(CKPT_NAME), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_not_equal(stat(path_in(CKPT_TMP_NAME), &st), 0);

    mts_model *b = NULL;
    ckpt_meta got;
    ckpt_status s = load(path_in(CKPT_NAME), &c, &b, &got, err, sizeof(err));
    if (s != CKPT_OK)
        printf("load: %s\n", err);
    assert_int_equal(s, CKPT_OK);
    assert_int_equal(got.n_parts, 4);
    assert_string_equal(got.parts[3].topic, "t.skills");
    assert_int_equal(got.parts[3].partition, 1);
    assert_int_equal(got.parts[3].next_offset, 3005);
    assert_int_equal(got.parts[3].learned, 2700);
    assert_int_equal(got.parts[3].dead_lettered, 3);
    assert_int_equal(got.task_learned[2], 102);
    assert_int_equal(got.sequence, 7);
    assert_same_embeddings(a, b);

    /* Re-saving the loaded model gives the same bytes: nothing was dropped. */
    assert_int_equal(checkpoint_write_file(path_in("again"), b, &meta, err, sizeof(err)), 0);
    size_t n1, n2;
    uint8_t *d1 = slurp(path_in(CKPT_NAME), &n1), *d2 = slurp(path_in("again"), &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(d1, d2, n1);
    printf("figure: checkpoint of %zu members, %zu companies and a skill model: %zu bytes\n",
           model_entity_count(a, ENTITY_MEMBER), model_entity_count(a, ENTITY_COMPANY), n1);

    /* Continued training from the same events: identical to the last bit. */
    mts_rng r1 = r, r2 = r;
    train(a, &r1, 40);
    train(b, &r2, 40);
    assert_same_embeddings(a, b);
    int64_t da[4096], db[4096];
    size_t na = model_drain_dirty(a, ENTITY_MEMBER, da, 4096),
           nb = model_drain_dirty(b, ENTITY_MEMBER, db, 4096);
    assert_int_equal(na, nb);
    assert_memory_equal(da, db, na * sizeof(int64_t));
    free(d1);
    free(d2);
    ckpt_meta_free(&got);
    ckpt_meta_free(&meta);
    model_free(a);
    model_free(b);
}

static void test_damage_detected(void **state)
{
    model_config c = test_config();
    char err[1024];
    size_t n;
    uint8_t *good = slurp(path_in(CKPT_NAME), &n);
    const char *bad = path_in("damaged");
    int tried = 0;
    /* truncation: every length in the first 200 bytes, then ~400 spread out, and the last 200 */
    for (size_t len = 0; len < n; len += (len < 200 || len > n - 200) ? 1 : n / 400 + 1) {
        spit(bad, good, len);
        mts_model *m = NULL;
        ckpt_meta meta;
        ckpt_status s = load(bad, &c, &m, &meta, err, sizeof(err));
        if (s != CKPT_CORRUPT)
            printf("truncated at %zu: status %d (%s)\n", len, s, err);
        assert_int_equal(s, CKPT_CORRUPT);
        assert_null(m);
        tried++;
    }
    /* trailing garbage */
    uint8_t *d = xmalloc(n + 1);
    memcpy(d, good, n);
    d[n] = 0;
    spit(bad, d, n + 1);
    mts_model *m = NULL;
    ckpt_meta meta;
    assert_int_equal(load(bad, &c, &m, &meta, err, sizeof(err)), CKPT_CORRUPT);
    /* single bit flips */
    mts_rng r;
    rng_seed(&r, 5);
    int flips = 0;
    for (size_t pos = 0; pos < n;
         pos += (pos < 100 || pos > n - 100) ? 1 : 1 + rng_below(&r, n / 300 + 1)) {
        memcpy(d, good, n);
        d[pos] ^= (uint8_t)(1u << rng_below(&r, 8));
        spit(bad, d, n);
        ckpt_status s = load(bad, &c, &m, &meta, err, sizeof(err));
        if (s != CKPT_CORRUPT)
            printf("bit flip at %zu: status %d (%s)\n", pos, s, err);
        assert_int_equal(s, CKPT_CORRUPT);
        assert_null(m);
        flips++;
    }
    printf("figure: %d truncations and %d bit flips of a %zu-byte checkpoint, all detected; e.g. "
           "\"%s\"\n",
           tried, flips, n, err);
    free(d);
    free(good);
}

static void test_mismatch_refused(void **state)
{
    char err[1024];
    mts_model *m = NULL;
    ckpt_meta meta;
    model_config c = test_config();
    c.dim = 8;
    assert_int_equal(load(path_in(CKPT_NAME), &c, &m, &meta, err, sizeof(err)), CKPT_MISMATCH);
    assert_null(m);
    printf("  %s\n", err);
    assert_non_null(strstr(err, "\"dim=16\""));
    assert_non_null(strstr(err, "\"dim=8\""));
    c = test_config();
    strcpy(c.tasks[1].label_field, "accepted");
    assert_int_equal(load(path_in(CKPT_NAME), &c, &m, &meta, err, sizeof(err)), CKPT_MISMATCH);
    assert_non_null(strstr(err, "task1="));
    /* learning rates may change across a restart */
    c = test_config();
    c.lr_dense *= 2;
    assert_int_equal(load(path_in(CKPT_NAME), &c, &m, &meta, err, sizeof(err)), CKPT_OK);
    model_free(m);
    ckpt_meta_free(&meta);
    /* another schema */
    ckpt_meta expect;
    fill_meta(&expect);
    expect.schema_fp[1] ^= 1;
    c = test_config();
    assert_int_equal(
        checkpoint_load_file(path_in(CKPT_NAME), &c, layout, &expect, &m, &meta, err, sizeof(err)),
        CKPT_MISMATCH);
    printf("  %s\n", err);
    assert_non_null(strstr(err, "schema of task apply"));
    ckpt_meta_free(&expect);
}

/* Storage faults: a full disk (/dev/full behind the temporary name), an
 * unwritable temporary name (a directory) and a missing directory all fail
 * with a message and leave the checkpoint as it was; a corrupt latest falls
 * back to the previous one. */
static void test_storage_faults(void **state)
{
    model_config c = test_config();
    char err[1024];
    mts_model *a = model_new(&c, layout, err, sizeof(err));
    mts_rng r;
    rng_seed(&r, 1234);
    train(a, &r, 10);
    ckpt_meta meta;
    fill_meta(&meta);
    assert_int_equal(checkpoint_save(dir, a, &meta, err, sizeof(err)), 0); /* first */
    size_t n1;
    uint8_t *first = slurp(path_in(CKPT_NAME), &n1);
    train(a, &r, 10);
    meta.sequence = 8;
    assert_int_equal(checkpoint_save(dir, a, &meta, err, sizeof(err)),
                     0); /* second; first -> prev */
    size_t n2, np;
    uint8_t *second = slurp(path_in(CKPT_NAME), &n2), *prev = slurp(path_in(CKPT_PREV_NAME), &np);
    assert_int_equal(np, n1);
    assert_memory_equal(prev, first, n1);

    train(a, &r, 10);
    assert_int_equal(symlink("/dev/full", path_in(CKPT_TMP_NAME)), 0);
    assert_int_equal(checkpoint_save(dir, a, &meta, err, sizeof(err)), -1);
    printf("  full disk: %s\n", err);
    assert_non_null(strstr(err, strerror(ENOSPC)));
    unlink(path_in(CKPT_TMP_NAME));
    assert_int_equal(mkdir(path_in(CKPT_TMP_NAME), 0700), 0);
    assert_int_equal(checkpoint_save(dir, a, &meta, err, sizeof(err)), -1);
    printf("  unwritable: %s\n", err);
    rmdir(path_in(CKPT_TMP_NAME));
    assert_int_equal(checkpoint_save("/nonexistent/dir", a, &meta, err, sizeof(err)), -1);
    assert_int_equal(checkpoint_write_file("/dev/full", a, &meta, err, sizeof(err)), -1);
    size_t n3;
    uint8_t *after = slurp(path_in(CKPT_NAME), &n3);
    assert_int_equal(n3, n2);
    assert_memory_equal(after, second, n2);

    /* A corrupt latest: the previous one is used, and the message says why. */
    uint8_t *d = xmalloc(n2);
    memcpy(d, second, n2);
    d[n2 / 2] ^= 0x10;
    spit(path_in(CKPT_NAME), d, n2);
    mts_model *m = NULL;
    ckpt_meta got, expect;
    fill_meta(&expect);
    char used[512];
    assert_int_equal(checkpoint_load_latest(dir, &c, layout, &expect, &m, &got, used, sizeof(used),
                                            err, sizeof(err)),
                     CKPT_OK);
    printf("  corrupt latest: %s\n", err);
    assert_string_equal(used, path_in(CKPT_PREV_NAME));
    assert_non_null(strstr(err, "checksum mismatch"));
    assert_int_equal(got.sequence, 7);
    model_free(m);
    ckpt_meta_free(&got);
    /* both corrupt: refused */
    spit(path_in(CKPT_PREV_NAME), d, n2 / 3);
    assert_int_equal(checkpoint_load_latest(dir, &c, layout, &expect, &m, &got, used, sizeof(used),
                                            err, sizeof(err)),
                     CKPT_CORRUPT);
    assert_null(m);
    printf("  both corrupt: %s\n", err);
    /* none at all */
    unlink(path_in(CKPT_NAME));
    unlink(path_in(CKPT_PREV_NAME));
    assert_int_equal(checkpoint_load_latest(dir, &c, layout, &expect, &m, &got, used, sizeof(used),
                                            err, sizeof(err)),
                     CKPT_NONE);
    /* meta only, for `checkpoint show` */
    uint64_t ent[2];
    spit(path_in("x"), second, n2);
    assert_int_equal(checkpoint_read_meta(path_in("x"), &got, ent, err, sizeof(err)), CKPT_OK);
    assert_int_equal(ent[0], model_entity_count(a, ENTITY_MEMBER));
    assert_int_equal(got.n_parts, 4);
    ckpt_meta_free(&got);
    ckpt_meta_free(&expect);
    ckpt_meta_free(&meta);
    free(d);
    free(first);
    free(second);
    free(prev);
    free(after);
    model_free(a);
}

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/mts-ckpt-test.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    layout = test_layout_standard();
    return 0;
}

static int teardown(void **state)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return -1;
    test_layout_free(layout);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damage_detected),
        cmocka_unit_test(test_mismatch_refused),
        cmocka_unit_test(test_storage_faults),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
