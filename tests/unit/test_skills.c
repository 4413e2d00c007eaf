/* test_skills.c - skill-annotation events from the real data (gen/skills.c).
 *
 * Run from the repository root: reads ../shared/data/skills (the real
 * SkillSpan and Kompetencer files) and schemas/. Missing data is a FAILURE,
 * not a skip. Checks the README's figures, the event invariants, the JSON
 * shape, determinism, the Danish files, and malformed input in temp files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/util.h"
#include "gen/skills.h"
#include "schema_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DATA_DIR "../shared/data/skills"

static int near(double got, double want, double rel)
{
    return fabs(got - want) <= rel * want;
}

static void count_split(const skill_corpus *c, const char *language, size_t n[3], size_t pos[3])
{
    for (int s = 0; s < 3; s++)
        n[s] = pos[s] = 0;
    for (size_t i = 0; i < c->n; i++) {
        const skill_event *e = &c->events[i];
        if (strcmp(e->language, language) != 0)
            continue;
        n[e->split]++;
        pos[e->split] += (size_t)e->label;
    }
}

static void load_or_fail(int include_danish, skill_corpus *c)
{
    char err[512];
    if (skills_load(DATA_DIR, include_danish, c, err, sizeof(err)) < 0)
        fail_msg("the real skills data is required (run from the repository root): %s", err);
}

static void test_readme_figures(void **state)
{
    skill_corpus c;
    load_or_fail(0, &c);
    size_t n[3], pos[3];
    count_split(&c, "en", n, pos);
    printf("English, spans <= %d tokens: %zu entities, %zu sentences, %zu events\n", SKILL_MAX_SPAN,
           c.n_entities, c.n_sentences, c.n);
    printf("  train %zu candidates (%zu positive), dev %zu (%zu), test %zu (%zu)\n", n[0], pos[0],
           n[1], pos[1], n[2], pos[2]);
    assert_true(near((double)c.n_entities, 2700, 0.02));
    assert_true(near((double)n[0], 20101, 0.02) && near((double)pos[0], 4065, 0.02));
    assert_true(near((double)n[1], 7670, 0.02) && near((double)pos[1], 670, 0.02));
    assert_true(near((double)n[2], 7710, 0.02) && near((double)pos[2], 823, 0.02));
    assert_int_equal(c.n, n[0] + n[1] + n[2]);

    /* the README's table of the files */
    static const size_t want[3][3] = {{4800, 2221, 2969}, {3174, 1070, 1093}, {3569, 1090, 1174}};
    assert_int_equal(c.n_files, 3);
    for (int f = 0; f < 3; f++) {
        const skill_file_stats *st = &c.files[f];
        printf("  %-22s %5zu lines %5zu sentences %5zu skill spans %5zu knowledge spans, "
               "%zu malformed\n",
               st->name, st->lines, st->sentences, st->skill_spans, st->knowledge_spans,
               st->malformed);
        assert_int_equal(st->split, f);
        assert_true(near((double)st->sentences, (double)want[f][0], 0.02));
        assert_true(near((double)st->skill_spans, (double)want[f][1], 0.02));
        assert_true(near((double)st->knowledge_spans, (double)want[f][2], 0.02));
    }
    assert_int_equal(c.n_malformed, 0);
    assert_string_equal(c.first_malformed, "");
    skills_free(&c);
}

