/* config.c - see config.h.
 *
 * The table `settings` is the single description of every scalar setting.
 * Loading walks it: a missing setting takes its default, a present one must
 * have the right type and lie within bounds. Any setting in the file that is
 * not in the table (or in the hand-parsed lists) is refused, so a typo does
 * not silently fall back to a default. */
#include "config.h"

#include "kafka.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <unistd.h>
#include <libconfig.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* S_STRING_OPT: a string that may be empty ("" switches the feature off). */
typedef enum { S_INT, S_FLOAT, S_STRING, S_STRING_OPT, S_BOOL } setting_type;

typedef struct {
    const char *path; /* dotted libconfig path */
    setting_type type;
    double min, max;  /* bounds for numbers */
    const char *dflt; /* default, as text */
    size_t offset;    /* target field in mts_config */
    const char *doc;
    int reload; /* 1: SIGHUP applies a new value without a restart */
} setting;

#define F(field) offsetof(mts_config, field)

static const setting settings[] = {
    {"service.log_level", S_STRING, 0, 0, "info", F(log_level), "err|warning|notice|info|debug", 1},
    {"service.state_dir", S_STRING, 0, 0, "/var/lib/mtlstream", F(state_dir),
     "checkpoints and state", 0},
    {"service.status_interval_s", S_INT, 1, 3600, "10", F(status_interval_s),
     "seconds between status lines", 1},
    {"service.checkpoint_interval_s", S_INT, 1, 86400, "30", F(checkpoint_interval_s),
     "seconds between checkpoints (offsets are committed after each)", 0},
    {"service.checkpoint_events", S_INT, 0, 1000000000, "500000", F(checkpoint_events),
     "also checkpoint after this many events (0: time only)", 0},
    {"service.metrics_listen", S_STRING_OPT, 0, 0, "127.0.0.1:9464", F(metrics_listen),
     "HOST:PORT of the /metrics and /healthz endpoint; empty: off", 0},
    {"service.metrics_allow_remote", S_BOOL, 0, 1, "false", F(metrics_allow_remote),
     "allow a non-loopback metrics_listen address", 0},
    {"input.group_id", S_STRING, 0, 0, "mtlstream", F(group_id), "Kafka consumer group", 0},
    {"input.framing", S_STRING, 0, 0, "confluent", F(framing), "confluent|single-object|plain", 0},
    {"input.batch_size", S_INT, 1, 65536, "256", F(batch_size), "rows per training step", 0},
    {"input.batch_latency_ms", S_INT, 1, 600000, "200", F(batch_latency_ms),
     "train a partial batch after this", 1},
    {"input.dead_letter_topic", S_STRING, 0, 0, "mtlstream.deadletter", F(dead_letter_topic),
     "where bad input goes, with the reason in headers", 0},
    {"model.dim", S_INT, 1, 1024, "16", F(dim), "published embedding width", 0},
    {"model.id_dim", S_INT, 1, 1024, "32", F(id_dim), "id embedding width", 0},
    {"model.hidden", S_INT, 1, 4096, "32", F(hidden), "tower hidden width", 0},
    {"model.table_capacity", S_INT, 16, 100000000, "1000000", F(table_capacity),
     "rows per entity table", 0},
    {"model.skill_dim", S_INT, 1, 1024, "16", F(skill_dim), "skill model width", 0},
    {"model.ngram_buckets", S_INT, 16, 16777216, "65536", F(ngram_buckets), "hashed n-gram rows",
     0},
    {"model.lr_dense", S_FLOAT, 0, 10, "0.002", F(lr_dense), "Adam learning rate of dense layers",
     0},
    {"model.lr_table", S_FLOAT, 0, 10, "0.3", F(lr_table), "Adagrad learning rate of tables", 0},
    {"model.seed", S_INT, 0, INT_MAX, "42", F(seed), "initialisation seed", 0},
    {"output.member_topic", S_STRING, 0, 0, "mtlstream.embeddings.members", F(member_topic),
     "member embeddings", 0},
    {"output.company_topic", S_STRING, 0, 0, "mtlstream.embeddings.companies", F(company_topic),
     "company embeddings", 0},
    {"output.schema", S_STRING, 0, 0, "../schemas/embedding.avsc", F(output_schema_file),
     "embedding schema", 0},
    {"output.schema_id", S_INT, 0, INT_MAX, "100", F(output_schema_id),
     "Confluent id written on output", 0},
    {"output.publish_interval_ms", S_INT, 10, 3600000, "1000", F(publish_interval_ms),
     "how often changed embeddings are published", 1},
    {"output.publish_max_per_s", S_INT, 1, 10000000, "100000", F(publish_max_per_s),
     "publish rate bound", 1},
    {"output.flush_timeout_ms", S_INT, 0, 600000, "10000", F(flush_timeout_ms),
     "bound on the final flush", 1},
    {"output.snapshot_interval_s", S_INT, 0, 604800, "3600", F(snapshot_interval_s),
     "republish every embedding this often (0: never)", 1},
};

