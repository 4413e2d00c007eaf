/* test_avro.c - schema parser, canonical form, CRC-64-AVRO fingerprints and
 * the generic codec, against reference vectors computed with fastavro 1.13.1
 * (an independent implementation): fastavro.schema.to_parsing_canonical_form,
 * fastavro.schema.fingerprint(..., "CRC-64-AVRO") (printed as little-endian
 * bytes; the uint64 values below are those bytes read little-endian) and
 * fastavro.schemaless_writer for the binary encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/avro.h"

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

/* ---- parse errors ---- */

static const struct {
    const char *schema;
    const char *want; /* substring of the error */
} parse_errors[] = {
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"nope\"}]}",
     "R.a: unknown type \"nope\""},
    {"{\"type\":\"record\",\"name\":\"R\"}", "R: record needs a \"fields\" array"},
    {"{\"type\":\"record\",\"fields\":[]}", "missing \"name\""},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},{\"name\":"
     "\"a\","
     "\"type\":\"int\"}]}",
     "duplicate field name \"a\""},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"u\",\"type\":[\"int\",[\"null\"]]"
     "}]}",
     "R.u: union branch 1 is itself a union"},
    {"[\"int\",\"string\",\"int\"]", "union has int \"int\" twice"},
    {"[{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]},\"E\"]",
     "union has enum \"E\" twice"},
    {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"A\"]}", "duplicate symbol \"A\""},
    {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"],\"default\":\"B\"}",
     "default is not one of its symbols"},
    {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"1A\"]}", "symbol 0 is not a valid name"},
    {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":-1}", "non-negative integer \"size\""},
    {"{\"type\":\"array\"}", "array needs \"items\""},
    {"{\"type\":\"map\",\"values\":\"x\"}", "unknown type \"x\""},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"default\":"
     "\"x\"}]}",
     "R.a: default \"x\" does not match the field's type int"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"default\":"
     "3000000000}]}",
     "does not match"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":[\"null\",\"int\"],"
     "\"default\":\"s\"}]}",
     "does not match"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":"
     "\"record\","
     "\"name\":\"R\",\"fields\":[]}}]}",
     "type \"R\" is defined twice"},
    {"{\"type\":\"record\",\"name\":\"int\",\"fields\":[]}", "redefines a primitive"},
    {"{\"type\":\"record\",\"name\":\"a-b\",\"fields\":[]}", "invalid name \"a-b\""},
    {"[]", "empty union"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\"}]}",
     "R.a: field needs a \"type\""},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"order\":"
     "\"up\"}]}",
     "\"order\" must be"},
    {"{\"type\":", "schema JSON line 1"},
    {"42", "a type must be a string"},
    {"{\"type\":\"record\",\"name\":\"n.R\",\"fields\":[{\"name\":\"s\",\"type\":{\"type\":"
     "\"record\","
     "\"name\":\"S\",\"fields\":[{\"name\":\"bad\",\"type\":\"Q\"}]}}]}",
     "R.s.S.bad: unknown type \"Q\""},
};

static void test_parse_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(parse_errors); i++) {
        char err[512] = "";
        av_schema *s = av_schema_parse(parse_errors[i].schema, err, sizeof(err));
        if (s || !strstr(err, parse_errors[i].want))
            fail_msg("case %zu: schema %s\n  got error \"%s\"\n  want substring \"%s\"", i,
                     parse_errors[i].schema, err, parse_errors[i].want);
    }
}

