/* mtl.h - declarative multitask networks: tasks declared as single-task
 * models, sharing found automatically, joint or iterative training.
 *
 * A network is built from the `multitask` section of a libconfig file
 * (documented in conf/multitask-example.conf). Each task declares its model
 * as named towers (stacks of components: an input layer - embedding, bag or
 * ngram - then dense layers) and a head (dot, bilinear or mlp) over the
 * towers' outputs. Components that several tasks declare identically over
 * the same inputs (same layer, same settings, same prefix below it) are built
 * once and shared; the rest belong to one task.
 *
 * Examples reach the network as mtl_example: a task, a label in [0, 1], a
 * weight and one mtl_value per declared input (mtl_input_index gives the
 * slot of an input name). The network never keeps examples after a call.
 * Not thread-safe: one thread per network. With one BLAS thread and the
 * same seed, the same calls give bit-identical parameters. */
#ifndef MTS_MTL_H
#define MTS_MTL_H

#include "common/util.h"

#include <libconfig.h>
#include <stddef.h>
#include <stdint.h>

#define MTL_MAX_TASKS 16
#define MTL_MAX_INPUTS 32
#define MTL_MAX_BATCH (1 << 16)

typedef enum { MTL_IN_ID, MTL_IN_BAG, MTL_IN_TEXT } mtl_input_kind;

/* One input value: id (MTL_IN_ID), ids/n_ids (MTL_IN_BAG), text (MTL_IN_TEXT,
 * NUL-terminated UTF-8; NULL = empty). */
typedef struct {
    int64_t id;
    const int64_t *ids;
    int n_ids;
    const char *text;
} mtl_value;

typedef struct {
    int task;            /* index into the declared tasks */
    float label;         /* in [0, 1] */
    float weight;        /* example weight, finite and >= 0 (1 = plain) */
    int64_t time;        /* clock for table expiry; 0 = the network's event counter */
    const mtl_value *in; /* (mtl_n_inputs) indexed by mtl_input_index */
} mtl_example;

typedef struct mtl_net mtl_net;

/* Build from a `multitask` group. Every impossible or inconsistent setting
 * is refused with its path in err (e.g. distillation with iterative
 * training, joint training of several tasks that share nothing). */
mtl_net *mtl_new(const config_setting_t *multitask, char *err, size_t errlen);
/* Build from the `multitask` section of a file / of libconfig text. */
mtl_net *mtl_new_from_file(const char *path, char *err, size_t errlen);
mtl_net *mtl_new_from_string(const char *text, char *err, size_t errlen);
void mtl_free(mtl_net *n);

int mtl_n_inputs(const mtl_net *n);
const char *mtl_input_name(const mtl_net *n, int i);
mtl_input_kind mtl_input_type(const mtl_net *n, int i);
int mtl_input_index(const mtl_net *n, const char *name); /* -1 if not declared */
int mtl_n_tasks(const mtl_net *n);
const char *mtl_task_name(const mtl_net *n, int t);
const char *mtl_task_label(const mtl_net *n, int t); /* the task's label field name ("" if unset) */
int mtl_task_index(const mtl_net *n, const char *name);

/* Training step(s) on a batch: per-task sampling (keep-rates, importance
 * weights 1/keep), then
 *   joint:     one forward/backward of the weighted combined loss over the
 *              mixed batch (plus distillation), one update;
 *   iterative: for each task with rows in the batch, in task order, a
 *              forward/backward/update on that task's rows alone with its
 *              own optimizer state and learning rate.
 * Unusable rows (task out of range, label or weight not finite or out of
 * range) are skipped and counted. -1 only for a malformed call. */
int mtl_train_batch(mtl_net *n, const mtl_example *ex, int count, char *err, size_t errlen);
/* Probability for each example under its task's head; no rows created, no
 * learning. */
void mtl_predict(mtl_net *n, const mtl_example *ex, int count, float *prob /* (count) */);

/* Logits instead of probabilities (progressive validation feeds an AUC
 * histogram of logits). */
void mtl_predict_logit(mtl_net *n, const mtl_example *ex, int count, float *logit /* (count) */);
/* Change task t's loss_weight while running (SIGHUP reload); -1 if t is out
 * of range or w not finite and >= 0. */
