/* test_plan.c - compiled decode plans: one table row per schema-resolution
 * rule (writer schema, writer bytes, reader schema -> expected slot values or
 * expected reason), plus hostile input: huge lengths, negative block counts,
 * bad union indexes, NaN, trailing bytes, truncation at every byte. Also the
 * framings. Expected values are written "field=value;..." where value is an
 * integer, a real, "text", null or [a,b,...]; a leading ~ means the value
 * must come from a default (present=0). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "consumer/framing.h"
#include "consumer/plan.h"
#include "consumer/unify.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hex_to_buf(const char *hex, mts_buf *b)
{
    buf_reset(b);
    for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
        unsigned v;
        sscanf(hex + i, "%2x", &v);
        buf_putc(b, (uint8_t)v);
    }
}

static av_schema *parse(const char *txt)
{
    char err[512];
    av_schema *s = av_schema_parse(txt, err, sizeof(err));
    if (!s)
        fail_msg("schema: %s\n%s", err, txt);
    return s;
}

/* Writer data: "hex:..." raw bytes, else JSON encoded with the writer. */
static void writer_bytes(const av_schema *w, const char *data, mts_buf *out)
{
    buf_reset(out);
    if (!strncmp(data, "hex:", 4)) {
        hex_to_buf(data + 4, out);
        return;
    }
    char err[512];
    json_error_t je;
    json_t *j = json_loads(data, JSON_DECODE_ANY, &je);
    if (!j)
        fail_msg("bad test JSON %s", data);
    if (av_encode_json(w, j, out, err, sizeof(err)) < 0)
        fail_msg("encode %s: %s", data, err);
    json_decref(j);
}

/* Check one "name=value" expectation against the row. */
static void check_value(const mts_layout *l, const mts_row *row, const char *expect,
                        const char *case_name)
{
    char name[128], val[512];
    const char *eq = strchr(expect, '=');
    assert_non_null(eq);
    snprintf(name, sizeof(name), "%.*s", (int)(eq - expect), expect);
    snprintf(val, sizeof(val), "%s", eq + 1);
    int slot = layout_find(l, name);
    if (slot < 0)
        fail_msg("%s: no slot %s", case_name, name);
    const mts_value *v = &row->v[slot];
    field_kind k = l->fields[slot].kind;
    const char *p = val;
    int want_present = 1;
    if (*p == '~') {
        want_present = 0;
        p++;
    }
    if (v->present != want_present)
        fail_msg("%s: %s present=%d want %d", case_name, name, v->present, want_present);
    if (!strcmp(p, "null")) {
        if (!v->is_null)
            fail_msg("%s: %s is not null", case_name, name);
        return;
    }
    if (v->is_null)
        fail_msg("%s: %s is null, want %s", case_name, name, p);
    if (k == FK_LONG) {
        if (v->u.l != strtoll(p, NULL, 10))
            fail_msg("%s: %s = %lld want %s", case_name, name, (long long)v->u.l, p);
    } else if (k == FK_DOUBLE) {
        if (fabs(v->u.d - strtod(p, NULL)) > 1e-9)
            fail_msg("%s: %s = %.17g want %s", case_name, name, v->u.d, p);
    } else if (k == FK_STRING) {
        size_t n = strlen(p) - 2;
        if (v->n != n || memcmp(v->u.s, p + 1, n))
            fail_msg("%s: %s = \"%.*s\" want %s", case_name, name, (int)v->n, v->u.s, p);
    } else {
        /* [a,b,...] */
        char buf[512];
        snprintf(buf, sizeof(buf), "%.*s", (int)strlen(p) - 2, p + 1);
        uint32_t i = 0;
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","), i++) {
            if (i >= v->n)
                fail_msg("%s: %s has %u elements, want more", case_name, name, v->n);
            if (k == FK_LONG_ARRAY && v->u.la[i] != strtoll(tok, NULL, 10))
                fail_msg("%s: %s[%u] = %lld want %s", case_name, name, i, (long long)v->u.la[i],
                         tok);
            if (k == FK_DOUBLE_ARRAY && fabs(v->u.da[i] - strtod(tok, NULL)) > 1e-9)
                fail_msg("%s: %s[%u] = %g want %s", case_name, name, i, v->u.da[i], tok);
            if (k == FK_STRING_ARRAY && (v->u.sa[i].len != strlen(tok) - 2 ||
                                         memcmp(v->u.sa[i].p, tok + 1, strlen(tok) - 2)))
                fail_msg("%s: %s[%u] = \"%.*s\" want %s", case_name, name, i, (int)v->u.sa[i].len,
                         v->u.sa[i].p, tok);
        }
        if (i != v->n)
            fail_msg("%s: %s has %u elements, want %u", case_name, name, v->n, i);
    }
}