static void test_parse_features(void **state)
{
    (void)state;
    char err[512];
    /* namespaces, references, recursion, aliases, defaults, logical types */
    const char *txt =
        "{\"type\":\"record\",\"name\":\"List\",\"namespace\":\"q\",\"aliases\":[\"Old\",\"x."
        "Older\"],"
        "\"fields\":["
        "{\"name\":\"v\",\"type\":\"int\",\"default\":7,\"aliases\":[\"value\"]},"
        "{\"name\":\"next\",\"type\":[\"null\",\"List\"],\"default\":null},"
        "{\"name\":\"d\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":9,"
        "\"scale\":2}},"
        "{\"name\":\"bad_dec\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\","
        "\"precision\":2,"
        "\"scale\":3}},"
        "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}},"
        "{\"name\":\"other\",\"type\":{\"type\":\"enum\",\"name\":\"o.E\",\"symbols\":[\"A\",\"B\"]"
        ","
        "\"default\":\"B\"}},"
        "{\"name\":\"again\",\"type\":\"o.E\"},"
        "{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}}"
        "]}";
    av_schema *s = av_schema_parse(txt, err, sizeof(err));
    assert_non_null(s);
    assert_string_equal(s->name, "q.List");
    assert_int_equal(s->n_aliases, 2);
    assert_string_equal(s->aliases[0], "q.Old");
    assert_string_equal(s->aliases[1], "x.Older");
    assert_int_equal(s->n_fields, 8);
    assert_int_equal(av_field_index(s, "next"), 1);
    assert_int_equal(av_field_index(s, "value"), -1);
    assert_int_equal(json_integer_value(s->fields[0].default_value), 7);
    assert_string_equal(s->fields[0].aliases[0], "value");
    assert_true(json_is_null(s->fields[1].default_value));
    assert_ptr_equal(s->fields[1].type->branches[1], s); /* recursion */
    assert_int_equal(s->fields[2].type->logical, AV_LOGICAL_DECIMAL);
    assert_int_equal(s->fields[2].type->precision, 9);
    assert_int_equal(s->fields[2].type->scale, 2);
    assert_int_equal(s->fields[3].type->logical, AV_LOGICAL_NONE); /* invalid: ignored per spec */
    assert_int_equal(s->fields[4].type->logical, AV_LOGICAL_TIMESTAMP_MICROS);
    assert_string_equal(s->fields[5].type->name, "o.E");
    assert_int_equal(s->fields[5].type->enum_default, 1);
    assert_ptr_equal(s->fields[6].type, s->fields[5].type);
    assert_string_equal(s->fields[7].type->name, "q.F");
    assert_int_equal(s->fields[7].type->size, 2);
    av_schema_free(s);
}

/* ---- canonical form and fingerprints (fastavro reference) ---- */

static const struct {
    const char *schema, *canonical;
    uint64_t fp;
} canon_vectors[] = {
    {"\"int\"", "\"int\"", 0x7275d51a3f395c8fULL},
    {"\"null\"", "\"null\"", 0x63dd24e7cc258f8aULL},
    {"{\"type\":\"string\"}", "\"string\"", 0x8f014872634503c7ULL},
    {"{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}", "\"long\"", 0xd054e14493f41db7ULL},
    {"[\"null\",\"float\"]", "[\"null\",\"float\"]", 0x6ea437ec6cfb52ecULL},
    {"{\"type\":\"array\",\"items\":\"long\"}", "{\"type\":\"array\",\"items\":\"long\"}",
     0x5416c98ba22e5e71ULL},
    {"{\"type\":\"map\",\"values\":\"double\"}", "{\"type\":\"map\",\"values\":\"double\"}",
     0x572192e1302bce17ULL},
    {"{\"type\":\"fixed\",\"name\":\"md5\",\"namespace\":\"x.y\",\"size\":16,\"aliases\":[\"a\"]}",
     "{\"name\":\"x.y.md5\",\"type\":\"fixed\",\"size\":16}", 0x2cf3170c21127679ULL},
    {"{\"type\":\"enum\",\"name\":\"E\",\"namespace\":\"n\",\"symbols\":[\"A\",\"B\"],\"default\":"
     "\"A\",\"doc\":\"d\"}",
     "{\"name\":\"n.E\",\"type\":\"enum\",\"symbols\":[\"A\",\"B\"]}", 0x36bdb0f27ae4534cULL},
    {"{\"type\":\"record\",\"name\":\"L\",\"namespace\":\"q\",\"fields\":[{\"name\":\"v\",\"type\":"
     "\"int\","
     "\"default\":1},{\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}",
     "{\"name\":\"q.L\",\"type\":\"record\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},{"
     "\"name\":\"next\","
     "\"type\":[\"null\",\"q.L\"]}]}",
     0xc68a944965723740ULL},
    {"{\"type\":\"record\",\"name\":\"a.R\",\"fields\":[{\"name\":\"s\",\"type\":{\"type\":"
     "\"record\",\"name\":"
     "\"S\",\"fields\":[{\"name\":\"x\",\"type\":\"bytes\"}]}},{\"name\":\"t\",\"type\":\"S\"},{"
     "\"name\":\"u\","
     "\"type\":{\"type\":\"enum\",\"name\":\"b.U\",\"symbols\":[\"Z\"]}},{\"name\":\"w\",\"type\":{"
     "\"type\":"
     "\"fixed\",\"name\":\"W\",\"size\":4}}]}",
     "{\"name\":\"a.R\",\"type\":\"record\",\"fields\":[{\"name\":\"s\",\"type\":{\"name\":\"a.S\","
     "\"type\":"
     "\"record\",\"fields\":[{\"name\":\"x\",\"type\":\"bytes\"}]}},{\"name\":\"t\",\"type\":\"a."
     "S\"},{\"name\":"
     "\"u\",\"type\":{\"name\":\"b.U\",\"type\":\"enum\",\"symbols\":[\"Z\"]}},{\"name\":\"w\","
     "\"type\":{\"name\":"
     "\"a.W\",\"type\":\"fixed\",\"size\":4}}]}",
     0x30c30e740d1ed10eULL},
};