static void test_event_invariants(void **state)
{
    skill_corpus c;
    load_or_fail(0, &c);
    int prev_split = 0;
    size_t tech = 0, house = 0;
    mts_buf key;
    buf_init(&key);
    for (size_t i = 0; i < c.n; i++) {
        const skill_event *e = &c.events[i];
        if (e->split < prev_split)
            fail_msg("event %zu: split %d after split %d", i, e->split, prev_split);
        prev_split = e->split;
        assert_true(e->span_start >= 0 && e->span_start < e->span_end &&
                    e->span_end <= e->n_tokens && e->span_end - e->span_start <= SKILL_MAX_SPAN);
        assert_true(e->label == 0 || e->label == 1);
        assert_true(e->entity_id >= 0);
        long k = skills_entity_index(&c, e->entity_id);
        assert_true(k >= 0);
        assert_string_equal(c.entities[k], e->entity);
        assert_string_equal(e->language, "en");
        /* the entity is the candidate's tokens, lower-cased (ASCII here) */
        buf_reset(&key);
        for (int t = e->span_start; t < e->span_end; t++) {
            if (t > e->span_start)
                buf_putc(&key, ' ');
            for (const char *p = e->tokens[t]; *p; p++)
                buf_putc(&key, (uint8_t)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p));
        }
        buf_putc(&key, 0);
        assert_string_equal((char *)key.data, e->entity);
        if (!strcmp(e->domain, "tech")) {
            tech++;
            assert_memory_equal(e->doc_id, "tech-", 5);
        } else {
            assert_string_equal(e->domain, "house");
            assert_memory_equal(e->doc_id, "house-", 6);
            house++;
        }
        assert_true(e->sentence_id >= 0);
    }
    buf_free(&key);
    /* ids: distinct, and the hash of the form (language-independent) */
    for (size_t i = 1; i < c.n_entities; i++)
        assert_int_equal(skills_entity_index(&c, c.entity_ids[i]), (long)i);
    assert_int_equal(skills_entity_index(&c, -5), -1);
    printf("domains: tech %zu events, house %zu events; "
           "first event %s/%d \"%s\" [%d,%d) label %d\n",
           tech, house, c.events[0].doc_id, c.events[0].sentence_id, c.events[0].entity,
           c.events[0].span_start, c.events[0].span_end, c.events[0].label);
    assert_true(tech > 1000 && house > 1000);
    /* within a sentence: by start, then length */
    for (size_t i = 1; i < c.n; i++)
        if (c.events[i].tokens == c.events[i - 1].tokens)
            assert_true(c.events[i].span_start > c.events[i - 1].span_start ||
                        (c.events[i].span_start == c.events[i - 1].span_start &&
                         c.events[i].span_end > c.events[i - 1].span_end));

    /* JSON shape against the schema, for a sample */
    char err[512];
    for (size_t i = 0; i < c.n; i += (i < 2000 ? 1 : 97)) {
        json_t *o = skill_event_to_json(&c.events[i], 1700000000000LL + (int64_t)i);
        assert_non_null(o);
        if (sc_check_record("schemas/skill_annotation.avsc", o, err, sizeof(err)) < 0)
            fail_msg("event %zu: %s", i, err);
        assert_int_equal(json_array_size(json_object_get(o, "tokens")), c.events[i].n_tokens);
        assert_string_equal(json_string_value(json_object_get(o, "split")),
                            skill_split_name(c.events[i].split));
        assert_int_equal(json_integer_value(json_object_get(o, "entity_id")),
                         c.events[i].entity_id);
        json_decref(o);
    }
    skills_free(&c);
}

static void test_deterministic(void **state)
{
    skill_corpus a, b;
    load_or_fail(0, &a);
    load_or_fail(0, &b);
    assert_int_equal(a.n, b.n);
    assert_int_equal(a.n_entities, b.n_entities);
    assert_memory_equal(a.entity_ids, b.entity_ids, sizeof(int64_t) * a.n_entities);
    for (size_t i = 0; i < a.n; i++) {
        const skill_event *x = &a.events[i], *y = &b.events[i];
        if (x->entity_id != y->entity_id || x->span_start != y->span_start ||
            x->span_end != y->span_end || x->label != y->label || x->split != y->split ||
            strcmp(x->doc_id, y->doc_id) || x->sentence_id != y->sentence_id)
            fail_msg("event %zu differs between two loads", i);
    }
    skills_free(&a);
    skills_free(&b);
}