#define R(fields) "{\"type\":\"record\",\"name\":\"R\",\"fields\":[" fields "]}"
#define F(name, type) "{\"name\":\"" name "\",\"type\":" type "}"
#define FD(name, type, dflt) "{\"name\":\"" name "\",\"type\":" type ",\"default\":" dflt "}"

static const struct {
    const char *name, *writer, *data, *reader;
    decode_reason want;
    const char *expect; /* ';'-separated */
} cases[] = {
    {"identity", R(F("a", "\"long\"") "," F("s", "\"string\"") "," F("b", "\"boolean\"")),
     "{\"a\":-5,\"s\":\"hé\",\"b\":true}",
     R(F("a", "\"long\"") "," F("s", "\"string\"") "," F("b", "\"boolean\"")), DR_OK,
     "a=-5;s=\"hé\";b=1"},
    {"reader default for a field the writer lacks", R(F("a", "\"int\"")), "{\"a\":3}",
     R(F("a", "\"int\"") "," FD("b", "\"string\"", "\"x\"") "," FD(
         "c", "[\"null\",\"double\"]", "null") "," FD("d", "{\"type\":\"array\",\"items\":\"int\"}",
                                                      "[4,5]")),
     DR_OK, "a=3;b=~\"x\";c=~null;d=~[4,5]"},
    {"writer-only fields skipped",
     R(F("x", "{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":\"string\"}}") "," F(
         "a",
         "\"int\"") "," F("y",
                          "[\"null\",{\"type\":\"record\",\"name\":\"Y\",\"fields\":[" F(
                              "q", "\"double\"") "]}]") "," F("z",
                                                              "{\"type\":\"fixed\",\"name\":\"Z\","
                                                              "\"size\":3}") "," F("b",
                                                                                   "\"string\"")),
     "{\"x\":{\"k\":[\"v\",\"w\"]},\"a\":1,\"y\":{\"q\":2.5},\"z\":\"abc\",\"b\":\"end\"}",
     R(F("a", "\"int\"") "," F("b", "\"string\"")), DR_OK, "a=1;b=\"end\""},
    {"promotions",
     R(F("i2l", "\"int\"") "," F("i2f", "\"int\"") "," F("i2d", "\"int\"") "," F(
         "l2f", "\"long\"") "," F("l2d",
                                  "\"long\"") "," F("f2d",
                                                    "\"float\"") "," F("s2b",
                                                                       "\"string\"") "," F("b2s",
                                                                                           "\"bytes"
                                                                                           "\"")),
     "{\"i2l\":7,\"i2f\":8,\"i2d\":9,\"l2f\":16777217,\"l2d\":1099511627776,\"f2d\":0.1,"
     "\"s2b\":\"s\",\"b2s\":\"b\"}",
     R(F("i2l", "\"long\"") "," F("i2f", "\"float\"") "," F("i2d", "\"double\"") "," F(
         "l2f",
         "\"float\"") "," F("l2d",
                            "\"double\"") "," F("f2d",
                                                "\"double\"") "," F("s2b",
                                                                    "\"bytes\"") "," F("b2s",
                                                                                       "\"strin"
                                                                                       "g\"")),
     DR_OK,
     /* 16777217 is not a float: the reader's float rounds it */
     "i2l=7;i2f=8;i2d=9;l2f=16777216;l2d=1099511627776;f2d=0.10000000149011612;s2b=\"s\";b2s="
     "\"b\""},
    {"reader alias", R(F("old_name", "\"long\"")), "{\"old_name\":11}",
     R("{\"name\":\"new_name\",\"type\":\"long\",\"aliases\":[\"old_name\"]}"), DR_OK,
     "new_name=11"},
    {"enum by symbol name",
     R(F("e1", "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\",\"C\"]}") "," F(
         "e2", "\"E\"") "," F("e3", "\"E\"")),
     "{\"e1\":\"A\",\"e2\":\"B\",\"e3\":\"C\"}",
     R(F("e1", "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"C\",\"A\"],\"default\":"
               "\"A\"}") "," F("e2", "\"E\"") "," F("e3", "\"E\"")),
     DR_OK, "e1=\"A\";e2=\"A\";e3=\"C\""},
    {"enum symbol unknown to reader, no default",
     R(F("e", "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}")), "{\"e\":\"B\"}",
     R(F("e", "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}")), DR_BAD_ENUM, ""},
    {"enum index out of range",
     R(F("e", "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}")), "hex:04",
     R(F("e", "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}")), DR_BAD_ENUM, ""},
    {"writer union -> reader union, null", R(F("u", "[\"null\",\"int\"]")), "{\"u\":null}",
     R(F("u", "[\"null\",\"long\"]")), DR_OK, "u=null"},
    {"writer union -> reader union, value", R(F("u", "[\"null\",\"int\"]")), "{\"u\":5}",
     R(F("u", "[\"null\",\"long\"]")), DR_OK, "u=5"},
    {"writer scalar -> reader union", R(F("u", "\"float\"")), "{\"u\":0.5}",
     R(F("u", "[\"null\",\"double\"]")), DR_OK, "u=0.5"},
    {"writer union -> reader scalar, value", R(F("u", "[\"null\",\"string\"]")), "{\"u\":\"v\"}",
     R(F("u", "\"string\"")), DR_OK, "u=\"v\""},
    {"writer union -> reader scalar, null branch", R(F("u", "[\"null\",\"string\"]")),
     "{\"u\":null}", R(F("u", "\"string\"")), DR_BAD_UNION, ""},
    {"union index out of range", R(F("u", "[\"null\",\"int\"]")), "hex:04",
     R(F("u", "[\"null\",\"int\"]")), DR_BAD_UNION, ""},
    {"negative union index", R(F("u", "[\"null\",\"int\"]")), "hex:01",
     R(F("u", "[\"null\",\"int\"]")), DR_BAD_UNION, ""},
    {"nested record flattened",
     R(F("ctx", "{\"type\":\"record\",\"name\":\"Ctx\",\"fields\":[" F(
                    "device", "\"string\"") "," F("pos", "\"int\"") "]}") "," F("n", "\"long\"")),
     "{\"ctx\":{\"device\":\"app\",\"pos\":3},\"n\":9}",
     R(F("ctx", "{\"type\":\"record\",\"name\":\"Ctx\",\"fields\":[" F("pos", "\"long\"") "," F(
                    "device", "\"string\"") "," FD("lang", "\"string\"",
                                                   "\"en\"") "]}") "," F("n", "\"long\"")),
     DR_OK, "ctx.device=\"app\";ctx.pos=3;ctx.lang=~\"en\";n=9"},
    {"nullable nested record, null",
     R(F("ctx", "[\"null\",{\"type\":\"record\",\"name\":\"Ctx\",\"fields\":[" F(
                    "pos", "\"int\"") "]}]") "," F("n", "\"long\"")),
     "{\"ctx\":null,\"n\":1}",
     R(F("ctx", "[\"null\",{\"type\":\"record\",\"name\":\"Ctx\",\"fields\":[" F(
                    "pos", "\"int\"") "]}]") "," F("n", "\"long\"")),
     DR_OK, "ctx.pos=null;n=1"},
    {"nullable nested record, value",
     R(F("ctx", "[\"null\",{\"type\":\"record\",\"name\":\"Ctx\",\"fields\":[" F(
                    "pos", "\"int\"") "]}]") "," F("n", "\"long\"")),
     "{\"ctx\":{\"pos\":4},\"n\":1}",
     R(F("ctx", "[\"null\",{\"type\":\"record\",\"name\":\"Ctx\",\"fields\":[" F(
                    "pos", "\"int\"") "]}]") "," F("n", "\"long\"")),
     DR_OK, "ctx.pos=4;n=1"},
    {"empty string and array followed by more fields",
     R(F("s", "\"string\"") "," F("arr", "{\"type\":\"array\",\"items\":\"long\"}") "," F(
         "t", "\"string\"") "," F("n", "\"long\"")),
     "{\"s\":\"\",\"arr\":[],\"t\":\"z\",\"n\":7}",
     R(F("s", "\"string\"") "," F("arr", "{\"type\":\"array\",\"items\":\"long\"}") "," F(
         "t", "\"string\"") "," F("n", "\"long\"")),
     DR_OK, "s=\"\";arr=[];t=\"z\";n=7"},
    {"arrays of every element kind",
     R(F("a", "{\"type\":\"array\",\"items\":\"int\"}") "," F(
         "b", "{\"type\":\"array\",\"items\":\"float\"}") "," F("c", "{\"type\":\"array\","
                                                                     "\"items\":\"string\"}")),
     "{\"a\":[1,-2],\"b\":[0.5],\"c\":[\"x\",\"\",\"yz\"]}",
     R(F("a", "{\"type\":\"array\",\"items\":\"long\"}") "," F(
         "b", "{\"type\":\"array\",\"items\":\"double\"}") "," F("c", "{\"type\":\"array\","
                                                                      "\"items\":\"string\"}")),
     DR_OK, "a=[1,-2];b=[0.5];c=[\"x\",\"\",\"yz\"]"},
    /* block of -2 items with byte size 2: 1, 2; block of 1: 3; end; then n=5 */
    {"negative block counts",
     R(F("arr", "{\"type\":\"array\",\"items\":\"long\"}") "," F("n", "\"long\"")),
     "hex:030402040206000a",
     R(F("arr", "{\"type\":\"array\",\"items\":\"long\"}") "," F("n", "\"long\"")), DR_OK,
     "arr=[1,2,3];n=5"},
    {"negative block count, skipped by byte size",
     R(F("arr", "{\"type\":\"array\",\"items\":\"long\"}") "," F("n", "\"long\"")),
     "hex:0304020400"
     "0a",
     R(F("n", "\"long\"")), DR_OK, "n=5"},
    /* block of -2 items claiming 1 byte, but the items 1, 2 take 2: a reader skipping by size
       would differ */
    {"negative block byte size disagreeing with its items",
     R(F("arr", "{\"type\":\"array\",\"items\":\"long\"}") "," F("n", "\"long\"")),
     "hex:03020204000a",
     R(F("arr", "{\"type\":\"array\",\"items\":\"long\"}") "," F("n", "\"long\"")), DR_BAD_LENGTH,
     ""},
    {"negative block byte size beyond data", R(F("arr", "{\"type\":\"array\",\"items\":\"long\"}")),
     "hex:03640204", R(F("arr", "{\"type\":\"array\",\"items\":\"long\"}")), DR_BAD_LENGTH, ""},
    {"array count beyond data", R(F("arr", "{\"type\":\"array\",\"items\":\"long\"}")),
     "hex:feffffff0f0200", R(F("arr", "{\"type\":\"array\",\"items\":\"long\"}")), DR_BAD_LENGTH,
     ""},
    {"1 GiB string with nothing after it", R(F("s", "\"string\"")), "hex:8080808008",
     R(F("s", "\"string\"")), DR_BAD_LENGTH, ""},
    {"1 GiB string in a skipped field", R(F("s", "\"string\"")), "hex:8080808008",
     R(FD("t", "\"int\"", "0")), DR_BAD_LENGTH, ""},
    {"negative string length", R(F("s", "\"string\"")), "hex:01", R(F("s", "\"string\"")),
     DR_BAD_LENGTH, ""},
    {"NaN double", R(F("d", "\"double\"")), "hex:000000000000f87f", R(F("d", "\"double\"")),
     DR_NOT_FINITE, ""},
    {"inf float", R(F("d", "\"float\"")), "hex:0000807f", R(F("d", "\"double\"")), DR_NOT_FINITE,
     ""},
    {"NaN in a float array", R(F("d", "{\"type\":\"array\",\"items\":\"float\"}")),
     "hex:020000c07f00", R(F("d", "{\"type\":\"array\",\"items\":\"float\"}")), DR_NOT_FINITE, ""},
    {"trailing garbage", R(F("a", "\"int\"")), "hex:02ff", R(F("a", "\"int\"")), DR_TRAILING_BYTES,
     ""},
    {"boolean byte 2", R(F("b", "\"boolean\"")), "hex:02", R(F("b", "\"boolean\"")), DR_BAD_VALUE,
     ""},
    {"int out of range", R(F("i", "\"int\"")), "hex:8080808020", R(F("i", "\"long\"")),
     DR_BAD_VALUE, ""},
    {"varint of 11 bytes", R(F("i", "\"long\"")), "hex:ffffffffffffffffffff01",
     R(F("i", "\"long\"")), DR_BAD_VALUE, ""},
    {"empty input", R(F("i", "\"long\"")), "hex:", R(F("i", "\"long\"")), DR_TRUNCATED, ""},
    {"decimal bytes",
     R(F("d", "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":9,\"scale\":2}")),
     "hex:04cfc7", /* 0xcfc7 = -12345 */
     R(F("d", "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":9,\"scale\":2}")),
     DR_OK, "d=-123.45"},
    {"fixed as string", R(F("f", "{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}")), "hex:6869",
     R(F("f", "{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}")), DR_OK, "f=\"hi\""},
    {"writer map, reader map (not in the layout)",
     R(F("m", "{\"type\":\"map\",\"values\":\"int\"}") "," F("n", "\"int\"")),
     "{\"m\":{\"a\":1},\"n\":2}",
     R(F("m", "{\"type\":\"map\",\"values\":\"long\"}") "," F("n", "\"int\"")), DR_OK, "n=2"},
    {"recursive writer-only field skipped",
     R(F("list", "[\"null\",{\"type\":\"record\",\"name\":\"L\",\"fields\":[" F(
                     "v", "\"int\"") "," F("next", "[\"null\",\"L\"]") "]}]") "," F("n",
                                                                                    "\"int\"")),
     "{\"list\":{\"v\":1,\"next\":{\"v\":2,\"next\":null}},\"n\":3}", R(F("n", "\"int\"")), DR_OK,
     "n=3"},
};