static const struct {
    const char *path;
    uint64_t fp;
} file_fps[] = {
    {"schemas/embedding.avsc", 0x836e894fb02ad4f2ULL},
    {"schemas/inmail_response.avsc", 0x03d2d37e45d46a19ULL},
    {"schemas/job_apply.avsc", 0x1803b6a80f15d93eULL},
    {"schemas/job_view.avsc", 0xc7a09ef3d371ac9eULL},
    {"schemas/skill_annotation.avsc", 0x36c6fe147d8b1fccULL},
};

static void test_canonical_and_fingerprints(void **state)
{
    (void)state;
    /* The spec's CRC-64-AVRO of the empty input is the initial value. */
    assert_true(av_crc64("", 0) == 0xc15d213aa4d7a795ULL);
    for (size_t i = 0; i < ARRAY_LEN(canon_vectors); i++) {
        char err[512];
        av_schema *s = av_schema_parse(canon_vectors[i].schema, err, sizeof(err));
        if (!s)
            fail_msg("case %zu: %s", i, err);
        char *cf = av_canonical_form(s);
        if (strcmp(cf, canon_vectors[i].canonical))
            fail_msg("case %zu: canonical form\n  got  %s\n  want %s", i, cf,
                     canon_vectors[i].canonical);
        uint64_t fp = av_fingerprint(s);
        if (fp != canon_vectors[i].fp)
            fail_msg("case %zu: fingerprint %016llx want %016llx", i, (unsigned long long)fp,
                     (unsigned long long)canon_vectors[i].fp);
        free(cf);
        av_schema_free(s);
    }
    for (size_t i = 0; i < ARRAY_LEN(file_fps); i++) {
        char err[512];
        av_schema *s = av_schema_parse_file(file_fps[i].path, err, sizeof(err));
        if (!s)
            fail_msg("%s", err);
        uint64_t fp = av_fingerprint(s);
        printf("  %-32s fingerprint %016llx\n", file_fps[i].path, (unsigned long long)fp);
        if (fp != file_fps[i].fp)
            fail_msg("%s: fingerprint %016llx want %016llx", file_fps[i].path,
                     (unsigned long long)fp, (unsigned long long)file_fps[i].fp);
        av_schema_free(s);
    }
}

/* ---- JSON <-> binary round trips for every schema in schemas/ ---- */

