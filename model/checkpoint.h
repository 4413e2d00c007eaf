/* checkpoint.h - durable snapshots of the whole learning state.
 *
 * A checkpoint holds everything needed to resume as if the process had never
 * stopped: the model (dense parameters, Adam step and moments, embedding
 * tables with ids, rows, Adagrad accumulators, event counters and dirty
 * flags, skill domains), the per-task progressive-validation histograms, and
 * beside it (ckpt_meta) the input position: per (topic, partition) the next
 * offset to read and how many events of that partition were learned from or
 * dead-lettered, per-task counters, the schema fingerprints of the tasks and
 * a description of the model-relevant configuration.
 *
 * File format (version 1, little-endian):
 *   header   "MTSCKPT\n" | u32 version | u32 0 | u64 CRC-64-AVRO of the 16 bytes before
 *   section* u32 tag | u32 0 | u64 length | payload (length bytes) | u64 CRC of tag..payload
 *   END      a last section holding the count of sections and bytes before it
 * Loading checks every length against the bytes left, every checksum, the
 * section set, every count against the configured sizes and every value's
 * range; the model is built in a fresh object that is freed on any error, so
 * a checkpoint is either loaded whole or not at all.
 *
 * Durability (checkpoint_save): write DIR/checkpoint.tmp (mode 0600), fsync,
 * hard-link the current DIR/checkpoint to DIR/checkpoint.prev, rename the
 * temporary file over DIR/checkpoint, fsync DIR. A crash at any instant
 * leaves DIR/checkpoint whole (old or new); a failed write leaves it as it was.
 *
 * Configuration match: the checkpoint stores a text listing every setting
 * that shapes the state (sizes, seed, metrics window, tasks with their kinds
 * and fields); learning rates and loss weights are NOT part of it, so they
 * can be tuned across a restart. A differing text or schema fingerprint is
 * refused (CKPT_MISMATCH) with the first difference named. */
#ifndef MTS_CHECKPOINT_H
#define MTS_CHECKPOINT_H

#include "common/row.h"
#include "model/model.h"

#include <stddef.h>
#include <stdint.h>

#define CKPT_VERSION 1
#define CKPT_NAME "checkpoint"
#define CKPT_PREV_NAME "checkpoint.prev"
#define CKPT_TMP_NAME "checkpoint.tmp"
#define CKPT_MAX_TOPIC 250
#define CKPT_MAX_PARTITIONS 100000
#define CKPT_MAX_CONFIG_TEXT 8192

typedef struct {
    char topic[CKPT_MAX_TOPIC];
    int32_t partition;
    int64_t next_offset; /* first offset whose effect is NOT in the checkpoint */
    uint64_t learned;    /* events of this partition learned from (in the model) */
    uint64_t
        dead_lettered; /* events of this partition rejected and sent to the dead-letter topic */
} ckpt_partition;

typedef struct {
    int64_t created_ms;                     /* wall clock at writing */
    uint64_t sequence;                      /* checkpoints written before this one, plus one */
    char config_text[CKPT_MAX_CONFIG_TEXT]; /* checkpoint_config_text() */
    int n_tasks;
    uint64_t schema_fp[MODEL_MAX_TASKS]; /* CRC-64-AVRO fingerprint of each task's reader schema */
    uint64_t task_learned[MODEL_MAX_TASKS]; /* events per task learned from */
    uint64_t task_dead[MODEL_MAX_TASKS];    /* events per task dead-lettered */
    int n_parts, cap_parts;
    ckpt_partition *parts; /* (n_parts) */
} ckpt_meta;

typedef enum {
    CKPT_OK = 0,
    CKPT_NONE = 1,      /* no checkpoint file */
    CKPT_CORRUPT = -1,  /* truncated, bad checksum, bad value */
    CKPT_MISMATCH = -2, /* whole and valid, but for another configuration or schema */
    CKPT_IOERR = -3,    /* could not be read */
} ckpt_status;

void ckpt_meta_init(ckpt_meta *m);
void ckpt_meta_free(ckpt_meta *m);
/* Entry of (topic, partition); created (zeroed, next_offset -1) if create. */
ckpt_partition *ckpt_meta_part(ckpt_meta *m, const char *topic, int32_t partition, int create);

/* The model-relevant settings as "key=value;" text (see the top comment). */
void checkpoint_config_text(const model_config *c, char *out, size_t len);

/* Serialise model and meta into path (created 0600 or truncated), fsync it. */
int checkpoint_write_file(const char *path, const mts_model *m, const ckpt_meta *meta, char *err,
                          size_t errlen);
/* The durable sequence above in dir. On failure DIR/checkpoint is untouched. */
int checkpoint_save(const char *dir, const mts_model *m, const ckpt_meta *meta, char *err,
                    size_t errlen);

/* Load path. cfg and layout build the model; meta->config_text/n_tasks/
 * schema_fp of `expect` must match the file's. On CKPT_OK *model is a new
 * model (caller frees) and *meta is filled (caller frees with
 * ckpt_meta_free); on any other status nothing is allocated. */
ckpt_status checkpoint_load_file(const char *path, const model_config *cfg,
                                 const mts_layout *layout, const ckpt_meta *expect,
                                 mts_model **model, ckpt_meta *meta, char *err, size_t errlen);
/* DIR/checkpoint, else (missing or corrupt) DIR/checkpoint.prev. A mismatch
 * is not worked around. used (may be NULL) gets the path loaded; err tells
 * why the latest was skipped when the previous one was used. */
ckpt_status checkpoint_load_latest(const char *dir, const model_config *cfg,
                                   const mts_layout *layout, const ckpt_meta *expect,
                                   mts_model **model, ckpt_meta *meta, char *used, size_t usedlen,
                                   char *err, size_t errlen);

/* Verify a file completely and read its meta without a configuration (for
 * `mtlstream checkpoint show`); entities gets the member and company row
 * counts (0 without affinity tasks). */
ckpt_status checkpoint_read_meta(const char *path, ckpt_meta *meta, uint64_t entities[2], char *err,
                                 size_t errlen);

#endif
