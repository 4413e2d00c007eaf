/* model.h - the public model API: multitask affinity + contextual skill model.
 *
 * A model is built from a config (tasks and sizes) and the unified row
 * layout; it binds each task's fields by name once (model_new) and then
 * reads row slots by index. model_train_batch does progressive validation
 * (score every row with the current parameters, update per-task AUC and
 * log-loss) and then one joint learning step per model.
 *
 * Ownership: the model copies the config and does not keep the layout or
 * the rows after a call returns. Not thread-safe: one thread per model. */
#ifndef MTS_MODEL_H
#define MTS_MODEL_H

#include "common/row.h"

#include <stddef.h>
#include <stdint.h>

#define MODEL_MAX_TASKS 16
#define MODEL_MAX_BATCH (1 << 20) /* rows per model_train_batch call */

typedef enum { TASK_AFFINITY, TASK_SKILL } task_kind;

typedef struct {
    char name[64];
    task_kind kind;
    char label_field[64]; /* e.g. "viewed"; FK_LONG (0/1) or FK_DOUBLE in [0, 1] */
    char member_field[64],
        company_field[64]; /* affinity: e.g. "member_id", "company_id" (FK_LONG) */
    float loss_weight;     /* weight of this task's loss in the combined loss, >= 0 */
    float pos_weight;      /* weight of positive examples in the weighted cross-entropy, > 0 */
} model_task_config;

/* Skill tasks read the fixed fields "entity_id" (FK_LONG), "tokens"
 * (FK_STRING_ARRAY), "span_start", "span_end" (FK_LONG), "domain"
 * (FK_STRING) and their label_field, and the optional field "split"
 * (FK_STRING, e.g. the Avro enum Split): a skill row whose split is
 * present and not "TRAIN" (DEV, TEST) is scored by progressive validation
 * but never learned from, and creates no table rows or domains, so
 * held-out annotations stay held out in the service too. */
typedef struct {
    int dim;            /* published embedding width D (default 16) */
    int id_dim;         /* id-embedding width E (default 32) */
    int hidden;         /* tower hidden width H (default 32); also the skill model's hidden width */
    int table_capacity; /* max rows per entity table (default 1,000,000); new ids are refused beyond
                         */
    float lr_dense;     /* Adam learning rate of the dense parameters (default 0.005) */
    float lr_table;     /* Adagrad learning rate of the embedding tables (default 0.05) */
    uint64_t seed;      /* everything random derives from it: same seed, same rows -> same bits */
    int skill_dim;      /* skill entity and n-gram width (default 16) */
    int ngram_buckets;  /* hashed character 3-gram rows (default 262144) */
    int metrics_window; /* events in the "recent" AUC / log-loss window (default 10000) */
    int n_tasks;
    model_task_config tasks[MODEL_MAX_TASKS];
    /* Declared network: a libconfig file whose `multitask` section declares
     * the tasks' models (model/mtl.h); "" = the fixed affinity + skill model
     * above. With it, every task must be declared there under its name,
     * inputs bind to layout fields by name, labels are the declared ones, the
     * sizes above are unused, and member / company embeddings are the
     * outputs of the towers named in multitask.publish. */
    char mtl_file[1024];
} model_config;

void model_config_defaults(model_config *c);

typedef struct mts_model mts_model;

/* Binds fields; the error names a missing or mistyped field and its task. */
mts_model *model_new(const model_config *cfg, const mts_layout *layout, char *err, size_t errlen);
void model_free(mts_model *m);

/* Progressive validation then learning: every row is scored with the current
 * parameters first (per-task AUC/log-loss updated), then one joint step on
 * the batch: per-task weighted losses combined with loss_weight (mean over
 * the batch's rows of that model), one backward pass through the shared
 * towers. Rows are from any task (row->task indexes cfg->tasks).
 * Rows that cannot be used (task out of range, null id, label null, NaN or
 * outside [0, 1]) are skipped and counted (task_metrics.skipped, or
 * model_rows_rejected when the task itself is invalid); they do not fail
 * the batch. Returns -1 only for a malformed call (rows NULL, n < 0 or
 * n > MODEL_MAX_BATCH). */
int model_train_batch(mts_model *m, const mts_row *rows, int n, char *err, size_t errlen);

typedef struct {
    uint64_t events, positives; /* rows scored (progressive validation) and their positives */
    double auc, auc_recent;     /* cumulative and over the last metrics_window events */
    double logloss;             /* cumulative mean log-loss */
    double loss_weight;         /* the task's weight in the combined loss */
    double logloss_recent;      /* mean log-loss over the window */
    uint64_t skipped;           /* rows of this task that could not be used */
    uint64_t held_out;          /* skill rows scored but not learned from (split DEV / TEST) */
} task_metrics;

void model_task_metrics(const mts_model *m, int task, task_metrics *out);
uint64_t model_rows_rejected(const mts_model *m); /* rows with an invalid task index */

typedef enum { ENTITY_MEMBER, ENTITY_COMPANY } entity_kind;

/* Ids whose table row was updated since the last drain (each once), up to
 * max; the rest stay for the next call. Note: the towers are shared, so
 * every embedding drifts a little with every step; the dirty set holds the
 * ids that were trained on, a full snapshot (model_entity_ids) covers drift. */
size_t model_drain_dirty(mts_model *m, entity_kind k, int64_t *ids, size_t max);
/* Put an entity back in the dirty set (its publication failed): -1 if unknown. */
int model_mark_dirty(mts_model *m, entity_kind k, int64_t id);
/* Every entity of kind k dirty: the next rounds publish a full snapshot. */
void model_mark_all_dirty(mts_model *m, entity_kind k);
/* Published embedding (tower output) of id into out (dim); -1 if unknown. */
int model_embedding(const mts_model *m, entity_kind k, int64_t id, float *out /* (dim) */,
                    uint64_t *events_seen);
size_t model_entity_ids(const mts_model *m, entity_kind k, int64_t *ids,
                        size_t max); /* all known ids */
size_t model_entity_count(const mts_model *m, entity_kind k);
uint64_t model_entities_refused(const mts_model *m,
                                entity_kind k); /* new ids turned away: table full */
int model_dim(const mts_model *m);
/* Change a task's loss weight while running (SIGHUP reload). -1 if the task
 * index is out of range or w is not finite and >= 0. */
int model_set_loss_weight(mts_model *m, int task, float w);

/* Skill confidence for one row of a TASK_SKILL task (0..1); -1 if the model
 * has no skill task or the row lacks the fields. Does not learn. */
float model_skill_score(mts_model *m, const mts_row *row);

/* Human-readable split into shared and task-specific parts (for `model
 * describe`). Returns the length written (truncated to len - 1). */
size_t model_describe(const mts_model *m, char *buf, size_t len);

#endif