static const struct {
    const char *path, *json, *hex; /* hex: fastavro.schemaless_writer output */
} round_trips[] = {
    {"schemas/job_view.avsc",
     "{\"member_id\": 12345, \"company_id\": -7, \"job_id\": 99, \"timestamp\": 1700000000000, "
     "\"viewed\": true, "
     "\"member_seniority\": 3, \"member_region\": \"emea\", \"search_intent\": 0.25, \"position\": "
     "2, "
     "\"device\": \"MOBILE\"}",
     "f2c0010dc60180a0abfef962010608656d6561020000803e0402"},
    {"schemas/job_apply.avsc",
     "{\"member_id\": 1, \"company_id\": 2, \"job_id\": 3, \"timestamp\": 4, \"applied\": false, "
     "\"member_seniority\": 0, \"member_region\": \"\", \"search_intent\": null, "
     "\"seconds_on_page\": 12.5, "
     "\"easy_apply\": true, \"member_skills\": [5, 600, -1]}",
     "02040608000000000000484101060ab0090100"},
    {"schemas/inmail_response.avsc",
     "{\"member_id\": 1, \"company_id\": 2, \"recruiter_id\": 3, \"timestamp\": 4, \"accepted\": "
     "true, "
     "\"member_seniority\": 6, \"member_region\": \"na\", \"message_length\": 300}",
     "02040608010c046e61d804"},
    {"schemas/skill_annotation.avsc",
     "{\"doc_id\": \"tech-12\", \"sentence_id\": 4, \"domain\": \"tech\", \"language\": \"en\", "
     "\"split\": "
     "\"DEV\", \"entity_id\": 77, \"entity\": \"Spark\", \"tokens\": [\"We\", \"use\", \"Spark\", "
     "\".\"], "
     "\"span_start\": 2, \"span_end\": 3, \"timestamp\": 5, \"label\": true}",
     "0e746563682d313208087465636804656e029a010a537061726b08045765067573650a537061726b022e0004060a0"
     "1"},
    {"schemas/embedding.avsc",
     "{\"entity_type\": \"COMPANY\", \"entity_id\": 42, \"vector\": [0.5, -1.25, 0.0], "
     "\"model_version\": "
     "\"v1\", \"events_seen\": 1000, \"updated_at\": 1700000000001}",
     "0254060000003f0000a0bf0000000000047631d00f82a0abfef962"},
};

static void test_round_trips(void **state)
{
    (void)state;
    mts_buf out, want;
    buf_init(&out);
    buf_init(&want);
    for (size_t i = 0; i < ARRAY_LEN(round_trips); i++) {
        char err[512];
        av_schema *s = av_schema_parse_file(round_trips[i].path, err, sizeof(err));
        if (!s)
            fail_msg("%s", err);
        json_error_t je;
        json_t *v = json_loads(round_trips[i].json, 0, &je);
        assert_non_null(v);
        buf_reset(&out);
        if (av_encode_json(s, v, &out, err, sizeof(err)) < 0)
            fail_msg("%s: encode: %s", round_trips[i].path, err);
        hex_to_buf(round_trips[i].hex, &want);
        if (out.len != want.len || memcmp(out.data, want.data, out.len))
            fail_msg("%s: encoding differs from fastavro's", round_trips[i].path);
        size_t used = 0;
        json_t *back = av_decode_json(s, out.data, out.len, &used, err, sizeof(err));
        if (!back)
            fail_msg("%s: decode: %s", round_trips[i].path, err);
        assert_int_equal(used, out.len);
        if (!json_equal(v, back)) {
            char *a = json_dumps(v, JSON_SORT_KEYS), *b = json_dumps(back, JSON_SORT_KEYS);
            fail_msg("%s: round trip\n  in  %s\n  out %s", round_trips[i].path, a, b);
        }
        size_t pos = 0;
        assert_int_equal(av_skip(s, out.data, out.len, &pos), 0);
        assert_int_equal(pos, out.len);
        /* truncation at every byte: decode and skip fail cleanly */
        for (size_t cut = 0; cut < out.len; cut++) {
            json_t *t = av_decode_json(s, out.data, cut, &used, err, sizeof(err));
            if (t)
                fail_msg("%s: decoded a record cut at %zu of %zu bytes", round_trips[i].path, cut,
                         out.len);
            pos = 0;
            assert_int_equal(av_skip(s, out.data, cut, &pos), -1);
        }
        json_decref(back);
        json_decref(v);
        av_schema_free(s);
    }
    buf_free(&out);
    buf_free(&want);
}

/* Generic types not in schemas/: maps, fixed, bytes, nested records,
 * unions of records, recursion, defaults filled by the encoder. */
