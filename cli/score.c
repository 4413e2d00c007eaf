/* score.c - `mtlstream score`: skill confidences from a checkpoint.
 *
 * Loads the model of a checkpoint (model/checkpoint.h: the configuration
 * file gives the sizes, tasks and schemas; a checkpoint for another
 * configuration is refused) and prints, for every <skill entity, sentence>
 * pair, the skill task's confidence (model_skill_score: it never learns).
 * Pairs come from JSON lines in the shape of schemas/skill_annotation.avsc
 * (what `mtlstream gen` writes: tokens, span_start, span_end, domain, and
 * entity_id or entity), from files or stdin, or from --text/--entity: the
 * sentence is split on white space and the first occurrence of the
 * entity's words (case-insensitive) is the span. One JSON object is
 * printed per pair; a bad input line is reported on stderr with its number
 * and skipped, and the exit code is then 1. */
#include "cli/cli.h"

#include "common/log.h"
#include "common/util.h"
#include "consumer/intake.h"
#include "consumer/unify.h"
#include "gen/skills.h"
#include "model/checkpoint.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOKENS 4096
#define MAX_LINE (1 << 20)

typedef struct {
    mts_model *model;
    const mts_layout *layout;
    int task;                                         /* the skill task */
    int f_entity, f_tokens, f_start, f_end, f_domain; /* slots */
    mts_value *v;                                     /* (n_fields) defaults, then the pair */
    mts_str *toks;                                    /* (MAX_TOKENS) */
} scorer;

static void usage(FILE *f)
{
    fprintf(
        f, "usage: mtlstream score -c FILE [--checkpoint PATH] [--domain NAME] [FILE ...]\n"
           "       mtlstream score -c FILE [--checkpoint PATH] [--domain NAME] --text SENTENCE "
           "--entity TERM\n"
           "\n"
           "Print the skill task's confidence (0..1) for <skill entity, sentence> pairs, one JSON "
           "object\n"
           "a line, from the model in a checkpoint. Input: JSON lines shaped like skill_annotation "
           "events\n"
           "(tokens, span_start, span_end, domain, entity_id or entity) from the files or stdin "
           "(\"-\").\n"
           "\n"
           "  -c, --config FILE      the configuration the checkpoint was written with\n"
           "      --checkpoint PATH  checkpoint file (default: service.state_dir/checkpoint, else "
           ".prev)\n"
           "      --text SENTENCE    a sentence, split on white space\n"
           "      --entity TERM      the skill term in it (its first case-insensitive occurrence)\n"
           "      --domain NAME      domain of --text pairs, and of JSON lines without one "
           "(default tech)\n"
           "  -h, --help             this text\n"
           "\n"
           "Exit codes: 0 ok, 1 some input could not be scored, 64 usage, 66 no checkpoint or "
           "input file,\n"
           "78 configuration or checkpoint mismatch.\n");
}

/* Score one pair; -1 with err if the model cannot. */
static int score_pair(scorer *s, int64_t entity, const mts_str *toks, uint32_t n, int64_t start,
                      int64_t end, const char *domain, float *out, char *err, size_t errlen)
{
    if (n == 0 || n > MAX_TOKENS || start < 0 || end <= start || end > (int64_t)n) {
        snprintf(err, errlen, "span [%lld, %lld) is not inside the %u tokens", (long long)start,
                 (long long)end, n);
        return -1;
    }
    mts_value *v = s->v;
    v[s->f_entity] = (mts_value){.present = 1, .u.l = entity};
    v[s->f_tokens] = (mts_value){.present = 1, .n = n, .u.sa = toks};
    v[s->f_start] = (mts_value){.present = 1, .u.l = start};
    v[s->f_end] = (mts_value){.present = 1, .u.l = end};
    v[s->f_domain] = (mts_value){.present = 1, .n = (uint32_t)strlen(domain), .u.s = domain};
    mts_row row = {.task = s->task, .v = v};
    float c = model_skill_score(s->model, &row);
    if (!(c >= 0.0f && c <= 1.0f)) {
        snprintf(err, errlen, "the model gave no score");
        return -1;
    }
    *out = c;
    return 0;
}

static void print_result(const char *entity, int64_t id, int64_t start, int64_t end,
                         const char *domain, float c, const json_t *label)
{
    json_t *o = json_object();
    if (entity)
        json_object_set_new(o, "entity", json_string(entity));
    json_object_set_new(o, "entity_id", json_integer(id));
    json_object_set_new(o, "span_start", json_integer(start));
    json_object_set_new(o, "span_end", json_integer(end));
    json_object_set_new(o, "domain", json_string(domain));
    json_object_set_new(o, "confidence", json_real((double)c));
    if (label)
        json_object_set(o, "label", (json_t *)label);
    char *txt = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (txt)
        puts(txt);
    free(txt);
    json_decref(o);
}

