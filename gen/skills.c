/* skills.c - skill-annotation events from SkillSpan and Kompetencer.
 *
 * What the events are is documented in skills.h. How: every file is read
 * line by line (bounded line length) into sentences kept in one arena:
 * tokens, the annotated spans (skill and knowledge merged) and the
 * sentence's posting. Then the dictionary is built from the training
 * sentences' spans in an open-addressing table keyed by the entity id
 * (hash of the surface form; a clash of two different forms on one id is an
 * error), and the tagger walks every sentence, looking up the lower-cased
 * n-grams of 1..4 tokens. */
#include "gen/skills.h"

#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_LINE (1u << 20)
#define MAX_TOKENS 4096
#define MAX_SOURCE 32

typedef struct {
    int start, end;
} span;

typedef struct {
    char *doc_id;
    int sentence_id;
    const char *domain;
    const char *language;
    int split;
    char **tokens; /* (n_tokens) */
    int n_tokens;
    span *spans; /* (n_spans) skill and knowledge, distinct */
    int n_spans;
} sentence;

struct skill_store {
    mts_arena arena; /* every string and array of the corpus */
    sentence *sents; /* (n_sents) */
    size_t n_sents, cap_sents;
    size_t *table; /* (cap_table) entity index + 1, 0 = empty; keyed by id */
    size_t cap_table;
    size_t cap_entities;
    size_t cap_events;
};

/* One input file being read: where malformed lines are reported. */
typedef struct {
    skill_corpus *c;
    skill_file_stats *st;
    const char *path;
    size_t line;
} reader;

static void malformed(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void malformed(reader *r, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    r->st->malformed++;
    r->c->n_malformed++;
    if (!r->c->first_malformed[0])
        snprintf(r->c->first_malformed, sizeof(r->c->first_malformed), "%s:%zu: %s", r->path,
                 r->line, why);
    log_debug("%s:%zu: skipped: %s", r->path, r->line, why);
}

/* Reads one line, without its "\n" or "\r\n", into b (NUL-terminated; the
 * length is b->len - 1). 1 if a line was read, 0 at the end, -1 on a read
 * error. A line longer than MAX_LINE is consumed whole, but only its first
 * MAX_LINE bytes are kept and *too_long is set. */
static int read_line(FILE *f, mts_buf *b, int *too_long)
{
    int ch, any = 0;
    buf_reset(b);
    *too_long = 0;
    while ((ch = getc(f)) != EOF) {
        any = 1;
        if (ch == '\n')
            break;
        if (b->len < MAX_LINE)
            buf_putc(b, (uint8_t)ch);
        else
            *too_long = 1;
    }
    if (ferror(f))
        return -1;
    if (b->len && b->data[b->len - 1] == '\r')
        b->len--;
    buf_putc(b, 0);
    return any;
}

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned min, cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, min = 0x80, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, min = 0x800, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + k >= n)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* Simple lower-casing of Latin (ASCII, Latin-1, Latin Extended-A), Greek
 * and Cyrillic capitals; other code points are kept. s is valid UTF-8. */
static unsigned lower_cp(unsigned cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return cp + 32;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
        return cp + 32;
    if ((cp >= 0x100 && cp <= 0x137 && cp != 0x130 && !(cp & 1)) ||
        (cp >= 0x139 && cp <= 0x148 && (cp & 1)) || (cp >= 0x14A && cp <= 0x177 && !(cp & 1)) ||
        (cp >= 0x179 && cp <= 0x17E && (cp & 1)))
        return cp + 1;
    if (cp == 0x178)
        return 0xFF;
    if ((cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) || (cp >= 0x410 && cp <= 0x42F))
        return cp + 32;
    if (cp >= 0x400 && cp <= 0x40F)
        return cp + 80;
    return cp;
}

static void put_utf8(mts_buf *b, unsigned cp)
{
    if (cp < 0x80) {
        buf_putc(b, (uint8_t)cp);
    } else if (cp < 0x800) {
        buf_putc(b, (uint8_t)(0xC0 | (cp >> 6)));
        buf_putc(b, (uint8_t)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        buf_putc(b, (uint8_t)(0xE0 | (cp >> 12)));
        buf_putc(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3F)));
        buf_putc(b, (uint8_t)(0x80 | (cp & 0x3F)));
    } else {
        buf_putc(b, (uint8_t)(0xF0 | (cp >> 18)));
        buf_putc(b, (uint8_t)(0x80 | ((cp >> 12) & 0x3F)));
        buf_putc(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3F)));
        buf_putc(b, (uint8_t)(0x80 | (cp & 0x3F)));
    }
}