/* Sections and lists parsed by hand; any other top-level name is refused. */
/* "multitask" is the declared network, read whole by model/mtl.c (which
 * refuses its own unknown names). */
static const char *const hand_parsed[] = {"kafka", "tasks", "input.schemas", "multitask"};

static char **str_field(mts_config *c, const setting *s)
{
    return (char **)((char *)c + s->offset);
}

static int setting_known(const char *path)
{
    for (size_t i = 0; i < ARRAY_LEN(settings); i++)
        if (!strcmp(settings[i].path, path))
            return 1;
    for (size_t i = 0; i < ARRAY_LEN(hand_parsed); i++)
        if (!strcmp(hand_parsed[i], path))
            return 1;
    return 0;
}

static int is_string(const setting *s)
{
    return s->type == S_STRING || s->type == S_STRING_OPT;
}

static int set_default(mts_config *c, const setting *s)
{
    switch (s->type) {
    case S_INT:
        *(int *)((char *)c + s->offset) = atoi(s->dflt);
        break;
    case S_BOOL:
        *(int *)((char *)c + s->offset) = !strcmp(s->dflt, "true");
        break;
    case S_FLOAT:
        *(double *)((char *)c + s->offset) = atof(s->dflt);
        break;
    case S_STRING:
    case S_STRING_OPT:
        *str_field(c, s) = xstrdup(s->dflt);
        break;
    }
    return 0;
}

static char *resolve_path(const char *cfg_path, const char *file)
{
    if (file[0] == '/')
        return xstrdup(file);
    const char *slash = strrchr(cfg_path, '/');
    if (!slash)
        return xstrdup(file);
    size_t dn = (size_t)(slash - cfg_path);
    char *out = xmalloc(dn + 1 + strlen(file) + 1);
    sprintf(out, "%.*s/%s", (int)dn, cfg_path, file);
    return out;
}

#define FAIL_AT(st, ...)                                                                           \
    do {                                                                                           \
        int line_ = (st) ? config_setting_source_line(st) : 0;                                     \
        int n_ = line_ ? snprintf(err, errlen, "%s:%d: ", c->path, line_)                          \
                       : snprintf(err, errlen, "%s: ", c->path);                                   \
        if (n_ >= 0 && (size_t)n_ < errlen)                                                        \
            snprintf(err + n_, errlen - n_, __VA_ARGS__);                                          \
        return -1;                                                                                 \
    } while (0)

static int load_scalar(config_t *cf, mts_config *c, const setting *s, char *err, size_t errlen)
{
    config_setting_t *st = config_lookup(cf, s->path);
    if (!st)
        return set_default(c, s);
    int t = config_setting_type(st);
    if (s->type == S_BOOL) {
        if (t != CONFIG_TYPE_BOOL)
            FAIL_AT(st, "%s: expected true or false", s->path);
        *(int *)((char *)c + s->offset) = config_setting_get_bool(st);
        return 0;
    }
    if (is_string(s)) {
        if (t != CONFIG_TYPE_STRING)
            FAIL_AT(st, "%s: expected a string", s->path);
        const char *v = config_setting_get_string(st);
        if (!*v && s->type == S_STRING)
            FAIL_AT(st, "%s: must not be empty", s->path);
        *str_field(c, s) = xstrdup(v);
        return 0;
    }
    double v;
    if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
        v = (double)config_setting_get_int64(st);
    else if (t == CONFIG_TYPE_FLOAT && s->type == S_FLOAT)
        v = config_setting_get_float(st);
    else
        FAIL_AT(st, "%s: expected %s", s->path, s->type == S_INT ? "an integer" : "a number");
    if (!(v >= s->min && v <= s->max))
        FAIL_AT(st, "%s: %g is out of range [%g, %g]", s->path, v, s->min, s->max);
    if (s->type == S_INT)
        *(int *)((char *)c + s->offset) = (int)v;
    else
        *(double *)((char *)c + s->offset) = v;
    return 0;
}

