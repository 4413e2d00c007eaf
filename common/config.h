/* config.h - the service configuration (one libconfig file).
 *
 * Scalar settings are described once, in the table in config.c (path, type,
 * bounds, default, target field), so parsing, validation, defaults and the
 * `config --defaults` listing all come from one place. Lists (tasks, schema
 * ids, librdkafka properties) are parsed by hand next to it.
 *
 * Relative file names in the file (schemas) are resolved against the
 * directory of the configuration file. */
#ifndef MTS_CONFIG_H
#define MTS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes (sysexits.h values), documented in README and --help. */
enum {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1,      /* failure while running (Kafka fatal error, I/O) */
    EXIT_USAGE = 64,       /* bad command line */
    EXIT_NOINPUT = 66,     /* a file named on the command line or in the config is missing */
    EXIT_UNAVAILABLE = 69, /* broker unreachable at start-up */
    EXIT_SOFTWARE = 70,    /* internal error */
    EXIT_CONFIG = 78,      /* configuration file or value invalid */
};

enum { CFG_MAX_TASKS = 16, CFG_MAX_SCHEMAS = 64, CFG_MAX_KAFKA_PROPS = 64 };

typedef struct {
    char *name;        /* task name, unique, e.g. "job_view" */
    char *kind;        /* "affinity" or "skill" */
    char *topic;       /* input topic */
    char *schema_file; /* reader schema (resolved path) */
    char *label;  /* label field (with a multitask section: the declared task's label by default) */
    char *member; /* affinity: member id field */
    char *company;      /* affinity: company id field */
    double loss_weight; /* weight in the combined loss */
    double pos_weight;  /* weight of positive examples in the loss */
} cfg_task;

typedef struct {
    int id;     /* Confluent schema id */
    char *file; /* writer schema file (resolved path) */
} cfg_schema_id;

typedef struct {
    char *path; /* the file this came from */

    /* service */
    char *log_level;           /* err, warning, notice, info, debug */
    char *state_dir;           /* checkpoints and state */
    int status_interval_s;     /* seconds between status log lines */
    char *metrics_listen;      /* HOST:PORT of /metrics and /healthz; "" disables */
    int metrics_allow_remote;  /* 1: a non-loopback metrics_listen is allowed */
    int checkpoint_interval_s; /* checkpoint at least this often while input arrives */
    int checkpoint_events;     /* ... and after this many events (0: no event trigger) */

    /* kafka: librdkafka properties, applied to every client */
    int n_kafka_props;
    char *kafka_keys[CFG_MAX_KAFKA_PROPS];
    char *kafka_values[CFG_MAX_KAFKA_PROPS];

    /* input */
    char *group_id;       /* consumer group */
    char *framing;        /* confluent, single-object or plain */
    int batch_size;       /* rows per training step */
    int batch_latency_ms; /* train a partial batch after this long */
    char *dead_letter_topic;
    int n_schema_ids;
    cfg_schema_id schema_ids[CFG_MAX_SCHEMAS];

    /* tasks */
    int has_multitask; /* 1: a `multitask` section declares the tasks' models (model/mtl.h) */
    int n_tasks;
    cfg_task tasks[CFG_MAX_TASKS];

    /* model */
    int dim, id_dim, hidden, table_capacity, skill_dim, ngram_buckets;
    double lr_dense, lr_table;
    int seed;

    /* output */
    char *member_topic, *company_topic;
    char *output_schema_file;
    int output_schema_id;
    int publish_interval_ms;
    int publish_max_per_s;
    int snapshot_interval_s; /* republish every embedding this often; 0: never */
    int flush_timeout_ms;
} mts_config;

/* Load and validate. On error returns -1 with "file:line: setting: what"
 * in err (the caller exits with EXIT_CONFIG), or -2 when a file the
 * configuration names cannot be read (EXIT_NOINPUT). */
int config_load(const char *path, mts_config *c, char *err, size_t errlen);
void config_free(mts_config *c);
/* Print every scalar setting with its type, bounds and default. */
void config_print_defaults(void);
/* SIGHUP: fresh is the file loaded again. Settings that can change while
 * running (marked in the table: log level, status interval, batch latency,
 * publish interval and rate bound, flush bound) and task loss weights are
 * copied into live and logged; every other difference is refused, logged
 * with a warning and left at its running value. The caller applies the
 * copied values (log level, model loss weights). Returns the number refused. */
typedef struct {
    int applied;                   /* settings copied into live */
    int refused;                   /* differences kept at the running value */
    unsigned loss_weights_changed; /* bit t: tasks[t].loss_weight was copied */
} config_reload_result;
int config_reload(mts_config *live, const mts_config *fresh, config_reload_result *res);
/* Value of a librdkafka property from the kafka section, or NULL. */
const char *config_kafka_prop(const mts_config *c, const char *key);
/* Index of the first task reading topic, or -1 (several tasks may read one
 * topic: the others follow it in the task list). */
int config_task_by_topic(const mts_config *c, const char *topic);

#endif