static void run_case(size_t i, mts_buf *data, mts_arena *arena)
{
    char err[512] = "";
    av_schema *w = parse(cases[i].writer), *r = parse(cases[i].reader);
    const char *names[] = {"t"};
    mts_layout *l = layout_unify(&r, names, 1, err, sizeof(err));
    if (!l)
        fail_msg("%s: unify: %s", cases[i].name, err);
    mts_plan *p = plan_compile(w, r, l, 0, err, sizeof(err));
    if (!p)
        fail_msg("%s: compile: %s", cases[i].name, err);
    writer_bytes(w, cases[i].data, data);
    mts_value *v = calloc((size_t)l->n_fields + 1, sizeof(mts_value));
    mts_row row = {.v = v};
    decode_reason got = plan_decode(p, data->data, data->len, &row, arena, err, sizeof(err));
    if (got != cases[i].want)
        fail_msg("%s: got %s (%s), want %s", cases[i].name, decode_reason_name(got), err,
                 decode_reason_name(cases[i].want));
    if (got == DR_OK) {
        char ex[1024];
        snprintf(ex, sizeof(ex), "%s", cases[i].expect);
        char *save = NULL;
        for (char *tok = strtok_r(ex, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
            check_value(l, &row, tok, cases[i].name);
    } else if (!strstr(err, decode_reason_name(got))) {
        fail_msg("%s: message \"%s\" does not name the reason", cases[i].name, err);
    }
    /* a record cut at any byte never decodes (only "empty" ones can) */
    if (got == DR_OK)
        for (size_t cut = 0; cut < data->len; cut++) {
            decode_reason rc = plan_decode(p, data->data, cut, &row, arena, err, sizeof(err));
            if (rc == DR_OK)
                fail_msg("%s: decoded when cut at %zu of %zu bytes", cases[i].name, cut, data->len);
        }
    free(v);
    plan_free(p);
    layout_free(l);
    av_schema_free(w);
    av_schema_free(r);
}

static void test_resolution_table(void **state)
{
    (void)state;
    mts_buf data;
    buf_init(&data);
    mts_arena arena;
    arena_init(&arena, 4096);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        run_case(i, &data, &arena);
        arena_reset(&arena);
    }
    printf("  %zu resolution cases passed\n", ARRAY_LEN(cases));
    arena_free(&arena);
    buf_free(&data);
}

static const struct {
    const char *name, *writer, *reader, *want;
} compile_errors[] = {
    {"reader field without default missing from writer", R(F("a", "\"int\"")),
     R(F("a", "\"int\"") "," F("b", "\"string\"")),
     "reader field b has no default and writer R lacks it"},
    {"no demotion", R(F("a", "\"double\"")), R(F("a", "\"float\"")),
     "field a: writer type double cannot be read as reader type float"},
    {"string is not a long", R(F("a", "\"string\"")), R(F("a", "\"long\"")), "cannot be read"},
    {"record names differ", "{\"type\":\"record\",\"name\":\"Other\",\"fields\":[]}",
     R(F("a", "\"int\"")), "does not match reader record"},
    {"writer null into non-nullable", R(F("a", "\"null\"")), R(F("a", "\"int\"")), "not nullable"},
    {"writer type in no reader branch", R(F("a", "\"string\"")), R(F("a", "[\"null\",\"int\"]")),
     "writer type string cannot be read as reader type int"},
    {"writer type in no branch of a wider union", R(F("a", "\"string\"")),
     R(F("a", "[\"null\",\"int\",\"long\"]")), "matches no branch"},
    {"two writer fields match one reader field", R(F("a", "\"int\"") "," F("b", "\"int\"")),
     R("{\"name\":\"a\",\"type\":\"int\",\"aliases\":[\"b\"]}"), "both match reader field a"},
};

static void test_compile_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(compile_errors); i++) {
        char err[512] = "";
        av_schema *w = parse(compile_errors[i].writer), *r = parse(compile_errors[i].reader);
        const char *names[] = {"t"};
        mts_layout *l = layout_unify(&r, names, 1, err, sizeof(err));
        assert_non_null(l);
        mts_plan *p = plan_compile(w, r, l, 0, err, sizeof(err));
        if (p || !strstr(err, compile_errors[i].want))
            fail_msg("%s: got \"%s\", want \"%s\"", compile_errors[i].name, p ? "(compiled)" : err,
                     compile_errors[i].want);
        layout_free(l);
        av_schema_free(w);
        av_schema_free(r);
    }
}

