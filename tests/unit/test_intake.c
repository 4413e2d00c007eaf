/* test_intake.c - schema evolution through the intake's decode path
 * (intake_decode: framing, writer lookup by Confluent id or fingerprint,
 * compiled plan, validation), no broker involved.
 *
 * The task reads with a new version of a JobView schema; input.schemas lists
 * the old version (id 7) and the new one (id 8). Old -> new: a field renamed
 * with an alias (seniority -> member_seniority), int promoted to long
 * (position), fields added with defaults (member_region, a null-default
 * union search_intent, an enum with a default). Each case is decoded in both
 * id-carrying framings; unknown ids / fingerprints are rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/avro.h"
#include "common/config.h"
#include "consumer/framing.h"
#include "consumer/intake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const old_schema =
    "{\"type\":\"record\",\"name\":\"JobView\",\"namespace\":\"com.mtlstream.events\",\"fields\":["
    "{\"name\":\"member_id\",\"type\":\"long\"},{\"name\":\"company_id\",\"type\":\"long\"},"
    "{\"name\":\"timestamp\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
    "{\"name\":\"viewed\",\"type\":\"boolean\"},{\"name\":\"seniority\",\"type\":\"int\"},"
    "{\"name\":\"position\",\"type\":\"int\"},{\"name\":\"dropped_later\",\"type\":\"string\"}]}";

static const char *const new_schema =
    "{\"type\":\"record\",\"name\":\"JobView\",\"namespace\":\"com.mtlstream.events\",\"fields\":["
    "{\"name\":\"member_id\",\"type\":\"long\"},{\"name\":\"company_id\",\"type\":\"long\"},"
    "{\"name\":\"timestamp\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
    "{\"name\":\"viewed\",\"type\":\"boolean\"},"
    "{\"name\":\"member_seniority\",\"type\":\"int\",\"aliases\":[\"seniority\"],\"default\":0},"
    "{\"name\":\"position\",\"type\":\"long\",\"default\":0},"
    "{\"name\":\"member_region\",\"type\":\"string\",\"default\":\"unknown\"},"
    "{\"name\":\"search_intent\",\"type\":[\"null\",\"float\"],\"default\":null},"
    "{\"name\":\"device\",\"type\":{\"type\":\"enum\",\"name\":\"Device\",\"symbols\":[\"DESKTOP\","
    "\"MOBILE\"]},"
    "\"default\":\"MOBILE\"}]}";

typedef struct {
    char dir[64];
    mts_config cfg;
    intake *in;
    av_schema *old_s, *new_s;
} fixture;

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void setup_intake(fixture *fx, const char *framing)
{
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/mts-test-intake.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    write_file(fx->dir, "old.avsc", old_schema);
    write_file(fx->dir, "new.avsc", new_schema);
    char conf[2048];
    snprintf(
        conf, sizeof(conf),
        "kafka: { bootstrap_servers = \"127.0.0.1:1\"; };\n"
        "input: { group_id = \"t\"; framing = \"%s\"; dead_letter_topic = \"dlq\";\n"
        "  schemas = ( { id = 7; file = \"old.avsc\"; }, { id = 8; file = \"new.avsc\"; } ); };\n"
        "tasks = ( { name = \"job_view\"; kind = \"affinity\"; topic = \"views\"; schema = "
        "\"new.avsc\";\n"
        "  label = \"viewed\"; } );\n"
        "output: { schema = \"/dev/null\"; };\n", /* must exist; the intake does not read it */
        framing);
    write_file(fx->dir, "t.conf", conf);
    char path[256], err[1024];
    snprintf(path, sizeof(path), "%s/t.conf", fx->dir);
    if (config_load(path, &fx->cfg, err, sizeof(err)))
        fail_msg("config: %s", err);
    fx->in = intake_new(&fx->cfg, NULL, err, sizeof(err));
    if (!fx->in)
        fail_msg("intake_new: %s", err);
    assert_non_null(fx->old_s = av_schema_parse(old_schema, err, sizeof(err)));
    assert_non_null(fx->new_s = av_schema_parse(new_schema, err, sizeof(err)));
}

static void teardown_intake(fixture *fx)
{
    intake_free(fx->in);
    config_free(&fx->cfg);
    av_schema_free(fx->old_s);
    av_schema_free(fx->new_s);
    const char *names[] = {"old.avsc", "new.avsc", "t.conf"};
    char path[256];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", fx->dir, names[i]);
        unlink(path);
    }
    rmdir(fx->dir);
}

/* Frame JSON record j, written with schema s (Confluent id `id`), and decode it. */
static decode_reason decode_json(fixture *fx, framing_kind fk, const av_schema *s, int id,
                                 const char *j, mts_row *row, mts_arena *arena, char *err)
{
    mts_buf b;
    buf_init(&b);
    framing_write_header(fk, fk == FRAMING_CONFLUENT ? (uint64_t)id : av_fingerprint(s), &b);
    json_error_t je;
    json_t *v = json_loads(j, 0, &je);
    assert_non_null(v);
    char e[256];
    if (av_encode_json(s, v, &b, e, sizeof(e)) < 0)
        fail_msg("encode %s: %s", j, e);
    json_decref(v);
    decode_reason r = intake_decode(fx->in, 0, b.data, b.len, row, arena, err, 256);
    buf_free(&b);
    return r;
}