/* Appends the lower-cased s (valid UTF-8) to b. */
static void append_lower(mts_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, cp;
        int k = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : 3;
        cp = k == 0 ? c : k == 1 ? (c & 0x1F) : k == 2 ? (c & 0x0F) : (c & 0x07);
        for (int j = 1; j <= k && p[j]; j++)
            cp = (cp << 6) | (p[j] & 0x3F);
        for (int j = 0; j <= k && *p; j++)
            p++;
        put_utf8(b, lower_cp(cp));
    }
}

static int tag_valid(const char *t)
{
    if (!strcmp(t, "O"))
        return 1;
    return (t[0] == 'B' || t[0] == 'I') && (t[1] == '\0' || t[1] == '-');
}

/* Spans of a BIO column (tags as 'B', 'I', 'O'), appended to out; an I
 * after an O starts a span. Returns the number found. */
static int bio_spans(const char *tags, int n, span *out, int *n_out)
{
    int found = 0, start = -1;
    for (int i = 0; i <= n; i++) {
        char t = i < n ? tags[i] : 'O';
        if (start >= 0 && (t == 'B' || t == 'O')) {
            out[(*n_out)++] = (span){start, i};
            found++;
            start = -1;
        }
        if (start < 0 && (t == 'B' || t == 'I'))
            start = i;
    }
    return found;
}

/* Adds a sentence from tokens and the two tag columns; the tokens must
 * already live in the arena. */
static void add_sentence(skill_store *s, reader *r, const char *doc_id, int sentence_id,
                         const char *domain, const char *language, int split, char **tokens, int n,
                         const char *tags_skill, const char *tags_knowledge)
{
    if (s->n_sents == s->cap_sents) {
        s->cap_sents = s->cap_sents ? 2 * s->cap_sents : 1024;
        s->sents = xrealloc(s->sents, sizeof(sentence) * s->cap_sents);
    }
    sentence *st = &s->sents[s->n_sents++];
    st->doc_id = arena_strndup(&s->arena, doc_id, strlen(doc_id));
    st->sentence_id = sentence_id;
    st->domain = domain;
    st->language = language;
    st->split = split;
    st->tokens = tokens;
    st->n_tokens = n;
    /* at most one span per token per column */
    span *sp = xmalloc(sizeof(span) * (size_t)(2 * n + 2));
    int n_sp = 0;
    r->st->skill_spans += (size_t)bio_spans(tags_skill, n, sp, &n_sp);
    r->st->knowledge_spans += (size_t)bio_spans(tags_knowledge, n, sp, &n_sp);
    /* keep distinct spans: a span tagged as both skill and knowledge is one */
    int k = 0;
    for (int i = 0; i < n_sp; i++) {
        int dup = 0;
        for (int j = 0; j < k && !dup; j++)
            dup = sp[j].start == sp[i].start && sp[j].end == sp[i].end;
        if (!dup)
            sp[k++] = sp[i];
    }
    st->spans = arena_alloc(&s->arena, sizeof(span) * (size_t)(k ? k : 1));
    memcpy(st->spans, sp, sizeof(span) * (size_t)k);
    st->n_spans = k;
    free(sp);
    r->st->sentences++;
    r->c->n_sentences++;
}

static int source_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_SOURCE)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