/* Refuse names the table does not know (typos). */
static int check_unknown(config_setting_t *group, const char *prefix, mts_config *c, char *err,
                         size_t errlen)
{
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        config_setting_t *st = config_setting_get_elem(group, i);
        const char *name = config_setting_name(st);
        if (!name)
            continue;
        char path[256];
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name);
        if (setting_known(path))
            continue;
        if (config_setting_is_group(st) && !*prefix) {
            if (check_unknown(st, path, c, err, errlen))
                return -1;
            continue;
        }
        FAIL_AT(st, "%s: unknown setting (see conf/mtlstream.conf for the documented ones)", path);
    }
    return 0;
}

static int load_kafka(config_t *cf, mts_config *c, char *err, size_t errlen)
{
    config_setting_t *g = config_lookup(cf, "kafka");
    if (!g)
        return 0;
    if (!config_setting_is_group(g))
        FAIL_AT(g, "kafka: expected a group of librdkafka properties");
    int n = config_setting_length(g);
    if (n > CFG_MAX_KAFKA_PROPS)
        FAIL_AT(g, "kafka: more than %d properties", CFG_MAX_KAFKA_PROPS);
    for (int i = 0; i < n; i++) {
        config_setting_t *st = config_setting_get_elem(g, i);
        char key[256];
        snprintf(key, sizeof(key), "%s", config_setting_name(st));
        /* libconfig names cannot hold dots: bootstrap_servers means bootstrap.servers. */
        for (char *p = key; *p; p++)
            if (*p == '_')
                *p = '.';
        char num[32];
        const char *val = num; /* strings are taken whole: PEM certificates are long */
        switch (config_setting_type(st)) {
        case CONFIG_TYPE_STRING:
            val = config_setting_get_string(st);
            break;
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64:
            snprintf(num, sizeof(num), "%lld", (long long)config_setting_get_int64(st));
            break;
        case CONFIG_TYPE_BOOL:
            snprintf(num, sizeof(num), "%s", config_setting_get_bool(st) ? "true" : "false");
            break;
        default:
            FAIL_AT(st, "kafka.%s: expected a string, integer or boolean", config_setting_name(st));
        }
        if (kafka_prop_is_secret(key))
            log_redact(val); /* from now on no log line can show it */
        c->kafka_keys[c->n_kafka_props] = xstrdup(key);
        c->kafka_values[c->n_kafka_props] = xstrdup(val);
        c->n_kafka_props++;
    }
    return 0;
}

static int get_str(config_setting_t *g, const char *name, const char *dflt, char **out,
                   mts_config *c, char *err, size_t errlen)
{
    config_setting_t *st = config_setting_get_member(g, name);
    if (!st) {
        if (!dflt)
            FAIL_AT(g, "tasks: task needs \"%s\"", name);
        *out = xstrdup(dflt);
        return 0;
    }
    if (config_setting_type(st) != CONFIG_TYPE_STRING || !*config_setting_get_string(st))
        FAIL_AT(st, "tasks.%s: expected a non-empty string", name);
    *out = xstrdup(config_setting_get_string(st));
    return 0;
}

static int get_num(config_setting_t *g, const char *name, double dflt, double min, double max,
                   double *out, mts_config *c, char *err, size_t errlen)
{
    config_setting_t *st = config_setting_get_member(g, name);
    if (!st) {
        *out = dflt;
        return 0;
    }
    int t = config_setting_type(st);
    if (t == CONFIG_TYPE_FLOAT)
        *out = config_setting_get_float(st);
    else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
        *out = (double)config_setting_get_int64(st);
    else
        FAIL_AT(st, "tasks.%s: expected a number", name);
    if (!(*out >= min && *out <= max))
        FAIL_AT(st, "tasks.%s: %g is out of range [%g, %g]", name, *out, min, max);
    return 0;
}