/* Real schemas: a job-view record decoded into the 4-task layout gets
 * layout defaults (present=0) for the other tasks' slots. */
static void test_job_view_in_unified_layout(void **state)
{
    (void)state;
    static const char *files[] = {"schemas/job_view.avsc", "schemas/job_apply.avsc",
                                  "schemas/inmail_response.avsc", "schemas/skill_annotation.avsc"};
    static const char *names[] = {"job_view", "job_apply", "inmail", "skill"};
    av_schema *s[4];
    char err[512];
    for (int i = 0; i < 4; i++) {
        s[i] = av_schema_parse_file(files[i], err, sizeof(err));
        if (!s[i])
            fail_msg("%s", err);
    }
    mts_layout *l = layout_unify(s, names, 4, err, sizeof(err));
    if (!l)
        fail_msg("%s", err);
    mts_plan *p = plan_compile(s[0], s[0], l, 0, err, sizeof(err));
    if (!p)
        fail_msg("%s", err);
    mts_buf data;
    buf_init(&data);
    writer_bytes(
        s[0],
        "{\"member_id\": 12345, \"company_id\": -7, \"job_id\": 99, \"timestamp\": 1700000000000, "
        "\"viewed\": true, \"member_seniority\": 3, \"member_region\": \"emea\", "
        "\"search_intent\": "
        "0.25, \"position\": 2, \"device\": \"MOBILE\"}",
        &data);
    mts_value *v = calloc((size_t)l->n_fields, sizeof(mts_value));
    mts_row row = {.v = v};
    mts_arena arena;
    arena_init(&arena, 4096);
    assert_int_equal(plan_decode(p, data.data, data.len, &row, &arena, err, sizeof(err)), DR_OK);
    assert_int_equal(row.task, 0);
    const char *expect[] = {"member_id=12345",    "company_id=-7",      "timestamp=1700000000000",
                            "viewed=1",           "search_intent=0.25", "device=\"MOBILE\"",
                            "member_skills=~[]",  "language=~\"en\"",   "applied=~0",
                            "seconds_on_page=~0", "tokens=~[]",         "doc_id=~\"\""};
    for (size_t i = 0; i < ARRAY_LEN(expect); i++)
        check_value(l, &row, expect[i], "job_view");
    /* writer without search_intent/device (an older job-view schema) */
    av_schema *old =
        parse("{\"type\":\"record\",\"name\":\"JobView\",\"namespace\":\"old\",\"fields\":"
              "[" F("member_id", "\"int\"") "," F("company_id", "\"long\"") "," F(
                  "job_id", "\"long\"") "," F("timestamp", "\"long\"") "," F("viewed",
                                                                             "\"boolean\"") "]}");
    mts_plan *p2 = plan_compile(old, s[0], l, 0, err, sizeof(err));
    if (!p2)
        fail_msg("%s", err);
    writer_bytes(old,
                 "{\"member_id\":1,\"company_id\":2,\"job_id\":3,\"timestamp\":4,\"viewed\":false}",
                 &data);
    assert_int_equal(plan_decode(p2, data.data, data.len, &row, &arena, err, sizeof(err)), DR_OK);
    const char *expect2[] = {"member_id=1",         "viewed=0",
                             "search_intent=~null", "device=~\"DESKTOP\"",
                             "member_region=~\"\"", "position=~0"};
    for (size_t i = 0; i < ARRAY_LEN(expect2); i++)
        check_value(l, &row, expect2[i], "old job_view");
    /* a plan for task job_apply cannot fill job_view-only slots */
    mts_plan *bad = plan_compile(s[0], s[0], l, 1, err, sizeof(err));
    assert_null(bad);
    assert_non_null(strstr(err, "does not belong to task job_apply"));
    free(v);
    arena_free(&arena);
    buf_free(&data);
    plan_free(p);
    plan_free(p2);
    av_schema_free(old);
    layout_free(l);
    for (int i = 0; i < 4; i++)
        av_schema_free(s[i]);
}