/* Reads one tag column of a JSON line into tags[] ('B', 'I', 'O'). */
static int json_tags(reader *r, const json_t *a, const char *name, size_t n, char *tags)
{
    if (!json_is_array(a)) {
        malformed(r, "%s missing or not an array", name);
        return -1;
    }
    if (json_array_size(a) != n) {
        malformed(r, "%s has %zu tags for %zu tokens", name, json_array_size(a), n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *t = json_string_value(json_array_get(a, i));
        if (!t || !tag_valid(t)) {
            malformed(r, "%s[%zu] is not a BIO tag", name, i);
            return -1;
        }
        tags[i] = t[0];
    }
    return 0;
}

/* One SkillSpan line. prev_doc / prev_sid: the posting of the previous
 * sentence of the file, for sentence ids. */
static void skillspan_line(skill_store *s, reader *r, const char *line, size_t len, int split,
                           char *prev_doc, size_t prev_doc_len, int *prev_sid,
                           const char **prev_domain)
{
    json_error_t je;
    json_t *o = json_loadb(line, len, 0, &je);
    if (!o) {
        malformed(r, "bad JSON at column %d: %s", je.column, je.text);
        return;
    }
    char *tags = NULL;
    const json_t *idx = json_object_get(o, "idx"), *toks = json_object_get(o, "tokens");
    const char *source = json_string_value(json_object_get(o, "source"));
    size_t n = json_array_size(toks);
    if (!json_is_object(o)) {
        malformed(r, "not a JSON object");
    } else if (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
               json_integer_value(idx) > INT32_MAX) {
        malformed(r, "idx missing or not an integer in 0..2^31-1");
    } else if (!source || !source_valid(source)) {
        malformed(r, "source missing or not a short [A-Za-z0-9_-] name");
    } else if (!json_is_array(toks) || n == 0 || n > MAX_TOKENS) {
        malformed(r, "tokens missing, empty or over %d", MAX_TOKENS);
    } else {
        tags = xmalloc(2 * n);
        if (json_tags(r, json_object_get(o, "tags_skill"), "tags_skill", n, tags) == 0 &&
            json_tags(r, json_object_get(o, "tags_knowledge"), "tags_knowledge", n, tags + n) ==
                0) {
            size_t i;
            for (i = 0; i < n && json_is_string(json_array_get(toks, i)); i++)
                ;
            if (i < n) {
                malformed(r, "tokens[%zu] is not a string", i);
            } else {
                char **tv = arena_alloc(&s->arena, sizeof(char *) * n);
                for (i = 0; i < n; i++) {
                    const json_t *t = json_array_get(toks, i);
                    tv[i] = arena_strndup(&s->arena, json_string_value(t), json_string_length(t));
                }
                char doc[MAX_SOURCE + 16];
                snprintf(doc, sizeof(doc), "%s-%lld", source, (long long)json_integer_value(idx));
                if (strcmp(doc, prev_doc) != 0) {
                    snprintf(prev_doc, prev_doc_len, "%s", doc);
                    *prev_sid = -1;
                }
                if (!*prev_domain || strcmp(*prev_domain, source) != 0)
                    *prev_domain = arena_strndup(&s->arena, source, strlen(source));
                add_sentence(s, r, doc, ++*prev_sid, *prev_domain, "en", split, tv, (int)n, tags,
                             tags + n);
            }
        }
    }
    free(tags);
    json_decref(o);
}

static FILE *open_input(const char *dir, const char *name, char *path, size_t pathlen, char *err,
                        size_t errlen)
{
    snprintf(path, pathlen, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    return f;
}

static int read_skillspan(skill_store *s, skill_corpus *c, const char *dir, const char *name,
                          int split, char *err, size_t errlen)
{
    char path[4096];
    FILE *f = open_input(dir, name, path, sizeof(path), err, errlen);
    if (!f)
        return -1;
    skill_file_stats *st = &c->files[c->n_files++];
    st->name = name;
    st->split = split;
    st->language = "en";
    reader r = {c, st, path, 0};
    mts_buf line;
    buf_init(&line);
    char prev_doc[MAX_SOURCE + 16] = "";
    int prev_sid = -1, too_long, rc;
    const char *prev_domain = NULL;
    while ((rc = read_line(f, &line, &too_long)) == 1) {
        r.line++;
        st->lines++;
        size_t len = line.len - 1;
        if (too_long)
            malformed(&r, "line longer than %u bytes", MAX_LINE);
        else if (len == 0 || strspn((char *)line.data, " \t") == len)
            continue; /* blank line */
        else
            skillspan_line(s, &r, (char *)line.data, len, split, prev_doc, sizeof(prev_doc),
                           &prev_sid, &prev_domain);
    }
    if (rc < 0)
        snprintf(err, errlen, "read error on %s: %s", path, strerror(errno));
    buf_free(&line);
    fclose(f);
    return rc < 0 ? -1 : 0;
}

/* Kompetencer CoNLL: token TAB skill TAB knowledge; whitespace-only lines
 * end a sentence. A bad line is dropped from its sentence. */
static int read_conll(skill_store *s, skill_corpus *c, const char *dir, const char *name, int split,
                      const char *doc_id, char *err, size_t errlen)
{
    char path[4096];
    FILE *f = open_input(dir, name, path, sizeof(path), err, errlen);
    if (!f)
        return -1;
    skill_file_stats *st = &c->files[c->n_files++];
    st->name = name;
    st->split = split;
    st->language = "da";
    reader r = {c, st, path, 0};
    mts_buf line;
    buf_init(&line);
    char **toks = xmalloc(sizeof(char *) * MAX_TOKENS);
    char *tags = xmalloc(2 * MAX_TOKENS);
    int n = 0, sid = 0, too_long, rc;
    for (;;) {
        rc = read_line(f, &line, &too_long);
        if (rc == 1) {
            r.line++;
            st->lines++;
        }
        size_t len = rc == 1 ? line.len - 1 : 0;
        char *p = (char *)line.data;
        if (rc != 1 || strspn(p, " \t") == len) { /* end of a sentence */
            if (n > 0) {
                char **tv = arena_alloc(&s->arena, sizeof(char *) * (size_t)n);
                memcpy(tv, toks, sizeof(char *) * (size_t)n);
                add_sentence(s, &r, doc_id, sid++, "da", "da", split, tv, n, tags,
                             tags + MAX_TOKENS);
                n = 0;
            }
            if (rc != 1)
                break;
            continue;
        }
        char *t1 = memchr(p, '\t', len);
        char *t2 = t1 ? memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - p)) : NULL;
        if (too_long) {
            malformed(&r, "line longer than %u bytes", MAX_LINE);
        } else if (memchr(p, '\0', len)) {
            malformed(&r, "NUL byte in the line");
        } else if (!t1 || !t2 || memchr(t2 + 1, '\t', len - (size_t)(t2 + 1 - p))) {
            malformed(&r, "not 3 tab-separated fields");
        } else if (t1 == p) {
            malformed(&r, "empty token");
        } else if (!utf8_valid((unsigned char *)p, len)) {
            malformed(&r, "invalid UTF-8");
        } else {
            *t1 = *t2 = '\0';
            if (!tag_valid(t1 + 1) || !tag_valid(t2 + 1)) {
                malformed(&r, "skill tag \"%.20s\" or knowledge tag \"%.20s\" is not BIO", t1 + 1,
                          t2 + 1);
            } else if (n == MAX_TOKENS) {
                malformed(&r, "sentence over %d tokens", MAX_TOKENS);
            } else {
                toks[n] = arena_strndup(&s->arena, p, (size_t)(t1 - p));
                tags[n] = t1[1];
                tags[MAX_TOKENS + n] = t2[1];
                n++;
            }
        }
    }
    if (rc < 0)
        snprintf(err, errlen, "read error on %s: %s", path, strerror(errno));
    free(toks);
    free(tags);
    buf_free(&line);
    fclose(f);
    return rc < 0 ? -1 : 0;
}