static const char *const task_keys[] = {"name",   "kind",    "topic",       "schema",    "label",
                                        "member", "company", "loss_weight", "pos_weight"};

/* The label a task declares in multitask.tasks, or NULL. */
static const char *declared_label(config_t *cf, const char *task)
{
    config_setting_t *l = config_lookup(cf, "multitask.tasks");
    for (int i = 0; l && config_setting_is_list(l) && i < config_setting_length(l); i++) {
        config_setting_t *g = config_setting_get_elem(l, i);
        const char *name, *label;
        if (config_setting_is_group(g) && config_setting_lookup_string(g, "name", &name) &&
            !strcmp(name, task) && config_setting_lookup_string(g, "label", &label) && *label)
            return label;
    }
    return NULL;
}

static int load_tasks(config_t *cf, mts_config *c, char *err, size_t errlen)
{
    config_setting_t *l = config_lookup(cf, "tasks");
    if (!l)
        FAIL_AT(config_root_setting(cf), "tasks: at least one task is required");
    if (!config_setting_is_list(l))
        FAIL_AT(l, "tasks: expected a list ( {...}, {...} )");
    int n = config_setting_length(l);
    if (n < 1 || n > CFG_MAX_TASKS)
        FAIL_AT(l, "tasks: between 1 and %d tasks", CFG_MAX_TASKS);
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(l, i);
        if (!config_setting_is_group(g))
            FAIL_AT(g, "tasks: each task is a group { name = ...; ... }");
        for (int k = 0; k < config_setting_length(g); k++) {
            const char *key = config_setting_name(config_setting_get_elem(g, k));
            int ok = 0;
            for (size_t j = 0; j < ARRAY_LEN(task_keys); j++)
                ok |= !strcmp(key, task_keys[j]);
            if (!ok)
                FAIL_AT(config_setting_get_elem(g, k), "tasks.%s: unknown task setting", key);
        }
        cfg_task *t = &c->tasks[c->n_tasks++];
        char *schema = NULL;
        if (get_str(g, "name", NULL, &t->name, c, err, errlen) ||
            get_str(g, "kind", "affinity", &t->kind, c, err, errlen) ||
            get_str(g, "topic", NULL, &t->topic, c, err, errlen) ||
            get_str(g, "schema", NULL, &schema, c, err, errlen) ||
            get_str(g, "label", c->has_multitask ? "" : NULL, &t->label, c, err, errlen) ||
            get_str(g, "member", "member_id", &t->member, c, err, errlen) ||
            get_str(g, "company", "company_id", &t->company, c, err, errlen) ||
            get_num(g, "loss_weight", 1.0, 0.0, 1000.0, &t->loss_weight, c, err, errlen) ||
            get_num(g, "pos_weight", 1.0, 1e-6, 1e6, &t->pos_weight, c, err, errlen)) {
            free(schema);
            return -1;
        }
        t->schema_file = resolve_path(c->path, schema);
        free(schema);
        if (c->has_multitask) { /* the declared model names the label; a task's own label must agree
                                 */
            const char *dl = declared_label(cf, t->name);
            if (!dl && !*t->label)
                FAIL_AT(g,
                        "tasks: task %s has no model in multitask.tasks (declare one under that "
                        "name, with its label)",
                        t->name);
            if (dl && *t->label && strcmp(dl, t->label))
                FAIL_AT(
                    g,
                    "tasks.label: task %s reads label \"%s\" but multitask.tasks declares \"%s\"",
                    t->name, t->label, dl);
            if (dl && !*t->label) {
                free(t->label);
                t->label = xstrdup(dl);
            }
        }
        if (strcmp(t->kind, "affinity") && strcmp(t->kind, "skill"))
            FAIL_AT(g, "tasks.kind: \"%s\" is not one of affinity, skill", t->kind);
        /* Several tasks may read one topic (each message becomes one row per
         * task, e.g. job applies as a down-sampled view stream with its own
         * label); they must then read it with the same framing of the same
         * records, which the intake checks when it compiles their plans. */
        for (int j = 0; j < c->n_tasks - 1; j++)
            if (!strcmp(c->tasks[j].name, t->name))
                FAIL_AT(g, "tasks.name: \"%s\" is declared twice", t->name);
    }
    return 0;
}

