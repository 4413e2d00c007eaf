/* test_unify.c - the unified layout of the four event schemas in schemas/,
 * and the unification rules (aliases, widening, nesting, maps, conflicts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "consumer/unify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *files[] = {"schemas/job_view.avsc", "schemas/job_apply.avsc",
                              "schemas/inmail_response.avsc", "schemas/skill_annotation.avsc"};
static const char *names[] = {"job_view", "job_apply", "inmail", "skill"};

#define VIEW 1u
#define APPLY 2u
#define INMAIL 4u
#define SKILL 8u

static const struct {
    const char *name;
    field_kind kind;
    uint64_t mask;
    const char *dflt; /* "null", a number, or "text" / [] */
} want_fields[] = {
    {"member_id", FK_LONG, VIEW | APPLY | INMAIL, "0"},
    {"company_id", FK_LONG, VIEW | APPLY | INMAIL, "0"},
    {"job_id", FK_LONG, VIEW | APPLY, "0"},
    {"timestamp", FK_LONG, VIEW | APPLY | INMAIL | SKILL, "0"},
    {"viewed", FK_LONG, VIEW, "0"},
    {"member_seniority", FK_LONG, VIEW | APPLY | INMAIL, "0"},
    {"member_region", FK_STRING, VIEW | APPLY | INMAIL, "\"\""},
    {"search_intent", FK_DOUBLE, VIEW | APPLY, "null"},
    {"position", FK_LONG, VIEW, "0"},
    {"device", FK_STRING, VIEW, "\"DESKTOP\""},
    {"applied", FK_LONG, APPLY, "0"},
    {"seconds_on_page", FK_DOUBLE, APPLY, "0"},
    {"easy_apply", FK_LONG, APPLY, "0"},
    {"member_skills", FK_LONG_ARRAY, APPLY, "[]"},
    {"recruiter_id", FK_LONG, INMAIL, "0"},
    {"accepted", FK_LONG, INMAIL, "0"},
    {"message_length", FK_LONG, INMAIL, "0"},
    {"doc_id", FK_STRING, SKILL, "\"\""},
    {"sentence_id", FK_LONG, SKILL, "0"},
    {"domain", FK_STRING, SKILL, "\"\""},
    {"language", FK_STRING, SKILL, "\"en\""},
    {"split", FK_STRING, SKILL, "\"\""},
    {"entity_id", FK_LONG, SKILL, "0"},
    {"entity", FK_STRING, SKILL, "\"\""},
    {"tokens", FK_STRING_ARRAY, SKILL, "[]"},
    {"span_start", FK_LONG, SKILL, "0"},
    {"span_end", FK_LONG, SKILL, "0"},
    {"label", FK_LONG, SKILL, "0"},
};

static void check_default(const mts_field *f, const char *want)
{
    const mts_value *d = &f->dflt;
    if (d->present)
        fail_msg("%s: default marked present", f->name);
    if (!strcmp(want, "null")) {
        if (!d->is_null)
            fail_msg("%s: default is not null", f->name);
        return;
    }
    if (d->is_null)
        fail_msg("%s: default is null, want %s", f->name, want);
    switch (f->kind) {
    case FK_LONG:
        if (d->u.l != strtoll(want, NULL, 10))
            fail_msg("%s: default %lld want %s", f->name, (long long)d->u.l, want);
        break;
    case FK_DOUBLE:
        if (d->u.d != strtod(want, NULL))
            fail_msg("%s: default %g want %s", f->name, d->u.d, want);
        break;
    case FK_STRING:
        if (d->n != strlen(want) - 2 || memcmp(d->u.s, want + 1, d->n))
            fail_msg("%s: default \"%.*s\" want %s", f->name, (int)d->n, d->u.s, want);
        break;
    default:
        if (d->n != 0 || strcmp(want, "[]"))
            fail_msg("%s: default array of %u, want %s", f->name, d->n, want);
    }
}