static int64_t entity_id_of(const char *key, size_t len)
{
    return (int64_t)(hash64(key, len) >> 1);
}

/* Slot of id in the table: its entry, or the empty slot where it goes. */
static size_t table_slot(const skill_store *s, const skill_corpus *c, int64_t id)
{
    size_t mask = s->cap_table - 1, i = (size_t)mix64((uint64_t)id) & mask;
    while (s->table[i] && c->entity_ids[s->table[i] - 1] != id)
        i = (i + 1) & mask;
    return i;
}

static void table_grow(skill_store *s, skill_corpus *c)
{
    size_t old_cap = s->cap_table;
    size_t *old = s->table;
    s->cap_table = old_cap ? 2 * old_cap : 4096;
    s->table = xcalloc(s->cap_table, sizeof(size_t));
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            s->table[table_slot(s, c, c->entity_ids[old[i] - 1])] = old[i];
    free(old);
}

/* Entity index of a surface form, -1 if absent (-2: its id belongs to
 * another form). */
static long dict_find(const skill_store *s, const skill_corpus *c, const char *key, size_t len)
{
    if (!s->cap_table)
        return -1;
    size_t i = table_slot(s, c, entity_id_of(key, len));
    if (!s->table[i])
        return -1;
    size_t e = s->table[i] - 1;
    return strcmp(c->entities[e], key) == 0 ? (long)e : -2;
}

int64_t skills_entity_id(const char *surface)
{
    mts_buf b;
    buf_init(&b);
    if (utf8_valid((const unsigned char *)surface, strlen(surface)))
        append_lower(&b, surface);
    else
        buf_append(&b, surface, strlen(surface));
    int64_t id = entity_id_of((const char *)b.data, b.len);
    buf_free(&b);
    return id;
}