static void test_danish(void **state)
{
    skill_corpus c;
    load_or_fail(1, &c);
    size_t n[3], pos[3], en[3], enpos[3];
    count_split(&c, "da", n, pos);
    count_split(&c, "en", en, enpos);
    printf("with Danish: %zu entities; da train %zu candidates (%zu positive), test %zu (%zu); "
           "en train %zu (%zu); %zu malformed lines, first: %s\n",
           c.n_entities, n[0], pos[0], n[2], pos[2], en[0], enpos[0], c.n_malformed,
           c.first_malformed);
    assert_int_equal(c.n_files, 5);
    static const size_t want[2][3] = {{263, 105, 30}, {1123, 558, 226}};
    int w = 0;
    for (int f = 0; f < c.n_files; f++) {
        const skill_file_stats *st = &c.files[f];
        if (strcmp(st->language, "da") != 0)
            continue;
        printf("  %-42s %5zu sentences %4zu skill %4zu knowledge spans, %zu malformed lines\n",
               st->name, st->sentences, st->skill_spans, st->knowledge_spans, st->malformed);
        assert_true(near((double)st->sentences, (double)want[w][0], 0.02));
        assert_true(near((double)st->skill_spans, (double)want[w][1], 0.02));
        assert_true(near((double)st->knowledge_spans, (double)want[w][2], 0.02));
        w++;
    }
    assert_int_equal(w, 2);
    /* the files hold a few known broken lines (bullets in the tag column,
       empty tag columns): skipped and counted, not fatal */
    assert_true(c.n_malformed > 0 && c.n_malformed < 30);
    assert_non_null(strstr(c.first_malformed, "kompetencer_danish_train.conll:"));
    assert_true(n[0] > 300 && pos[0] > 50 && n[2] > 1000 && pos[2] > 20);
    assert_int_equal(n[1], 0);
    assert_true(near((double)en[0], 20101, 0.02) && near((double)enpos[0], 4065, 0.02));
    assert_true(c.n_entities > 2681);
    /* Danish capitals are lower-cased in entities */
    for (size_t i = 0; i < c.n_entities; i++)
        assert_true(!strstr(c.entities[i], "\xc3\x98") && !strstr(c.entities[i], "\xc3\x86") &&
                    !strstr(c.entities[i], "\xc3\x85"));
    for (size_t i = 0; i < c.n; i++)
        if (!strcmp(c.events[i].language, "da")) {
            assert_string_equal(c.events[i].domain, "da");
            assert_true(!strcmp(c.events[i].doc_id, "da-train") ||
                        !strcmp(c.events[i].doc_id, "da-test"));
        }
    skills_free(&c);
}

/* ---- malformed input in temp files ---- */

static char tmpdir[256];

static void write_file(const char *rel, const char *text, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static void write_text(const char *rel, const char *text)
{
    write_file(rel, text, strlen(text));
}

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_skills_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char p[512];
    snprintf(p, sizeof(p), "%s/skillspan", tmpdir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/kompetencer", tmpdir);
    assert_int_equal(mkdir(p, 0700), 0);
}

static void remove_tmpdir(void)
{
    static const char *const files[] = {
        "skillspan/train.json", "skillspan/dev.json", "skillspan/test.json",
        "kompetencer/kompetencer_danish_train.conll", "kompetencer/kompetencer_danish_test.conll"};
    char p[512];
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        snprintf(p, sizeof(p), "%s/%s", tmpdir, files[i]);
        unlink(p);
    }
    snprintf(p, sizeof(p), "%s/skillspan", tmpdir);
    rmdir(p);
    snprintf(p, sizeof(p), "%s/kompetencer", tmpdir);
    rmdir(p);
    rmdir(tmpdir);
}

#define GOOD1                                                                                      \
    "{\"idx\": 1, \"tokens\": [\"Python\", \"and\", \"SQL\", \"skills\"], \"tags_skill\": "        \
    "[\"O\", \"O\", \"O\", \"O\"], \"tags_knowledge\": [\"B\", \"O\", \"B\", \"O\"], "             \
    "\"source\": \"tech\"}\n"
#define GOOD2                                                                                      \
    "{\"idx\": 1, \"tokens\": [\"Machine\", \"learning\", \"is\", \"fun\"], \"tags_skill\": "      \
    "[\"B\", \"I\", \"O\", \"O\"], \"tags_knowledge\": [\"O\", \"O\", \"O\", \"O\"], "             \
    "\"source\": \"tech\"}\r\n"