static void test_round_trip_generic(void **state)
{
    (void)state;
    const char *schema = "{\"type\":\"record\",\"name\":\"T\",\"fields\":["
                         "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"long\"}},"
                         "{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}},"
                         "{\"name\":\"b\",\"type\":\"bytes\"},"
                         "{\"name\":\"d\",\"type\":\"double\",\"default\":1.5},"
                         "{\"name\":\"u\",\"type\":[\"null\",\"string\",{\"type\":\"record\","
                         "\"name\":\"P\",\"fields\":["
                         "{\"name\":\"x\",\"type\":\"int\"}]}]},"
                         "{\"name\":\"next\",\"type\":[\"null\",\"T\"],\"default\":null}]}";
    char err[512];
    av_schema *s = av_schema_parse(schema, err, sizeof(err));
    assert_non_null(s);
    json_t *v = json_pack("{s:{s:I,s:I},s:s,s:s,s:{s:i},s:{s:{},s:s,s:s,s:s}}", "m", "a",
                          (json_int_t)1, "b", (json_int_t)-300, "f",
                          "\xc3\xbf"
                          "a\xc2\x80",
                          "b", "xyz", "u", "x", 5, "next", "m", "f", "abc", "b", "", "u", "hi");
    assert_non_null(v);
    mts_buf out;
    buf_init(&out);
    assert_int_equal(av_encode_json(s, v, &out, err, sizeof(err)), 0);
    size_t used;
    json_t *back = av_decode_json(s, out.data, out.len, &used, err, sizeof(err));
    assert_non_null(back);
    assert_int_equal(used, out.len);
    /* defaults were filled in by the encoder */
    assert_true(json_real_value(json_object_get(back, "d")) == 1.5);
    assert_true(json_is_null(json_object_get(json_object_get(back, "next"), "next")));
    json_object_set_new(v, "d", json_real(1.5));
    json_object_set_new(json_object_get(v, "next"), "d", json_real(1.5));
    json_object_set_new(json_object_get(v, "next"), "next", json_null());
    json_object_set_new(v, "next", json_deep_copy(json_object_get(v, "next")));
    if (!json_equal(v, back)) {
        char *a = json_dumps(v, JSON_SORT_KEYS), *b = json_dumps(back, JSON_SORT_KEYS);
        fail_msg("round trip\n  in  %s\n  out %s", a, b);
    }
    json_decref(back);
    /* encoder errors name the path */
    json_object_set_new(v, "f", json_string("ab"));
    assert_int_equal(av_encode_json(s, v, &out, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "f: fixed \"F\" needs 3 bytes"));
    json_object_set_new(v, "f", json_string("abc"));
    json_object_set_new(json_object_get(v, "m"), "a", json_string("x"));
    assert_int_equal(av_encode_json(s, v, &out, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "m.a: expected long"));
    json_decref(v);
    buf_free(&out);
    av_schema_free(s);
}

/* ---- hostile binary input for the generic decoder ---- */

static const struct {
    const char *name, *schema, *hex, *want;
} bad_inputs[] = {
    {"1 GiB string", "\"string\"", "8080808008", "length 1073741824 with 0 bytes left"},
    {"negative string length", "\"string\"", "01", "length -1"},
    {"bytes beyond end", "\"bytes\"", "0a6162", "length 5 with 2 bytes left"},
    {"varint of 11 bytes", "\"long\"", "ffffffffffffffffffff01", "malformed varint"},
    {"truncated varint", "\"long\"", "ff", "truncated varint"},
    {"int out of range", "\"int\"", "8080808020", "int out of range"},
    {"boolean 2", "\"boolean\"", "02", "boolean byte 2"},
    {"union index out of range", "[\"null\",\"int\"]", "04", "union branch 2 out of range"},
    {"negative union index", "[\"null\",\"int\"]", "01", "union branch -1 out of range"},
    {"enum index out of range", "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}", "02",
     "enum index 1 out of range"},
    {"NaN double", "\"double\"", "000000000000f87f", "NaN cannot be represented in JSON"},
    {"inf float", "\"float\"", "0000807f", "infinity cannot be represented"},
    {"array count beyond data", "{\"type\":\"array\",\"items\":\"long\"}", "feffffff0f00",
     "block of 2147483647 items with 1 bytes left"},
    {"negative block byte size disagreeing with its items",
     "{\"type\":\"array\",\"items\":\"long\"}", "0302020400",
     "block byte size 1, but its items take 2 bytes"},
    {"negative block with bad byte size", "{\"type\":\"array\",\"items\":\"long\"}", "0364",
     "block length 50"},
    {"array of nulls, huge count", "{\"type\":\"array\",\"items\":\"null\"}",
     "feffffffffffffffff0100", "zero-size type"},
    {"map count beyond data", "{\"type\":\"map\",\"values\":\"int\"}", "8080800100", "block of"},
    {"invalid UTF-8 string", "\"string\"", "04c328", "not valid UTF-8"},
    {"truncated double", "\"double\"", "000000", "truncated double"},
    {"truncated fixed", "{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}", "0102",
     "truncated fixed"},
};