long skills_entity_index(const skill_corpus *c, int64_t entity_id)
{
    const skill_store *s = c->store;
    if (!s || !s->cap_table)
        return -1;
    size_t i = table_slot(s, c, entity_id);
    return s->table[i] ? (long)(s->table[i] - 1) : -1;
}

static int dict_add(skill_store *s, skill_corpus *c, const char *key, size_t len, char *err,
                    size_t errlen)
{
    long e = dict_find(s, c, key, len);
    if (e == -2) {
        snprintf(err, errlen, "entity id clash: \"%s\" and \"%s\" hash to the same id", key,
                 c->entities[skills_entity_index(c, entity_id_of(key, len))]);
        return -1;
    }
    if (e >= 0)
        return 0;
    if (2 * (c->n_entities + 1) > s->cap_table)
        table_grow(s, c);
    if (c->n_entities == s->cap_entities) {
        s->cap_entities = s->cap_entities ? 2 * s->cap_entities : 1024;
        c->entity_ids = xrealloc(c->entity_ids, sizeof(int64_t) * s->cap_entities);
        c->entities = xrealloc(c->entities, sizeof(char *) * s->cap_entities);
    }
    int64_t id = entity_id_of(key, len);
    c->entity_ids[c->n_entities] = id;
    c->entities[c->n_entities] = arena_strndup(&s->arena, key, len);
    c->n_entities++;
    s->table[table_slot(s, c, id)] = c->n_entities;
    return 0;
}

/* key = lower-cased tokens[start, end) joined by one space, NUL-terminated. */
static void make_key(mts_buf *key, char *const *lower, int start, int end)
{
    buf_reset(key);
    for (int i = start; i < end; i++) {
        if (i > start)
            buf_putc(key, ' ');
        buf_append(key, lower[i], strlen(lower[i]));
    }
    buf_putc(key, 0);
}

/* Lower-cased copies of a sentence's tokens, in the scratch arena. */
static char **lower_tokens(mts_arena *scratch, const sentence *st)
{
    char **lower = arena_alloc(scratch, sizeof(char *) * (size_t)st->n_tokens);
    mts_buf b;
    buf_init(&b);
    for (int i = 0; i < st->n_tokens; i++) {
        buf_reset(&b);
        append_lower(&b, st->tokens[i]);
        lower[i] = arena_strndup(scratch, (char *)b.data, b.len);
    }
    buf_free(&b);
    return lower;
}

static int build_dictionary(skill_store *s, skill_corpus *c, char *err, size_t errlen)
{
    mts_arena scratch;
    arena_init(&scratch, 1 << 16);
    mts_buf key;
    buf_init(&key);
    int rc = 0;
    for (size_t i = 0; i < s->n_sents && rc == 0; i++) {
        const sentence *st = &s->sents[i];
        if (st->split != SKILL_SPLIT_TRAIN)
            continue;
        char **lower = lower_tokens(&scratch, st);
        for (int k = 0; k < st->n_spans && rc == 0; k++) {
            if (st->spans[k].end - st->spans[k].start > SKILL_MAX_SPAN)
                continue;
            make_key(&key, lower, st->spans[k].start, st->spans[k].end);
            rc = dict_add(s, c, (char *)key.data, key.len - 1, err, errlen);
        }
        arena_reset(&scratch);
    }
    buf_free(&key);
    arena_free(&scratch);
    return rc;
}

static void tag_sentences(skill_store *s, skill_corpus *c)
{
    mts_arena scratch;
    arena_init(&scratch, 1 << 16);
    mts_buf key;
    buf_init(&key);
    for (int split = SKILL_SPLIT_TRAIN; split <= SKILL_SPLIT_TEST; split++) {
        for (size_t i = 0; i < s->n_sents; i++) {
            const sentence *st = &s->sents[i];
            if (st->split != split)
                continue;
            char **lower = lower_tokens(&scratch, st);
            for (int a = 0; a < st->n_tokens; a++) {
                for (int len = 1; len <= SKILL_MAX_SPAN && a + len <= st->n_tokens; len++) {
                    make_key(&key, lower, a, a + len);
                    long e = dict_find(s, c, (char *)key.data, key.len - 1);
                    if (e < 0)
                        continue;
                    if (c->n == s->cap_events) {
                        s->cap_events = s->cap_events ? 2 * s->cap_events : 4096;
                        c->events = xrealloc(c->events, sizeof(skill_event) * s->cap_events);
                    }
                    skill_event *ev = &c->events[c->n++];
                    ev->doc_id = st->doc_id;
                    ev->sentence_id = st->sentence_id;
                    ev->domain = st->domain;
                    ev->language = st->language;
                    ev->split = st->split;
                    ev->entity_id = c->entity_ids[e];
                    ev->entity = c->entities[e];
                    ev->tokens = st->tokens;
                    ev->n_tokens = st->n_tokens;
                    ev->span_start = a;
                    ev->span_end = a + len;
                    ev->label = 0;
                    for (int k = 0; k < st->n_spans; k++)
                        if (st->spans[k].start == a && st->spans[k].end == a + len)
                            ev->label = 1;
                }
            }
            arena_reset(&scratch);
        }
    }
    buf_free(&key);
    arena_free(&scratch);
}