static void test_four_schemas(void **state)
{
    (void)state;
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
    assert_int_equal(l->n_tasks, 4);
    assert_string_equal(l->task_names[3], "skill");
    if (l->n_fields != (int)ARRAY_LEN(want_fields))
        fail_msg("layout has %d fields, want %zu", l->n_fields, ARRAY_LEN(want_fields));
    for (size_t i = 0; i < ARRAY_LEN(want_fields); i++) {
        int slot = layout_find(l, want_fields[i].name);
        if (slot != (int)i) /* order of first appearance */
            fail_msg("%s at slot %d, want %zu", want_fields[i].name, slot, i);
        const mts_field *f = &l->fields[slot];
        if (f->kind != want_fields[i].kind)
            fail_msg("%s: kind %s want %s", f->name, field_kind_name(f->kind),
                     field_kind_name(want_fields[i].kind));
        if (f->task_mask != want_fields[i].mask)
            fail_msg("%s: task mask %llx want %llx", f->name, (unsigned long long)f->task_mask,
                     (unsigned long long)want_fields[i].mask);
        check_default(f, want_fields[i].dflt);
    }
    assert_int_equal(layout_find(l, "nope"), -1);
    assert_string_equal(l->fields[layout_find(l, "timestamp")].type_text, "long(timestamp-millis)");
    assert_string_equal(l->fields[layout_find(l, "search_intent")].type_text, "null|float");
    assert_string_equal(l->fields[layout_find(l, "device")].dflt_text, "\"DESKTOP\"");
    /* layout_print shows the split */
    char *text = NULL;
    size_t n = 0;
    FILE *mf = open_memstream(&text, &n);
    layout_print(l, mf);
    fclose(mf);
    printf("%s", text);
    assert_non_null(strstr(text, "job_view,job_apply,inmail"));
    assert_non_null(strstr(text, "enum com.mtlstream.events.Device"));
    free(text);
    layout_free(l);
    for (int i = 0; i < 4; i++)
        av_schema_free(s[i]);
}

#define R(name, fields) "{\"type\":\"record\",\"name\":\"" name "\",\"fields\":[" fields "]}"

static mts_layout *unify2(const char *a, const char *b, char *err, size_t errlen, av_schema **sa,
                          av_schema **sb)
{
    *sa = av_schema_parse(a, err, errlen);
    *sb = av_schema_parse(b, err, errlen);
    if (!*sa || !*sb)
        fail_msg("schema: %s", err);
    av_schema *both[2] = {*sa, *sb};
    const char *nm[2] = {"A", "B"};
    return layout_unify(both, nm, 2, err, errlen);
}

static const struct {
    const char *name, *a, *b, *want_err;
} conflicts[] = {
    {"string vs long", R("X", "{\"name\":\"member_id\",\"type\":\"long\"}"),
     R("Y", "{\"name\":\"member_id\",\"type\":\"string\"}"),
     "field member_id: task A has long (long), task B has member_id as string: incompatible kinds"},
    {"alias match with a conflicting kind", R("X", "{\"name\":\"m\",\"type\":\"long\"}"),
     R("Y",
       "{\"name\":\"mid\",\"type\":{\"type\":\"array\",\"items\":\"long\"},\"aliases\":[\"m\"]}"),
     "field m: task A has long (long), task B has mid as long[]"},
    {"array of records", R("X", "{\"name\":\"a\",\"type\":\"long\"}"),
     R("Y", "{\"name\":\"r\",\"type\":{\"type\":\"array\",\"items\":" R(
                "Z", "{\"name\":\"q\",\"type\":\"int\"}") "}}"),
     "task B: field r: arrays of record are not supported"},
    {"recursive record", R("X", "{\"name\":\"a\",\"type\":\"long\"}"),
     R("L", "{\"name\":\"v\",\"type\":\"int\"},{\"name\":\"next\",\"type\":\"L\"}"),
     "task B: record L is recursive at next."},
    {"union of string and long", R("X", "{\"name\":\"a\",\"type\":\"long\"}"),
     R("Y", "{\"name\":\"u\",\"type\":[\"null\",\"string\",\"long\"]}"),
     "task B: field u: union branches"},
    {"two fields of one task on one slot", R("X", "{\"name\":\"a\",\"type\":\"long\"}"),
     R("Y",
       "{\"name\":\"a\",\"type\":\"long\"},{\"name\":\"b\",\"type\":\"long\",\"aliases\":[\"a\"]}"),
     "task B: fields a and b both match layout field a"},
};