/* Limits that need big inputs: a 2 MiB string, 65537 array elements. */
static void test_limits(void **state)
{
    (void)state;
    char err[512];
    av_schema *r =
        parse(R(F("s", "\"string\"") "," F("a", "{\"type\":\"array\",\"items\":\"long\"}")));
    const char *names[] = {"t"};
    mts_layout *l = layout_unify(&r, names, 1, err, sizeof(err));
    assert_non_null(l);
    mts_plan *p = plan_compile(r, r, l, 0, err, sizeof(err));
    assert_non_null(p);
    mts_value v[2];
    mts_row row = {.v = v};
    mts_arena arena;
    arena_init(&arena, 65536);
    mts_buf b;
    buf_init(&b);
    size_t big = 2u << 20;
    char *s = malloc(big);
    memset(s, 'x', big);
    av_write_bytes(&b, s, big);
    av_write_long(&b, 0);
    assert_int_equal(plan_decode(p, b.data, b.len, &row, &arena, err, sizeof(err)), DR_TOO_LONG);
    buf_reset(&b);
    av_write_bytes(&b, s, PLAN_MAX_STRING); /* exactly at the limit is fine */
    av_write_long(&b, 0);
    assert_int_equal(plan_decode(p, b.data, b.len, &row, &arena, err, sizeof(err)), DR_OK);
    assert_int_equal(v[0].n, PLAN_MAX_STRING);
    buf_reset(&b);
    av_write_bytes(&b, "", 0);
    av_write_long(&b, 40000); /* two blocks, 65537 in total */
    for (int i = 0; i < 40000; i++)
        av_write_long(&b, i);
    av_write_long(&b, 25537);
    for (int i = 0; i < 25537; i++)
        av_write_long(&b, i);
    av_write_long(&b, 0);
    assert_int_equal(plan_decode(p, b.data, b.len, &row, &arena, err, sizeof(err)), DR_TOO_LONG);
    /* 65536 across two blocks decodes, values in order */
    buf_reset(&b);
    av_write_bytes(&b, "", 0);
    av_write_long(&b, 40000);
    for (int i = 0; i < 40000; i++)
        av_write_long(&b, i);
    av_write_long(&b, 25536);
    for (int i = 40000; i < 65536; i++)
        av_write_long(&b, i);
    av_write_long(&b, 0);
    assert_int_equal(plan_decode(p, b.data, b.len, &row, &arena, err, sizeof(err)), DR_OK);
    assert_int_equal(v[1].n, 65536);
    for (int i = 0; i < 65536; i++)
        if (v[1].u.la[i] != i)
            fail_msg("element %d = %lld", i, (long long)v[1].u.la[i]);
    free(s);
    buf_free(&b);
    arena_free(&arena);
    plan_free(p);
    layout_free(l);
    av_schema_free(r);
}