static int load_schema_ids(config_t *cf, mts_config *c, char *err, size_t errlen)
{
    config_setting_t *l = config_lookup(cf, "input.schemas");
    if (!l)
        return 0;
    if (!config_setting_is_list(l))
        FAIL_AT(l, "input.schemas: expected a list ( { id = 1; file = \"...\"; }, ... )");
    int n = config_setting_length(l);
    if (n > CFG_MAX_SCHEMAS)
        FAIL_AT(l, "input.schemas: at most %d entries", CFG_MAX_SCHEMAS);
    for (int i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(l, i);
        int id;
        const char *file;
        if (!config_setting_is_group(g) || !config_setting_lookup_int(g, "id", &id) ||
            !config_setting_lookup_string(g, "file", &file))
            FAIL_AT(g, "input.schemas: each entry needs an integer id and a file");
        if (id < 0)
            FAIL_AT(g, "input.schemas.id: %d is negative", id);
        for (int j = 0; j < c->n_schema_ids; j++)
            if (c->schema_ids[j].id == id)
                FAIL_AT(g, "input.schemas.id: %d is listed twice", id);
        c->schema_ids[c->n_schema_ids].id = id;
        c->schema_ids[c->n_schema_ids].file = resolve_path(c->path, file);
        c->n_schema_ids++;
    }
    return 0;
}

/* -2 with "file:line: setting: FILE: cannot read (why)" unless file is readable. */
static int check_file(const config_setting_t *st, const char *name, const char *file,
                      const mts_config *c, char *err, size_t errlen)
{
    if (access(file, R_OK) == 0)
        return 0;
    snprintf(err, errlen, "%s:%d: %s: %s: cannot read (%s)", c->path,
             st ? config_setting_source_line(st) : 0, name, file, strerror(errno));
    return -2;
}

/* Every file the configuration names must be readable: a missing one is its
 * own kind of error (exit 66), reported at its line before anything starts. */
static int check_files(config_t *cf, const mts_config *c, char *err, size_t errlen)
{
    config_setting_t *tasks = config_lookup(cf, "tasks");
    for (int t = 0; t < c->n_tasks; t++) {
        config_setting_t *g = tasks ? config_setting_get_elem(tasks, t) : NULL;
        config_setting_t *st = g ? config_setting_get_member(g, "schema") : NULL;
        if (check_file(st, "tasks.schema", c->tasks[t].schema_file, c, err, errlen))
            return -2;
    }
    config_setting_t *ids = config_lookup(cf, "input.schemas");
    for (int i = 0; i < c->n_schema_ids; i++)
        if (check_file(ids ? config_setting_get_elem(ids, i) : NULL, "input.schemas.file",
                       c->schema_ids[i].file, c, err, errlen))
            return -2;
    return check_file(config_lookup(cf, "output.schema"), "output.schema", c->output_schema_file, c,
                      err, errlen);
}