int skills_load(const char *data_dir, int include_danish, skill_corpus *out, char *err,
                size_t errlen)
{
    memset(out, 0, sizeof(*out));
    struct stat sb;
    if (!data_dir || !*data_dir) {
        snprintf(err, errlen, "skills data directory not given");
        return -1;
    }
    if (stat(data_dir, &sb) < 0) {
        snprintf(err, errlen, "skills data directory %s: %s", data_dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "skills data directory %s: not a directory", data_dir);
        return -1;
    }
    skill_store *s = xcalloc(1, sizeof(*s));
    arena_init(&s->arena, 1 << 20);
    out->store = s;
    int rc =
        read_skillspan(s, out, data_dir, "skillspan/train.json", SKILL_SPLIT_TRAIN, err, errlen);
    if (rc == 0 && include_danish)
        rc = read_conll(s, out, data_dir, "kompetencer/kompetencer_danish_train.conll",
                        SKILL_SPLIT_TRAIN, "da-train", err, errlen);
    if (rc == 0)
        rc = read_skillspan(s, out, data_dir, "skillspan/dev.json", SKILL_SPLIT_DEV, err, errlen);
    if (rc == 0)
        rc = read_skillspan(s, out, data_dir, "skillspan/test.json", SKILL_SPLIT_TEST, err, errlen);
    if (rc == 0 && include_danish)
        rc = read_conll(s, out, data_dir, "kompetencer/kompetencer_danish_test.conll",
                        SKILL_SPLIT_TEST, "da-test", err, errlen);
    if (rc == 0)
        rc = build_dictionary(s, out, err, errlen);
    if (rc < 0) {
        skills_free(out);
        return -1;
    }
    tag_sentences(s, out);
    if (out->n_malformed)
        log_notice("%s: skipped %zu malformed lines (first: %s)", data_dir, out->n_malformed,
                   out->first_malformed);
    return 0;
}

void skills_free(skill_corpus *c)
{
    skill_store *s = c->store;
    if (s) {
        free(s->sents);
        free(s->table);
        arena_free(&s->arena);
        free(s);
    }
    free(c->events);
    free(c->entity_ids);
    free(c->entities);
    memset(c, 0, sizeof(*c));
}

const char *skill_split_name(int split)
{
    switch (split) {
    case SKILL_SPLIT_TRAIN:
        return "TRAIN";
    case SKILL_SPLIT_DEV:
        return "DEV";
    case SKILL_SPLIT_TEST:
        return "TEST";
    }
    return NULL;
}

json_t *skill_event_to_json(const skill_event *e, int64_t timestamp_ms)
{
    const char *split = skill_split_name(e->split);
    json_t *o = json_object();
    json_object_set_new(o, "doc_id", json_string(e->doc_id));
    json_object_set_new(o, "sentence_id", json_integer(e->sentence_id));
    json_object_set_new(o, "domain", json_string(e->domain));
    json_object_set_new(o, "language", json_string(e->language));
    json_object_set_new(o, "split", json_string(split ? split : "TRAIN"));
    json_object_set_new(o, "entity_id", json_integer(e->entity_id));
    json_object_set_new(o, "entity", json_string(e->entity));
    json_t *toks = json_array();
    for (int i = 0; i < e->n_tokens; i++)
        json_array_append_new(toks, json_string(e->tokens[i]));
    json_object_set_new(o, "tokens", toks);
    json_object_set_new(o, "span_start", json_integer(e->span_start));
    json_object_set_new(o, "span_end", json_integer(e->span_end));
    json_object_set_new(o, "timestamp", json_integer(timestamp_ms));
    json_object_set_new(o, "label", json_boolean(e->label));
    return o;
}
