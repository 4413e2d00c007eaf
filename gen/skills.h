/* skills.h - skill-annotation events from the real annotated job postings.
 *
 * Reads the data set described in ../shared/data/skills/README.md:
 *   skillspan/{train,dev,test}.json   SkillSpan, English, one JSON object a
 *       line: idx, tokens, tags_skill, tags_knowledge (BIO), source
 *   kompetencer/kompetencer_danish_{train,test}.conll   Kompetencer, Danish:
 *       token TAB skill-BIO TAB knowledge-BIO, a whitespace-only line
 *       between sentences (include_danish only)
 * and turns the annotations into <entity, sentence> candidate events with
 * the README's recipe:
 *   - entity dictionary: the lower-cased surface forms (tokens joined by one
 *     space) of the annotated skill and knowledge spans of up to 4 tokens of
 *     the TRAINING split(s); id = the 63-bit hash of the surface form
 *     (hash64 >> 1), so ids are deterministic and do not depend on load
 *     order; with include_danish the Danish training spans join the same
 *     dictionary;
 *   - tagger: every occurrence (every start, lengths 1..4) of a dictionary
 *     entry in every sentence of every split;
 *   - label 1 if the occurrence is exactly an annotated span (skill or
 *     knowledge), else 0.
 * English only this gives 2,681 entities and train 20,101 candidates
 * (4,065 positive), dev 7,670 (670), test 7,710 (823), the README's
 * figures. With Danish the union dictionary adds one English train
 * candidate.
 *
 * Event fields: domain = SkillSpan's source ("tech" / "house") or "da";
 * language "en" / "da"; doc_id "<source>-<idx>" (e.g. "tech-12"; idx
 * numbers restart in every split, so (split, doc_id) names a posting) or
 * "da-train" / "da-test" (Kompetencer has no posting boundaries: one
 * pseudo-document per file); sentence_id = position of the sentence in its
 * posting (SkillSpan: in its run of consecutive lines with the same posting)
 * or in its file (Kompetencer).
 *
 * Order (deterministic): TRAIN, then DEV, then TEST; within a split
 * SkillSpan before Kompetencer, file order; within a sentence by span start,
 * then span length.
 *
 * Malformed input (bad JSON or UTF-8, missing or mistyped fields, tags and
 * tokens of different lengths, a tag that is not BIO, a line over 1 MiB or
 * a sentence over 4096 tokens) is logged with file:line, counted and
 * skipped: a bad JSON line drops that sentence, a bad CoNLL line drops that
 * token line. skills_load fails only when the directory or a file cannot
 * be opened or read. BIO spans are read leniently (an I without a B starts
 * a span), as conlleval does. */
#ifndef MTS_GEN_SKILLS_H
#define MTS_GEN_SKILLS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum { SKILL_SPLIT_TRAIN = 0, SKILL_SPLIT_DEV = 1, SKILL_SPLIT_TEST = 2 };
#define SKILL_MAX_SPAN 4 /* tokens, dictionary entries and candidates */

/* Every pointer is owned by the corpus and lives until skills_free. The
 * tokens of one sentence are shared by all its events. */
typedef struct {
    char *doc_id;
    int sentence_id;
    const char *domain;   /* "tech", "house", "da" */
    const char *language; /* "en", "da" */
    int split;            /* SKILL_SPLIT_* */
    int64_t entity_id;
    char *entity;  /* lower-cased surface form */
    char **tokens; /* (n_tokens) the sentence, original case */
    int n_tokens;
    int span_start, span_end; /* candidate tokens [span_start, span_end) */
    int label;
} skill_event;

/* Counts per input file, to compare with the README's tables. */
typedef struct {
    const char *name; /* e.g. "skillspan/train.json" */
    int split;
    const char *language;
    size_t lines;     /* lines read */
    size_t sentences; /* sentences kept */
    size_t skill_spans, knowledge_spans;
    size_t malformed; /* lines skipped */
} skill_file_stats;

typedef struct skill_store skill_store;

typedef struct {
    skill_event *events; /* (n) */
    size_t n;
    size_t n_entities;
    int64_t *entity_ids; /* (n_entities) in order of first appearance in training */
    char **entities;     /* (n_entities) their surface forms */
    size_t n_sentences;
    size_t n_malformed;        /* lines skipped, all files */
    char first_malformed[256]; /* "file:line: reason" of the first one, or "" */
    skill_file_stats files[5];
    int n_files;
    skill_store *store; /* private storage */
} skill_corpus;

/* Load and build the events. data_dir holds skillspan/ (and kompetencer/
 * when include_danish). 0, or -1 with a message in err (nothing to free). */
int skills_load(const char *data_dir, int include_danish, skill_corpus *out, char *err,
                size_t errlen);
void skills_free(skill_corpus *c);

/* The entity id of a surface form (tokens joined by one space): hash of
 * its lower-cased form, as the dictionary makes it. */
int64_t skills_entity_id(const char *surface);

/* Index of an entity id in c->entity_ids, or -1. */
long skills_entity_index(const skill_corpus *c, int64_t entity_id);

/* The event as a JSON object in the shape of schemas/skill_annotation.avsc.
 * Caller decrefs. */
json_t *skill_event_to_json(const skill_event *e, int64_t timestamp_ms);
const char *skill_split_name(int split); /* "TRAIN", "DEV", "TEST" */

#endif