int mtl_set_loss_weight(mtl_net *n, int t, float w);

/* Published towers: `publish = { ENTITY = "task.tower"; ... }` in the
 * multitask section names, per entity (member, company), the tower whose
 * output is that entity's published embedding; the tower's first layer is
 * an embedding table keyed by the entity id (mtl_publish_input names the
 * input). Index by entity name, -1 when not declared. */
int mtl_publish_index(const mtl_net *n, const char *entity);
const char *mtl_publish_tower(const mtl_net *n, int p); /* "task.tower" */
int mtl_publish_width(const mtl_net *n, int p);
const char *mtl_publish_input(const mtl_net *n, int p);
/* The tower's output for id (no row created, nothing learned): -1 if the id
 * has no row (never admitted, expired). */
int mtl_publish_embed(const mtl_net *n, int p, int64_t id, float *out /* (width) */);
int mtl_publish_embed_exists(const mtl_net *n, int p, int64_t id);         /* 1: id has a row */
size_t mtl_publish_ids(const mtl_net *n, int p, int64_t *ids, size_t max); /* ids with a row */
size_t mtl_publish_count(const mtl_net *n, int p);
uint64_t mtl_publish_refused(const mtl_net *n, int p); /* new ids refused: table full */

/* Checkpoints. mtl_state_save appends the whole learning state (dense
 * parameters, optimizer moments and step counts of every node and head,
 * every table with its ids, clocks, accumulators, free list and admission
 * sketch, task-weight state, the sampling generator, counters) to b, after a
 * hash of the network's structure; mtl_state_load restores it into a
 * network freshly built from the same declaration (learning rates and loss
 * weights may differ). Loading checks every length, count and value: -1
 * with a reason (the network must then be freed). Save between steps. */
uint64_t mtl_structure_hash(const mtl_net *n);
void mtl_state_save(const mtl_net *n, mts_buf *b);
int mtl_state_load(mtl_net *n, const uint8_t *p, size_t len, char *err, size_t errlen);

/* Current weight of task t in the combined loss (fixed, exp(-s_t) under
 * uncertainty weighting, or the GradNorm weight). */
float mtl_task_weight(const mtl_net *n, int t);
/* Mean loss of task t in the last step that had its rows (NaN before). */
double mtl_task_loss(const mtl_net *n, int t);
uint64_t mtl_rows_skipped(const mtl_net *n);
/* Hash of every parameter bit (dense, heads, table ids and rows). */
uint64_t mtl_param_hash(const mtl_net *n);
/* Parameters now in use (table rows counted as they exist), and the most
 * they can reach (tables at capacity). */
size_t mtl_param_count(const mtl_net *n);
/* Human-readable split into shared and task-specific components with their
 * parameter counts and users. Returns the length it wanted to write. */
size_t mtl_describe(const mtl_net *n, char *buf, size_t len);

/* For tests (gradient checks): the loss the step would minimise, on the
 * given rows. task_step = -1 is the joint combined loss (weights, uncertainty
 * terms, distillation); task_step = t is task t's iterative step (its loss
 * plus the soft-sharing penalty). mtl_loss only reads; mtl_forward_backward
 * also creates rows and leaves the gradients in place (no update). */
double mtl_loss(mtl_net *n, const mtl_example *ex, int count, int task_step);
double mtl_forward_backward(mtl_net *n, const mtl_example *ex, int count, int task_step);
/* The hinge differentiation loss uses the teacher's decision sign(z_teacher),
 * piecewise constant in the teacher's parameters: its gradient is zero except
 * where a decision flips. With on = 1, mtl_loss reuses the decisions of the
 * last mtl_forward_backward, so finite differences see the function whose
 * gradient the backward computes. */
void mtl_freeze_teacher(mtl_net *n, int on);
/* Pointers to every parameter the step updates (task_step as in mtl_loss:
 * an iterative step updates only its task's parameters; soft-sharing
 * partners are constants in it) and to its gradient after
 * mtl_forward_backward, up to max; returns how many. */
size_t mtl_grad_params(mtl_net *n, int task_step, float **w, float **g, size_t max);

#endif