int config_load(const char *path, mts_config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->path = xstrdup(path);
    for (size_t i = 0; i < ARRAY_LEN(settings); i++)
        if (is_string(&settings[i]))
            *str_field(c, &settings[i]) = NULL;

    config_t cf;
    config_init(&cf);
    int rc = -1;
    if (!config_read_file(&cf, path)) {
        if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
            snprintf(err, errlen, "%s: cannot read the file", path);
        else
            snprintf(err, errlen, "%s:%d: %s",
                     config_error_file(&cf) ? config_error_file(&cf) : path, config_error_line(&cf),
                     config_error_text(&cf));
        goto out;
    }
    if (check_unknown(config_root_setting(&cf), "", c, err, errlen))
        goto out;
    {
        config_setting_t *mt = config_lookup(&cf, "multitask");
        if (mt && !config_setting_is_group(mt)) {
            snprintf(err, errlen,
                     "%s:%d: multitask: expected a group { mechanism = ...; tasks = (...); }", path,
                     config_setting_source_line(mt));
            goto out;
        }
        c->has_multitask = mt != NULL;
    }
    for (size_t i = 0; i < ARRAY_LEN(settings); i++)
        if (load_scalar(&cf, c, &settings[i], err, errlen))
            goto out;
    if (load_kafka(&cf, c, err, errlen) || load_tasks(&cf, c, err, errlen) ||
        load_schema_ids(&cf, c, err, errlen))
        goto out;
    if (log_level_from_name(c->log_level) < 0) {
        config_setting_t *st = config_lookup(&cf, "service.log_level");
        snprintf(err, errlen,
                 "%s:%d: service.log_level: \"%s\" is not one of err, warning, notice, info, debug",
                 path, st ? config_setting_source_line(st) : 0, c->log_level);
        goto out;
    }
    {
        char *f = c->output_schema_file;
        c->output_schema_file = resolve_path(path, f);
        free(f);
        f = c->state_dir;
        c->state_dir = resolve_path(path, f);
        free(f);
    }
    if (strcmp(c->framing, "confluent") && strcmp(c->framing, "single-object") &&
        strcmp(c->framing, "plain")) {
        config_setting_t *st = config_lookup(&cf, "input.framing");
        snprintf(err, errlen,
                 "%s:%d: input.framing: \"%s\" is not one of confluent, single-object, plain", path,
                 st ? config_setting_source_line(st) : 0, c->framing);
        goto out;
    }
    rc = check_files(&cf, c, err, errlen);
out:
    config_destroy(&cf);
    return rc;
}

void config_free(mts_config *c)
{
    for (size_t i = 0; i < ARRAY_LEN(settings); i++)
        if (is_string(&settings[i]))
            free(*str_field(c, &settings[i]));
    for (int i = 0; i < c->n_kafka_props; i++) {
        free(c->kafka_keys[i]);
        free(c->kafka_values[i]);
    }
    for (int i = 0; i < c->n_tasks; i++) {
        cfg_task *t = &c->tasks[i];
        free(t->name);
        free(t->kind);
        free(t->topic);
        free(t->schema_file);
        free(t->label);
        free(t->member);
        free(t->company);
    }
    for (int i = 0; i < c->n_schema_ids; i++)
        free(c->schema_ids[i].file);
    free(c->path);
    memset(c, 0, sizeof(*c));
}

void config_print_defaults(void)
{
    for (size_t i = 0; i < ARRAY_LEN(settings); i++) {
        const setting *s = &settings[i];
        const char *live = s->reload ? "  (SIGHUP reloads it)" : "";
        if (is_string(s))
            printf("%-28s string  default \"%s\"  %s%s\n", s->path, s->dflt, s->doc, live);
        else if (s->type == S_BOOL)
            printf("%-28s bool    default %s  %s%s\n", s->path, s->dflt, s->doc, live);
        else
            printf("%-28s %-7s default %s  [%g, %g]  %s%s\n", s->path,
                   s->type == S_INT ? "int" : "float", s->dflt, s->min, s->max, s->doc, live);
    }
}

const char *config_kafka_prop(const mts_config *c, const char *key)
{
    for (int i = 0; i < c->n_kafka_props; i++)
        if (!strcmp(c->kafka_keys[i], key))
            return c->kafka_values[i];
    return NULL;
}

int config_task_by_topic(const mts_config *c, const char *topic)
{
    for (int i = 0; i < c->n_tasks; i++)
        if (!strcmp(c->tasks[i].topic, topic))
            return i;
    return -1;
}

/* Reload --------------------------------------------------------------- */

static int str_differs(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") != 0;
}

/* Text of a scalar setting's value, for the reload log. */
static void scalar_text(const mts_config *c, const setting *s, char *out, size_t n)
{
    const char *p = (const char *)c + s->offset;
    if (is_string(s))
        snprintf(out, n, "\"%s\"", *(char *const *)p ? *(char *const *)p : "");
    else if (s->type == S_FLOAT)
        snprintf(out, n, "%g", *(const double *)p);
    else if (s->type == S_BOOL)
        snprintf(out, n, "%s", *(const int *)p ? "true" : "false");
    else
        snprintf(out, n, "%d", *(const int *)p);
}

static int scalar_differs(const mts_config *a, const mts_config *b, const setting *s)
{
    const char *pa = (const char *)a + s->offset, *pb = (const char *)b + s->offset;
    if (is_string(s))
        return str_differs(*(char *const *)pa, *(char *const *)pb);
    if (s->type == S_FLOAT)
        return *(const double *)pa != *(const double *)pb;
    return *(const int *)pa != *(const int *)pb;
}

