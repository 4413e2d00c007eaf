/* resume.h - what `run` and `replay` share about checkpoints and offsets.
 *
 * The service's position is a ckpt_meta: per (topic, partition) the next
 * offset and the events learned / dead-lettered. resume_fold adds a learned
 * batch to it; resume_commit commits exactly its offsets, for the
 * partitions this consumer owns at that moment (committing a partition
 * another instance owns would move the group's position backwards). */
#ifndef MTS_RESUME_H
#define MTS_RESUME_H

#include "common/config.h"
#include "consumer/intake.h"
#include "model/checkpoint.h"
#include "model/model.h"

#include <librdkafka/rdkafka.h>

/* n_tasks and each task's reader-schema fingerprint, as a checkpoint must match. */
int resume_expect(const mts_config *c, ckpt_meta *expect, char *err, size_t errlen);
/* Create service.state_dir (0700) if missing; 0 or an exit code, message printed. */
int resume_state_dir(const mts_config *c);
/* Load `file`, or the latest in state_dir when file is NULL. 0 with *model
 * (a fresh one when there is no checkpoint and file is NULL) and *meta, or
 * an exit code after printing why (78 for a mismatching or corrupt one). */
int resume_load(const mts_config *c, const char *file, const mts_layout *layout, mts_model **model,
                ckpt_meta *meta);
/* Add a learned batch's progress to meta. Returns the events it covered. */
uint64_t resume_fold(ckpt_meta *meta, const mts_config *c, const intake_progress *p, int n);
/* Commit meta's offsets for the partitions in the consumer's assignment.
 * Returns how many partitions were committed (0: nothing to commit), -1 with err. */
int resume_commit(rd_kafka_t *consumer, const ckpt_meta *meta, int async, char *err, size_t errlen);

#endif