static const mts_value *slot(fixture *fx, const mts_row *row, const char *name)
{
    int i = layout_find(intake_layout(fx->in), name);
    if (i < 0)
        fail_msg("no slot %s", name);
    return &row->v[i];
}

static void evolution_in(const char *framing, framing_kind fk)
{
    fixture fx = {0};
    setup_intake(&fx, framing);
    const mts_layout *l = intake_layout(fx.in);
    mts_value *vals = calloc((size_t)l->n_fields, sizeof(mts_value));
    mts_row row = {.v = vals};
    mts_arena arena;
    arena_init(&arena, 4096);
    char err[256] = "";

    /* old writer (id 7): alias, promotion, defaults for added fields, writer-only field skipped */
    decode_reason r =
        decode_json(&fx, fk, fx.old_s, 7,
                    "{\"member_id\":-42,\"company_id\":9000000000,\"timestamp\":1700000000123,"
                    "\"viewed\":true,\"seniority\":4,\"position\":2147483647,"
                    "\"dropped_later\":\"gone\"}",
                    &row, &arena, err);
    if (r != DR_OK)
        fail_msg("%s: old writer: %s: %s", framing, decode_reason_name(r), err);
    assert_int_equal(slot(&fx, &row, "member_id")->u.l, -42);
    assert_int_equal(slot(&fx, &row, "company_id")->u.l, 9000000000LL);
    assert_int_equal(slot(&fx, &row, "timestamp")->u.l, 1700000000123LL);
    assert_int_equal(slot(&fx, &row, "viewed")->u.l, 1);
    const mts_value *sen = slot(&fx, &row, "member_seniority");
    assert_int_equal(sen->present, 1); /* from the writer's "seniority", by alias */
    assert_int_equal(sen->u.l, 4);
    assert_int_equal(slot(&fx, &row, "position")->u.l, 2147483647LL);
    const mts_value *reg = slot(&fx, &row, "member_region");
    assert_int_equal(reg->present, 0);
    assert_int_equal(reg->n, 7);
    assert_memory_equal(reg->u.s, "unknown", 7);
    const mts_value *si = slot(&fx, &row, "search_intent");
    assert_int_equal(si->present, 0);
    assert_int_equal(si->is_null, 1);
    const mts_value *dev = slot(&fx, &row, "device");
    assert_int_equal(dev->present, 0);
    assert_int_equal(dev->n, 6);
    assert_memory_equal(dev->u.s, "MOBILE", 6);
    assert_int_equal(layout_find(l, "dropped_later"), -1);

    /* new writer (id 8): every field present */
    r = decode_json(
        &fx, fk, fx.new_s, 8,
        "{\"member_id\":5,\"company_id\":6,\"timestamp\":7,\"viewed\":false,\"member_seniority\":2,"
        "\"position\":-9000000000,\"member_region\":\"Zürich\",\"search_intent\":0.25,"
        "\"device\":\"DESKTOP\"}",
        &row, &arena, err);
    if (r != DR_OK)
        fail_msg("%s: new writer: %s: %s", framing, decode_reason_name(r), err);
    assert_int_equal(slot(&fx, &row, "position")->u.l, -9000000000LL);
    assert_int_equal(slot(&fx, &row, "member_region")->n, strlen("Zürich"));
    assert_true(slot(&fx, &row, "search_intent")->u.d == 0.25);
    assert_memory_equal(slot(&fx, &row, "device")->u.s, "DESKTOP", 7);

    /* the old body under the new schema's id (or fingerprint): never guessed */
    if (fk == FRAMING_CONFLUENT) {
        r = decode_json(&fx, fk, fx.old_s, 9,
                        "{\"member_id\":1,\"company_id\":2,\"timestamp\":3,\"viewed\":true,"
                        "\"seniority\":1,\"position\":1,\"dropped_later\":\"\"}",
                        &row, &arena, err);
        assert_int_equal(r, DR_UNKNOWN_SCHEMA);
    }
    /* a fingerprint with its bytes reversed / an old body framed as the new schema */
    mts_buf b;
    buf_init(&b);
    uint64_t fp = av_fingerprint(fx.old_s), rev = 0;
    for (int i = 0; i < 8; i++)
        rev |= ((fp >> (8 * i)) & 0xff) << (8 * (7 - i));
    framing_write_header(fk, fk == FRAMING_CONFLUENT ? 70000 : rev, &b);
    av_write_long(&b, 1);
    r = intake_decode(fx.in, 0, b.data, b.len, &row, &arena, err, sizeof(err));
    assert_int_equal(r, DR_UNKNOWN_SCHEMA);
    buf_free(&b);

    arena_free(&arena);
    free(vals);
    teardown_intake(&fx);
}

static void test_evolution_confluent(void **state)
{
    (void)state;
    evolution_in("confluent", FRAMING_CONFLUENT);
}

static void test_evolution_single_object(void **state)
{
    (void)state;
    evolution_in("single-object", FRAMING_SINGLE_OBJECT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_evolution_confluent),
                                       cmocka_unit_test(test_evolution_single_object)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
