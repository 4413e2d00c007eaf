/* avro_tool.c - the project's Avro codec as a filter, for interoperability
 * tests against an independent implementation (tests/tools/interop.py with
 * fastavro) and for building the fuzz seed corpus.
 *
 *   avro_tool encode SCHEMA   JSON records (one a line)  -> hex Avro binary (one a line)
 *   avro_tool decode SCHEMA   hex Avro binary (one a line) -> JSON (generic codec, av_decode_json)
 *   avro_tool plan SCHEMA     hex Avro binary (one a line) -> JSON object of the unified row
 *                             (plan_decode, writer = reader = SCHEMA; keys are layout
 *                             field names, enums as symbols, booleans as 0/1)
 *   avro_tool fingerprint SCHEMA   the CRC-64-AVRO fingerprint, 16 hex digits
 *
 * An input line that cannot be handled prints "ERROR <reason>: <text>" in its
 * place, so line numbers stay aligned; the exit code is 1 if any line failed. */
#include "common/avro.h"
#include "consumer/plan.h"
#include "consumer/unify.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Hex text (whitespace ends it) into b. 0, or -1 on a bad digit. */
static int unhex(const char *s, mts_buf *b)
{
    buf_reset(b);
    for (; *s && *s != '\n' && *s != '\r'; s += 2) {
        int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
        if (hi < 0 || lo < 0)
            return -1;
        buf_putc(b, (uint8_t)(hi << 4 | lo));
    }
    return 0;
}

static void print_hex(const mts_buf *b)
{
    for (size_t i = 0; i < b->len; i++)
        printf("%02x", b->data[i]);
    putchar('\n');
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
                                JSON_REAL_PRECISION(17));
    puts(s);
    free(s);
}

static json_t *slot_json(const mts_value *v, field_kind k)
{
    if (v->is_null)
        return json_null();
    json_t *a;
    switch (k) {
    case FK_LONG:
        return json_integer(v->u.l);
    case FK_DOUBLE:
        return json_real(v->u.d);
    case FK_STRING:
        return json_stringn(v->u.s, v->n);
    case FK_LONG_ARRAY:
        a = json_array();
        for (uint32_t i = 0; i < v->n; i++)
            json_array_append_new(a, json_integer(v->u.la[i]));
        return a;
    case FK_DOUBLE_ARRAY:
        a = json_array();
        for (uint32_t i = 0; i < v->n; i++)
            json_array_append_new(a, json_real(v->u.da[i]));
        return a;
    case FK_STRING_ARRAY:
        a = json_array();
        for (uint32_t i = 0; i < v->n; i++)
            json_array_append_new(a, json_stringn(v->u.sa[i].p, v->u.sa[i].len));
        return a;
    }
    return json_null();
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: avro_tool encode|decode|plan|fingerprint SCHEMA.avsc\n");
        return 2;
    }
    const char *mode = argv[1];
    char err[512];
    av_schema *s = av_schema_parse_file(argv[2], err, sizeof(err));
    if (!s) {
        fprintf(stderr, "avro_tool: %s: %s\n", argv[2], err);
        return 2;
    }
    if (!strcmp(mode, "fingerprint")) {
        printf("%016" PRIx64 "\n", av_fingerprint(s));
        av_schema_free(s);
        return 0;
    }
    mts_layout *layout = NULL;
    mts_plan *plan = NULL;
    if (!strcmp(mode, "plan")) {
        const char *name = "t";
        layout = layout_unify(&s, &name, 1, err, sizeof(err));
        plan = layout ? plan_compile(s, s, layout, 0, err, sizeof(err)) : NULL;
        if (!plan) {
            fprintf(stderr, "avro_tool: %s: %s\n", argv[2], err);
            return 2;
        }
    } else if (strcmp(mode, "encode") && strcmp(mode, "decode")) {
        fprintf(stderr, "avro_tool: unknown mode %s\n", mode);
        return 2;
    }
    mts_value *slots = layout ? xcalloc((size_t)layout->n_fields, sizeof(mts_value)) : NULL;
    mts_arena arena;
    arena_init(&arena, 1 << 16);
    mts_buf b;
    buf_init(&b);
    char *line = NULL;
    size_t cap = 0;
    int failed = 0;
    while (getline(&line, &cap, stdin) > 0) {
        if (!strcmp(mode, "encode")) {
            json_error_t je;
            json_t *j = json_loads(line, JSON_DECODE_ANY, &je);
            buf_reset(&b);
            if (!j || av_encode_json(s, j, &b, err, sizeof(err)) < 0) {
                printf("ERROR encode: %s\n", j ? err : je.text);
                failed = 1;
            } else {
                print_hex(&b);
            }
            json_decref(j);
            continue;
        }
        if (unhex(line, &b)) {
            printf("ERROR hex: bad digit\n");
            failed = 1;
            continue;
        }
        if (!strcmp(mode, "decode")) {
            size_t used = 0;
            json_t *j = av_decode_json(s, b.data, b.len, &used, err, sizeof(err));
            if (j && used != b.len) {
                snprintf(err, sizeof(err), "%zu trailing bytes", b.len - used);
                json_decref(j);
                j = NULL;
            }
            if (!j) {
                printf("ERROR decode: %s\n", err);
                failed = 1;
                continue;
            }
            print_json(j);
            json_decref(j);
            continue;
        }
        mts_row row = {.v = slots};
        arena_reset(&arena);
        decode_reason r = plan_decode(plan, b.data, b.len, &row, &arena, err, sizeof(err));
        if (r != DR_OK) {
            printf("ERROR %s: %s\n", decode_reason_name(r), err);
            failed = 1;
            continue;
        }
        json_t *o = json_object();
        for (int f = 0; f < layout->n_fields; f++)
            json_object_set_new(o, layout->fields[f].name,
                                slot_json(&slots[f], layout->fields[f].kind));
        print_json(o);
        json_decref(o);
    }
    free(line);
    free(slots);
    buf_free(&b);
    arena_free(&arena);
    plan_free(plan);
    if (layout)
        layout_free(layout);
    av_schema_free(s);
    return failed;
}