static void refuse(int *refused, const char *what)
{
    (*refused)++;
    log_warn("reload: refused: %s changed; it needs a restart (the running value is kept)", what);
}

int config_reload(mts_config *live, const mts_config *fresh, config_reload_result *res)
{
    memset(res, 0, sizeof(*res));
    for (size_t i = 0; i < ARRAY_LEN(settings); i++) {
        const setting *s = &settings[i];
        if (!scalar_differs(live, fresh, s))
            continue;
        char before[128], after[128];
        scalar_text(live, s, before, sizeof(before));
        scalar_text(fresh, s, after, sizeof(after));
        if (!s->reload) {
            char what[512];
            snprintf(what, sizeof(what), "%s (%s -> %s)", s->path, before, after);
            refuse(&res->refused, what);
            continue;
        }
        char *pl = (char *)live + s->offset;
        const char *pf = (const char *)fresh + s->offset;
        if (is_string(s)) {
            free(*(char **)pl);
            *(char **)pl = xstrdup(*(char *const *)pf);
        } else if (s->type == S_FLOAT) {
            *(double *)pl = *(const double *)pf;
        } else {
            *(int *)pl = *(const int *)pf;
        }
        res->applied++;
        log_notice("reload: %s: %s -> %s", s->path, before, after);
    }
    int same_kafka = live->n_kafka_props == fresh->n_kafka_props;
    for (int i = 0; same_kafka && i < live->n_kafka_props; i++)
        same_kafka = !str_differs(live->kafka_keys[i], fresh->kafka_keys[i]) &&
                     !str_differs(live->kafka_values[i], fresh->kafka_values[i]);
    if (!same_kafka)
        refuse(&res->refused, "the kafka section"); /* values may be secrets: not shown */
    int same_ids = live->n_schema_ids == fresh->n_schema_ids;
    for (int i = 0; same_ids && i < live->n_schema_ids; i++)
        same_ids = live->schema_ids[i].id == fresh->schema_ids[i].id &&
                   !str_differs(live->schema_ids[i].file, fresh->schema_ids[i].file);
    if (!same_ids)
        refuse(&res->refused, "input.schemas");
    if (live->n_tasks != fresh->n_tasks) {
        char what[128];
        snprintf(what, sizeof(what), "the task list (%d -> %d tasks)", live->n_tasks,
                 fresh->n_tasks);
        refuse(&res->refused, what);
        return res->refused;
    }
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        {"name", offsetof(cfg_task, name)},      {"kind", offsetof(cfg_task, kind)},
        {"topic", offsetof(cfg_task, topic)},    {"schema", offsetof(cfg_task, schema_file)},
        {"label", offsetof(cfg_task, label)},    {"member", offsetof(cfg_task, member)},
        {"company", offsetof(cfg_task, company)}};
    for (int t = 0; t < live->n_tasks; t++) {
        cfg_task *a = &live->tasks[t];
        const cfg_task *b = &fresh->tasks[t];
        for (size_t f = 0; f < ARRAY_LEN(fields); f++) {
            const char *va = *(char *const *)((const char *)a + fields[f].off);
            const char *vb = *(char *const *)((const char *)b + fields[f].off);
            if (str_differs(va, vb)) {
                char what[512];
                snprintf(what, sizeof(what), "tasks[%s].%s (\"%s\" -> \"%s\")", a->name,
                         fields[f].name, va, vb);
                refuse(&res->refused, what);
            }
        }
        if (a->pos_weight != b->pos_weight) {
            char what[256];
            snprintf(what, sizeof(what), "tasks[%s].pos_weight (%g -> %g)", a->name, a->pos_weight,
                     b->pos_weight);
            refuse(&res->refused, what);
        }
        if (a->loss_weight != b->loss_weight) {
            log_notice("reload: tasks[%s].loss_weight: %g -> %g", a->name, a->loss_weight,
                       b->loss_weight);
            a->loss_weight = b->loss_weight;
            res->loss_weights_changed |= 1u << t;
            res->applied++;
        }
    }
    return res->refused;
}