static void test_bad_inputs(void **state)
{
    (void)state;
    mts_buf b;
    buf_init(&b);
    for (size_t i = 0; i < ARRAY_LEN(bad_inputs); i++) {
        char err[512] = "";
        av_schema *s = av_schema_parse(bad_inputs[i].schema, err, sizeof(err));
        if (!s)
            fail_msg("%s: %s", bad_inputs[i].name, err);
        hex_to_buf(bad_inputs[i].hex, &b);
        size_t used;
        json_t *j = av_decode_json(s, b.data, b.len, &used, err, sizeof(err));
        if (j || !strstr(err, bad_inputs[i].want))
            fail_msg("%s: got %s, error \"%s\", want \"%s\"", bad_inputs[i].name,
                     j ? "a value" : "NULL", err, bad_inputs[i].want);
        size_t pos = 0;
        /* skip rejects all of these too, except the ones only JSON cannot hold */
        int sk = av_skip(s, b.data, b.len, &pos);
        if (!strstr(bad_inputs[i].name, "NaN") && !strstr(bad_inputs[i].name, "inf") &&
            !strstr(bad_inputs[i].name, "UTF-8") && sk != -1)
            fail_msg("%s: av_skip accepted it", bad_inputs[i].name);
        av_schema_free(s);
    }
    buf_free(&b);
}

/* Negative block counts (count, byte size, items) decode like positive ones. */
static void test_negative_blocks(void **state)
{
    (void)state;
    char err[256];
    av_schema *s = av_schema_parse("{\"type\":\"array\",\"items\":\"long\"}", err, sizeof(err));
    assert_non_null(s);
    /* block of -2 items, 2 bytes: 1, 2; then block of 1: 3; end */
    const uint8_t data[] = {0x03, 0x04, 0x02, 0x04, 0x02, 0x06, 0x00};
    size_t used;
    json_t *j = av_decode_json(s, data, sizeof(data), &used, err, sizeof(err));
    assert_non_null(j);
    assert_int_equal(used, sizeof(data));
    assert_int_equal(json_array_size(j), 3);
    assert_int_equal(json_integer_value(json_array_get(j, 2)), 3);
    json_decref(j);
    size_t pos = 0;
    assert_int_equal(av_skip(s, data, sizeof(data), &pos), 0);
    assert_int_equal(pos, sizeof(data));
    av_schema_free(s);
}

static void test_primitives(void **state)
{
    (void)state;
    static const int64_t longs[] = {0,   -1,        1,         63,        -64,      64,
                                    300, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
    mts_buf b;
    buf_init(&b);
    for (size_t i = 0; i < ARRAY_LEN(longs); i++) {
        buf_reset(&b);
        av_write_long(&b, longs[i]);
        size_t pos = 0;
        int64_t v;
        assert_int_equal(av_read_long(b.data, b.len, &pos, &v), 0);
        assert_true(v == longs[i]);
        assert_int_equal(pos, b.len);
    }
    buf_reset(&b);
    av_write_double(&b, NAN); /* the binary layer carries NaN */
    av_write_float(&b, -2.5f);
    size_t pos = 0;
    double d;
    float f;
    assert_int_equal(av_read_double(b.data, b.len, &pos, &d), 0);
    assert_true(isnan(d));
    assert_int_equal(av_read_float(b.data, b.len, &pos, &f), 0);
    assert_true(f == -2.5f);
    assert_int_equal(av_read_float(b.data, b.len, &pos, &f), -1);
    int32_t i32;
    pos = 0;
    buf_reset(&b);
    av_write_long(&b, (int64_t)INT32_MAX + 1);
    assert_int_equal(av_read_int(b.data, b.len, &pos, &i32), -1);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_features),
        cmocka_unit_test(test_canonical_and_fingerprints),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_round_trip_generic),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_negative_blocks),
        cmocka_unit_test(test_primitives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