/* One JSON line; 0 scored, -1 with err. */
static int score_json(scorer *s, const char *line, size_t len, const char *dflt_domain, char *err,
                      size_t errlen)
{
    json_error_t je;
    json_t *o = json_loadb(line, len, 0, &je);
    if (!o) {
        snprintf(err, errlen, "bad JSON at column %d: %s", je.column, je.text);
        return -1;
    }
    int rc = -1;
    const json_t *toks = json_object_get(o, "tokens"), *st = json_object_get(o, "span_start"),
                 *en = json_object_get(o, "span_end"), *id = json_object_get(o, "entity_id");
    const char *entity = json_string_value(json_object_get(o, "entity"));
    const char *domain = json_string_value(json_object_get(o, "domain"));
    size_t n = json_array_size(toks);
    if (!json_is_object(o)) {
        snprintf(err, errlen, "not a JSON object");
    } else if (!json_is_array(toks) || n == 0 || n > MAX_TOKENS) {
        snprintf(err, errlen, "tokens missing, empty or over %d", MAX_TOKENS);
    } else if (!json_is_integer(st) || !json_is_integer(en)) {
        snprintf(err, errlen, "span_start and span_end must be integers");
    } else if (!json_is_integer(id) && !entity) {
        snprintf(err, errlen, "neither entity_id (integer) nor entity (string)");
    } else {
        size_t i;
        for (i = 0; i < n && json_is_string(json_array_get(toks, i)); i++) {
            const json_t *t = json_array_get(toks, i);
            s->toks[i] = (mts_str){json_string_value(t), (uint32_t)json_string_length(t)};
        }
        if (i < n) {
            snprintf(err, errlen, "tokens[%zu] is not a string", i);
        } else {
            int64_t eid =
                json_is_integer(id) ? (int64_t)json_integer_value(id) : skills_entity_id(entity);
            const char *d = domain ? domain : dflt_domain;
            float c;
            if (score_pair(s, eid, s->toks, (uint32_t)n, (int64_t)json_integer_value(st),
                           (int64_t)json_integer_value(en), d, &c, err, errlen) == 0) {
                print_result(entity, eid, (int64_t)json_integer_value(st),
                             (int64_t)json_integer_value(en), d, c, json_object_get(o, "label"));
                rc = 0;
            }
        }
    }
    json_decref(o);
    return rc;
}

/* Every line of f; returns the number of bad lines. */
static long score_stream(scorer *s, FILE *f, const char *name, const char *domain)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, bad = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || strspn(line, " \t") == (size_t)len)
            continue;
        char err[256];
        if (len > MAX_LINE)
            snprintf(err, sizeof(err), "line longer than %d bytes", MAX_LINE);
        if (len > MAX_LINE || score_json(s, line, (size_t)len, domain, err, sizeof(err)) < 0) {
            fprintf(stderr, "mtlstream score: %s:%ld: %s\n", name, lineno, err);
            bad++;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "mtlstream score: %s: read error: %s\n", name, strerror(errno));
        bad++;
    }
    free(line);
    return bad;
}

/* --text / --entity; 0 or -1 after printing why. */
static int score_text(scorer *s, const char *text, const char *entity, const char *domain)
{
    char *tbuf = xstrdup(text), *ebuf = xstrdup(entity), *save;
    char *words[MAX_TOKENS];
    int n = 0, m = 0, rc = -1;
    for (char *w = strtok_r(tbuf, " \t\r\n", &save); w && n < MAX_TOKENS;
         w = strtok_r(NULL, " \t\r\n", &save))
        s->toks[n] = (mts_str){w, (uint32_t)strlen(w)}, n++;
    for (char *w = strtok_r(ebuf, " \t\r\n", &save); w && m < MAX_TOKENS;
         w = strtok_r(NULL, " \t\r\n", &save))
        words[m++] = w;
    int start = -1;
    for (int a = 0; m > 0 && a + m <= n && start < 0; a++) {
        int k = 0;
        while (k < m && s->toks[a + k].len == strlen(words[k]) &&
               !strncasecmp(s->toks[a + k].p, words[k], strlen(words[k])))
            k++;
        if (k == m)
            start = a;
    }
    if (start < 0) {
        fprintf(
            stderr,
            "mtlstream score: \"%s\" does not occur in the sentence (words split on white space)\n",
            entity);
    } else {
        mts_buf key;
        buf_init(&key);
        for (int k = 0; k < m; k++) {
            if (k)
                buf_putc(&key, ' ');
            buf_append(&key, words[k], strlen(words[k]));
        }
        buf_putc(&key, 0);
        int64_t id = skills_entity_id((const char *)key.data);
        float c;
        char err[256];
        if (score_pair(s, id, s->toks, (uint32_t)n, start, start + m, domain, &c, err,
                       sizeof(err)) == 0) {
            print_result((const char *)key.data, id, start, start + m, domain, c, NULL);
            rc = 0;
        } else {
            fprintf(stderr, "mtlstream score: %s\n", err);
        }
        buf_free(&key);
    }
    free(tbuf);
    free(ebuf);
    return rc;
}