static void test_reason_names(void **state)
{
    (void)state;
    assert_string_equal(decode_reason_name(DR_TRUNCATED), "truncated");
    assert_string_equal(decode_reason_name(DR_TRAILING_BYTES), "trailing_bytes");
    assert_string_equal(decode_reason_name(DR_BAD_VALUE), "bad_value");
    assert_string_equal(decode_reason_name(DR__COUNT), "unknown");
    for (int r = 0; r < DR__COUNT; r++)
        assert_string_not_equal(decode_reason_name((decode_reason)r), "unknown");
}

static void test_framing(void **state)
{
    (void)state;
    framing_kind k;
    assert_int_equal(framing_from_name("confluent", &k), 0);
    assert_int_equal(k, FRAMING_CONFLUENT);
    assert_int_equal(framing_from_name("single-object", &k), 0);
    assert_int_equal(k, FRAMING_SINGLE_OBJECT);
    assert_int_equal(framing_from_name("plain", &k), 0);
    assert_int_equal(k, FRAMING_PLAIN);
    assert_int_equal(framing_from_name("avro", &k), -1);
    mts_buf b;
    buf_init(&b);
    char err[256];
    uint64_t key;
    const uint8_t *body;
    size_t blen;
    /* confluent: 0x00 + big-endian id */
    framing_write_header(FRAMING_CONFLUENT, 0x01020304, &b);
    buf_append(&b, "\x02", 1);
    assert_memory_equal(b.data, "\x00\x01\x02\x03\x04\x02", 6);
    assert_int_equal(
        framing_parse(FRAMING_CONFLUENT, b.data, b.len, &key, &body, &blen, err, sizeof(err)), 0);
    assert_true(key == 0x01020304);
    assert_int_equal(blen, 1);
    assert_int_equal(body[0], 2);
    /* ... rejected as single-object */
    assert_int_equal(
        framing_parse(FRAMING_SINGLE_OBJECT, b.data, b.len, &key, &body, &blen, err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "not single-object framed"));
    /* single object: C3 01 + little-endian fingerprint */
    buf_reset(&b);
    framing_write_header(FRAMING_SINGLE_OBJECT, 0x7275d51a3f395c8fULL, &b);
    assert_memory_equal(b.data, "\xc3\x01\x8f\x5c\x39\x3f\x1a\xd5\x75\x72", 10);
    assert_int_equal(
        framing_parse(FRAMING_SINGLE_OBJECT, b.data, b.len, &key, &body, &blen, err, sizeof(err)),
        0);
    assert_true(key == 0x7275d51a3f395c8fULL);
    assert_int_equal(blen, 0);
    assert_int_equal(
        framing_parse(FRAMING_CONFLUENT, b.data, b.len, &key, &body, &blen, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "looks single-object framed"));
    /* short headers */
    assert_int_equal(framing_parse(FRAMING_CONFLUENT, (const uint8_t *)"\x00\x01", 2, &key, &body,
                                   &blen, err, sizeof(err)),
                     -1);
    assert_int_equal(
        framing_parse(FRAMING_SINGLE_OBJECT, b.data, 9, &key, &body, &blen, err, sizeof(err)), -1);
    assert_int_equal(
        framing_parse(FRAMING_CONFLUENT, NULL, 0, &key, &body, &blen, err, sizeof(err)), -1);
    /* plain: everything is body */
    buf_reset(&b);
    framing_write_header(FRAMING_PLAIN, 99, &b);
    assert_int_equal(b.len, 0);
    assert_int_equal(framing_parse(FRAMING_PLAIN, (const uint8_t *)"ab", 2, &key, &body, &blen, err,
                                   sizeof(err)),
                     0);
    assert_int_equal(blen, 2);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolution_table),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_job_view_in_unified_layout),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_reason_names),
        cmocka_unit_test(test_framing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