static void test_conflicts(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(conflicts); i++) {
        char err[512] = "";
        av_schema *a, *b;
        mts_layout *l = unify2(conflicts[i].a, conflicts[i].b, err, sizeof(err), &a, &b);
        if (l || !strstr(err, conflicts[i].want_err))
            fail_msg("%s: got \"%s\", want \"%s\"", conflicts[i].name, l ? "(a layout)" : err,
                     conflicts[i].want_err);
        av_schema_free(a);
        av_schema_free(b);
    }
}

static void test_rules(void **state)
{
    (void)state;
    char err[512];
    av_schema *a, *b;
    mts_layout *l = unify2(
        R("X",
          "{\"name\":\"member_id\",\"type\":\"long\"},"
          "{\"name\":\"score\",\"type\":\"int\",\"default\":3},"
          "{\"name\":\"ctx\",\"type\":" R(
              "C",
              "{\"name\":\"device\",\"type\":\"string\",\"default\":\"web\"},"
              "{\"name\":\"pos\",\"type\":\"int\"}") "},"
                                                     "{\"name\":\"tags\",\"type\":{\"type\":"
                                                     "\"map\",\"values\":\"string\"}},"
                                                     "{\"name\":\"opt\",\"type\":[\"null\"," R(
                                                         "O", "{\"name\":\"w\",\"type\":"
                                                              "\"double\"}") "],"
                                                                             "\"default\":null}"),
        R("Y", "{\"name\":\"memberId\",\"type\":\"int\",\"aliases\":[\"member_id\"]},"
               "{\"name\":\"score\",\"type\":\"double\"},"
               "{\"name\":\"ctx\",\"type\":" R(
                   "C2",
                   "{\"name\":\"pos\",\"type\":\"long\"}") "},"
                                                           "{\"name\":\"dec\",\"type\":{\"type\":"
                                                           "\"bytes\",\"logicalType\":\"decimal\","
                                                           "\"precision\":5,"
                                                           "\"scale\":1},\"default\":\"\\u0001\"}"),
        err, sizeof(err), &a, &b);
    if (!l)
        fail_msg("%s", err);
    /* member_id shared through B's alias; int and long are both FK_LONG */
    int m = layout_find(l, "member_id");
    assert_true(m >= 0);
    assert_int_equal(l->fields[m].task_mask, 3);
    assert_int_equal(layout_find(l, "memberId"), -1);
    /* int + double widen to double; the default (from A) follows */
    int sc = layout_find(l, "score");
    assert_int_equal(l->fields[sc].kind, FK_DOUBLE);
    assert_true(l->fields[sc].dflt.u.d == 3.0);
    /* nested records flattened with dotted names */
    int dev = layout_find(l, "ctx.device"), pos = layout_find(l, "ctx.pos");
    assert_true(dev >= 0 && pos >= 0);
    assert_int_equal(l->fields[dev].task_mask, 1);
    assert_int_equal(l->fields[pos].task_mask, 3);
    assert_int_equal(l->fields[dev].dflt.n, 3);
    assert_memory_equal(l->fields[dev].dflt.u.s, "web", 3);
    /* maps are not in the layout */
    assert_int_equal(layout_find(l, "tags"), -1);
    /* nullable nested record with a null default: its fields default to null */
    int w = layout_find(l, "opt.w");
    assert_true(w >= 0);
    assert_int_equal(l->fields[w].dflt.is_null, 1);
    /* decimal bytes default "\x01" at scale 1 = 0.1 */
    int d = layout_find(l, "dec");
    assert_int_equal(l->fields[d].kind, FK_DOUBLE);
    assert_true(l->fields[d].dflt.u.d > 0.0999999 && l->fields[d].dflt.u.d < 0.1000001);
    assert_int_equal(l->n_fields, 6);
    layout_free(l);
    av_schema_free(a);
    av_schema_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_four_schemas),
        cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