static void test_malformed_input(void **state)
{
    make_tmpdir();
    /* train: 2 good lines (one with CRLF), and one of each kind of bad line */
    mts_buf t;
    buf_init(&t);
    const char *lines[] = {
        GOOD1,
        "{\"idx\": 2, \"tokens\": [\"a\", \"b\"\n",                          /* bad JSON */
        "{\"idx\": 2, \"tokens\": [\"a\", \"b\"], \"tags_skill\": [\"O\"], " /* length */
        "\"tags_knowledge\": [\"O\", \"O\"], \"source\": \"tech\"}\n",
        "{\"idx\": 2, \"tokens\": [\"a\"], \"tags_skill\": [\"X\"], " /* tag */
        "\"tags_knowledge\": [\"O\"], \"source\": \"tech\"}\n",
        "{\"idx\": 2, \"tokens\": [7], \"tags_skill\": [\"O\"], " /* token */
        "\"tags_knowledge\": [\"O\"], \"source\": \"tech\"}\n",
        "{\"idx\": 2, \"tokens\": [\"a\"], \"tags_skill\": [\"O\"], " /* source */
        "\"tags_knowledge\": [\"O\"]}\n",
        "{\"idx\": -4, \"tokens\": [\"a\"], \"tags_skill\": [\"O\"], " /* idx */
        "\"tags_knowledge\": [\"O\"], \"source\": \"tech\"}\n",
        "[1, 2, 3]\n",                                      /* array */
        "{\"idx\": 2, \"tokens\": [], \"tags_skill\": [], " /* empty */
        "\"tags_knowledge\": [], \"source\": \"tech\"}\n",
        "{\"idx\": 2, \"tokens\": [\"a\\u0000b\"], \"tags_skill\": [\"O\"], " /* NUL */
        "\"tags_knowledge\": [\"O\"], \"source\": \"tech\"}\n",
        "{\"idx\": 2, \"tokens\": [\"\xff\xfe\"], \"tags_skill\": [\"O\"], " /* UTF-8 */
        "\"tags_knowledge\": [\"O\"], \"source\": \"tech\"}\n",
        "\n", /* blank: ok */
        GOOD2,
    };
    for (size_t i = 0; i < ARRAY_LEN(lines); i++)
        buf_append(&t, lines[i], strlen(lines[i]));
    /* a line over 1 MiB, then a NUL byte in the middle of a line */
    buf_putc(&t, '{');
    for (int i = 0; i < (1 << 20) + 10; i++)
        buf_putc(&t, ' ');
    buf_append(&t, "}\n", 2);
    buf_append(&t, "{\"idx\": 3\0, \"tokens\": []}\n", 26);
    write_file("skillspan/train.json", (char *)t.data, t.len);
    buf_free(&t);
    write_text("skillspan/dev.json",
               "{\"idx\": 1, \"tokens\": [\"We\", \"use\", \"python\", \"daily\"], \"tags_skill\": "
               "[\"O\", \"O\", \"O\", \"O\"], \"tags_knowledge\": [\"O\", \"O\", \"O\", \"O\"], "
               "\"source\": \"house\"}"); /* no final newline */
    write_text("skillspan/test.json",
               "{\"idx\": 2, \"tokens\": [\"SQL\", \"and\", \"Machine\", \"Learning\"], "
               "\"tags_skill\": [\"O\", \"O\", \"O\", \"O\"], \"tags_knowledge\": [\"B\", \"O\", "
               "\"B\", \"I\"], \"source\": \"tech\"}\n");

    skill_corpus c;
    char err[512];
    assert_int_equal(skills_load(tmpdir, 0, &c, err, sizeof(err)), 0);
    printf("temp data: %zu events, %zu entities, %zu malformed; first: %s\n", c.n, c.n_entities,
           c.n_malformed, c.first_malformed);
    assert_int_equal(c.n_malformed, 12);
    assert_int_equal(c.files[0].malformed, 12);
    assert_int_equal(c.files[0].sentences, 2);
    assert_non_null(strstr(c.first_malformed, "skillspan/train.json:2: bad JSON"));
    assert_int_equal(c.n_entities, 3);
    assert_string_equal(c.entities[0], "python");
    assert_string_equal(c.entities[1], "sql");
    assert_string_equal(c.entities[2], "machine learning");
    static const struct {
        int split;
        const char *entity, *doc;
        int sid, start, end, label;
    } want[] = {
        {0, "python", "tech-1", 0, 0, 1, 1},
        {0, "sql", "tech-1", 0, 2, 3, 1},
        {0, "machine learning", "tech-1", 1, 0, 2, 1},
        {1, "python", "house-1", 0, 2, 3, 0},
        {2, "sql", "tech-2", 0, 0, 1, 1},
        {2, "machine learning", "tech-2", 0, 2, 4, 1},
    };
    assert_int_equal(c.n, ARRAY_LEN(want));
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        const skill_event *e = &c.events[i];
        assert_int_equal(e->split, want[i].split);
        assert_string_equal(e->entity, want[i].entity);
        assert_string_equal(e->doc_id, want[i].doc);
        assert_int_equal(e->sentence_id, want[i].sid);
        assert_int_equal(e->span_start, want[i].start);
        assert_int_equal(e->span_end, want[i].end);
        assert_int_equal(e->label, want[i].label);
    }
    assert_string_equal(c.events[3].domain, "house");
    skills_free(&c);

    /* Danish: a sentence separator of tabs, broken lines skipped, lower-casing */
    write_text("kompetencer/kompetencer_danish_train.conll",
               "Du\tO\tO\n"
               "har\tO\tO\n"
               "\xc3\x98konomi\tO\tB-Knowledge\n"
               "\xc2\x95\tUdd\tO\n" /* tag column holds a word */
               "O\tO\t\n"           /* empty knowledge tag */
               "only two\tO\n"      /* two fields */
               "\tO\tO\n"           /* empty token */
               "bad\xc3\tO\tO\n"    /* truncated UTF-8 */
               "\t\t\n"
               "SQL\tO\tB-Knowledge\n"
               "\n\n");
    write_text("kompetencer/kompetencer_danish_test.conll",
               "python\tB-Skill\tO\n\xc3\xb8konomi\tO\tO\n");
    assert_int_equal(skills_load(tmpdir, 1, &c, err, sizeof(err)), 0);
    printf("with Danish temp files: %zu events, %zu entities, %zu malformed; first: %s\n", c.n,
           c.n_entities, c.n_malformed, c.first_malformed);
    assert_int_equal(c.n_malformed, 12 + 5);
    assert_int_equal(c.files[1].sentences, 2);
    assert_int_equal(c.files[1].malformed, 5);
    assert_int_equal(c.files[4].sentences, 1);
    assert_int_equal(c.n_entities, 4); /* python, sql, machine learning, økonomi */
    assert_string_equal(c.entities[3], "\xc3\xb8konomi");
    size_t da = 0;
    for (size_t i = 0; i < c.n; i++) {
        const skill_event *e = &c.events[i];
        if (strcmp(e->language, "da") != 0)
            continue;
        da++;
        if (!strcmp(e->doc_id, "da-test")) {
            assert_int_equal(e->split, SKILL_SPLIT_TEST);
            /* python is annotated as a skill here (label 1), økonomi not (0) */
            assert_int_equal(e->label, !strcmp(e->entity, "python"));
        }
    }
    assert_int_equal(da, 4); /* train: økonomi, sql; test: python, økonomi */
    skills_free(&c);

    /* missing pieces are fatal, with the path in the message */
    char p[512];
    snprintf(p, sizeof(p), "%s/kompetencer/kompetencer_danish_test.conll", tmpdir);
    unlink(p);
    assert_int_equal(skills_load(tmpdir, 1, &c, err, sizeof(err)), -1);
    printf("missing Danish test file: %s\n", err);
    assert_non_null(strstr(err, "kompetencer_danish_test.conll"));
    assert_null(c.events);
    snprintf(p, sizeof(p), "%s/skillspan/dev.json", tmpdir);
    unlink(p);
    assert_int_equal(skills_load(tmpdir, 0, &c, err, sizeof(err)), -1);
    printf("missing dev file: %s\n", err);
    assert_non_null(strstr(err, "skillspan/dev.json"));
    assert_non_null(strstr(err, "No such file"));
    remove_tmpdir();
    assert_int_equal(skills_load(tmpdir, 0, &c, err, sizeof(err)), -1);
    printf("missing directory: %s\n", err);
    assert_non_null(strstr(err, tmpdir));
    assert_int_equal(skills_load("schemas/job_view.avsc", 0, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a directory"));
    assert_int_equal(skills_load(NULL, 0, &c, err, sizeof(err)), -1);
    skills_free(&c); /* safe on a zeroed corpus */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readme_figures),  cmocka_unit_test(test_event_invariants),
        cmocka_unit_test(test_deterministic),   cmocka_unit_test(test_danish),
        cmocka_unit_test(test_malformed_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
