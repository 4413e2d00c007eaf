/* fuzz_decode.c - libFuzzer target for the intake's decoding path.
 *
 * Input: byte 0 selects the task (b % 4: job_view, job_apply, inmail,
 * skill) and the framing ((b / 4) % 3: confluent, single-object, plain); the
 * rest is the Kafka message. As the intake does, the framing is parsed, the
 * writer schema looked up by Confluent id (the ids of conf/mtlstream.conf,
 * plus the embedding schema as 100) or fingerprint, and the message decoded
 * with the compiled plan (writer -> task reader -> the 4-task unified layout).
 * The body also goes through the generic codec (av_decode_json, av_skip) of
 * the writer schema. Properties checked beyond "no crash, no sanitizer
 * report": a record plan_decode accepts is accepted whole by av_decode_json
 * and av_skip; a datum av_decode_json reads re-encodes (av_encode_json) and
 * decodes back to an equal JSON value.
 *
 *   make fuzz [FUZZ_SECONDS=40]     build-fuzz/fuzz_decode on tests/fuzz/corpus
 * Schemas are read from schemas/ (run from the repository root) or from
 * $MTS_SCHEMA_DIR. */
#include "common/avro.h"
#include "consumer/framing.h"
#include "consumer/plan.h"
#include "consumer/unify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_TASKS 4
#define N_WRITERS 5

static const char *const files[N_WRITERS] = {"job_view.avsc", "job_apply.avsc", "inmail_response.avsc",
                                             "skill_annotation.avsc", "embedding.avsc"};
static const int ids[N_WRITERS] = {1, 2, 3, 4, 100};

static av_schema *schemas[N_WRITERS];
static uint64_t fingerprints[N_WRITERS];
static mts_layout *layout;
static mts_plan *plans[N_TASKS][N_WRITERS]; /* NULL: the writer does not resolve into the task */
static mts_value *slots;                   /* (layout->n_fields) */
static mts_arena arena;

static void die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_decode: %s: %s\n", what, err);
    abort();
}

static void setup(void)
{
    const char *dir = getenv("MTS_SCHEMA_DIR");
    char path[1024], err[512];
    for (int w = 0; w < N_WRITERS; w++) {
        snprintf(path, sizeof(path), "%s/%s", dir ? dir : "schemas", files[w]);
        if (!(schemas[w] = av_schema_parse_file(path, err, sizeof(err))))
            die(path, err);
        fingerprints[w] = av_fingerprint(schemas[w]);
    }
    static const char *const names[N_TASKS] = {"job_view", "job_apply", "inmail", "skill"};
    if (!(layout = layout_unify(schemas, names, N_TASKS, err, sizeof(err))))
        die("unify", err);
    for (int t = 0; t < N_TASKS; t++)
        for (int w = 0; w < N_WRITERS; w++)
            plans[t][w] = plan_compile(schemas[w], schemas[t], layout, t, err, sizeof(err));
    for (int t = 0; t < N_TASKS; t++)
        if (!plans[t][t])
            die("plan of a task's own schema", "did not compile");
    slots = xcalloc((size_t)layout->n_fields, sizeof(mts_value));
    arena_init(&arena, 1 << 16);
}

/* The generic codec on one body: read, skip, and re-encode round trip. */
static void generic(const av_schema *s, const uint8_t *body, size_t len, int plan_ok)
{
    char err[256];
    size_t used = 0, pos = 0;
    json_t *j = av_decode_json(s, body, len, &used, err, sizeof(err));
    int skip_ok = av_skip(s, body, len, &pos) == 0;
    /* plan_decode copies string bytes as they are; the JSON codec needs UTF-8 ... */
    /* ... and plan_decode skips a writer-only array by its byte size, which
     * the JSON codec checks against the items */
    if (plan_ok && !j && (strstr(err, "UTF-8") || strstr(err, "block byte size")))
        plan_ok = 0;
    if (plan_ok && (!j || used != len || !skip_ok || pos != len)) {
        fprintf(stderr, "plan_decode accepted %zu bytes; av_decode_json %s (used %zu), av_skip %s (pos %zu)\n",
                len, j ? "ok" : err, used, skip_ok ? "ok" : "failed", pos);
        abort();
    }
    if (!j)
        return;
    if (used > len || (skip_ok && pos != used)) {
        fprintf(stderr, "av_decode_json used %zu of %zu, av_skip %zu\n", used, len, pos);
        abort();
    }
    mts_buf b;
    buf_init(&b);
    if (av_encode_json(s, j, &b, err, sizeof(err)) < 0) {
        fprintf(stderr, "a decoded value does not re-encode: %s\n", err);
        abort();
    }
    size_t used2 = 0;
    json_t *j2 = av_decode_json(s, b.data, b.len, &used2, err, sizeof(err));
    if (!j2 || used2 != b.len || !json_equal(j, j2)) {
        fprintf(stderr, "re-encoded value decodes differently: %s\n", j2 ? "values differ" : err);
        abort();
    }
    json_decref(j2);
    json_decref(j);
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!layout)
        setup();
    if (size < 1)
        return 0;
    int task = data[0] % N_TASKS;
    framing_kind fk = (framing_kind)((data[0] / N_TASKS) % 3);
    const uint8_t *msg = data + 1;
    size_t len = size - 1;
    uint64_t key;
    const uint8_t *body;
    size_t body_len;
    char err[256];
    if (framing_parse(fk, msg, len, &key, &body, &body_len, err, sizeof(err)))
        return 0;
    int w = -1;
    if (fk == FRAMING_PLAIN)
        w = task;
    for (int i = 0; i < N_WRITERS && w < 0; i++)
        if (fk == FRAMING_CONFLUENT ? key == (uint64_t)ids[i] : key == fingerprints[i])
            w = i;
    if (w < 0)
        return 0; /* unknown schema: the intake dead-letters it */
    int plan_ok = 0;
    if (plans[task][w]) {
        mts_row row = {.v = slots};
        arena_reset(&arena);
        decode_reason r = plan_decode(plans[task][w], body, body_len, &row, &arena, err, sizeof(err));
        if (r < DR_OK || r >= DR__COUNT)
            abort();
        plan_ok = r == DR_OK;
        if (plan_ok && row.task != task)
            abort();
    }
    generic(schemas[w], body, body_len, plan_ok);
    return 0;
}