int score_main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"checkpoint", required_argument, 0, 'k'},
                                         {"text", required_argument, 0, 't'},
                                         {"entity", required_argument, 0, 'e'},
                                         {"domain", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cfg_path = NULL, *ckpt = NULL, *text = NULL, *entity = NULL, *domain = "tech";
    int o;
    while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            cfg_path = optarg;
            break;
        case 'k':
            ckpt = optarg;
            break;
        case 't':
            text = optarg;
            break;
        case 'e':
            entity = optarg;
            break;
        case 'd':
            domain = optarg;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!!text != !!entity || (text && optind < argc)) {
        fprintf(stderr,
                "mtlstream score: --text and --entity go together, and without input files\n");
        return EXIT_USAGE;
    }
    mts_config cfg;
    int rc = cli_load_config(cfg_path, &cfg);
    if (rc)
        return rc;
    char err[1024];
    mts_layout *layout = NULL;
    mts_model *model = NULL;
    ckpt_meta meta;
    ckpt_meta_init(&meta);
    scorer s = {0};
    rc = EXIT_CONFIG;
    if (!(layout = intake_config_layout(&cfg, err, sizeof(err)))) {
        fprintf(stderr, "mtlstream score: %s\n", err);
        goto out;
    }
    model_config mc;
    cli_model_config(&cfg, &mc);
    s.task = -1;
    for (int t = 0; t < mc.n_tasks && s.task < 0; t++)
        if (mc.tasks[t].kind == TASK_SKILL)
            s.task = t;
    if (s.task < 0) {
        fprintf(stderr, "mtlstream score: the configuration has no skill task\n");
        goto out;
    }
    ckpt_status st;
    char used[4096] = "";
    if (ckpt) {
        st = checkpoint_load_file(ckpt, &mc, layout, NULL, &model, &meta, err, sizeof(err));
        snprintf(used, sizeof(used), "%s", ckpt);
    } else {
        st = checkpoint_load_latest(cfg.state_dir, &mc, layout, NULL, &model, &meta, used,
                                    sizeof(used), err, sizeof(err));
    }
    if (st != CKPT_OK) {
        if (st == CKPT_NONE)
            fprintf(stderr, "mtlstream score: no checkpoint %s\n", ckpt ? ckpt : cfg.state_dir);
        else
            fprintf(stderr, "mtlstream score: %s\n", err);
        rc = st == CKPT_NONE || st == CKPT_IOERR ? EXIT_NOINPUT : EXIT_CONFIG;
        goto out;
    }
    log_info("scoring with %s (checkpoint %llu)", used, (unsigned long long)meta.sequence);
    s.model = model;
    s.layout = layout;
    s.f_entity = layout_find(layout, "entity_id");
    s.f_tokens = layout_find(layout, "tokens");
    s.f_start = layout_find(layout, "span_start");
    s.f_end = layout_find(layout, "span_end");
    s.f_domain = layout_find(layout, "domain");
    s.v = xcalloc((size_t)layout->n_fields, sizeof(mts_value));
    for (int i = 0; i < layout->n_fields; i++)
        s.v[i] = layout->fields[i].dflt;
    s.toks = xcalloc(MAX_TOKENS, sizeof(mts_str));
    rc = EXIT_OK;
    if (text) {
        rc = score_text(&s, text, entity, domain) == 0 ? EXIT_OK : EXIT_RUNTIME;
    } else if (optind == argc) {
        rc = score_stream(&s, stdin, "stdin", domain) ? EXIT_RUNTIME : EXIT_OK;
    } else {
        for (int i = optind; i < argc; i++) {
            FILE *f = strcmp(argv[i], "-") ? fopen(argv[i], "r") : stdin;
            if (!f) {
                fprintf(stderr, "mtlstream score: %s: %s\n", argv[i], strerror(errno));
                rc = EXIT_NOINPUT;
                continue;
            }
            if (score_stream(&s, f, argv[i], domain) && rc == EXIT_OK)
                rc = EXIT_RUNTIME;
            if (f != stdin)
                fclose(f);
        }
    }
out:
    free(s.v);
    free(s.toks);
    model_free(model);
    ckpt_meta_free(&meta);
    if (layout)
        layout_free(layout);
    config_free(&cfg);
    return rc;
}
