/* intake.h - from Kafka messages to batches of unified rows.
 *
 * The intake owns the consumer: it subscribes to every task's topic in the
 * consumer group, checks each message's framing, decodes it with its writer
 * schema into the task's reader schema and the unified layout (compiled
 * plans), validates it, and appends the row to the current batch. Several
 * tasks may read one topic: each message then gives one row per task that
 * can use it (its own plan, label and later its own sampling), and counts
 * once in its partition's progress. A message that no task can use is
 * dead-lettered with its reason and counted.
 *
 * Offsets (issue 5): auto-commit is OFF and the intake never commits or
 * stores offsets itself. It reports, per partition, how far the current
 * batch reaches and how many of its messages became rows or were
 * dead-lettered (intake_batch_progress); the caller folds that into its
 * checkpoint and commits exactly the offsets of a durably written
 * checkpoint. On assignment a hook may set each partition's start offset
 * (the checkpoint's); on revocation a hook runs before the partitions go,
 * so the caller can learn, checkpoint and commit. */
#ifndef MTS_INTAKE_H
#define MTS_INTAKE_H

#include "common/config.h"
#include "common/row.h"
#include "consumer/plan.h"

#include <librdkafka/rdkafka.h>
#include <stdint.h>

typedef struct intake intake;

typedef struct {
    uint64_t consumed[CFG_MAX_TASKS];     /* messages read per task */
    uint64_t rows[CFG_MAX_TASKS];         /* decoded and batched per task */
    uint64_t task_skipped[CFG_MAX_TASKS]; /* messages of a shared topic this task could not use,
                                             another did */
    uint64_t rejected[DR__COUNT];         /* dead-lettered per reason */
    uint64_t rejected_total;
    uint64_t kafka_errors;    /* consumer errors reported by librdkafka */
    uint64_t dlq_failures;    /* dead letters that could not be queued (retried) */
    int64_t first_message_ms; /* monotonic time of the first message, 0 if none */
    int64_t last_message_ms;  /* monotonic time of the last message, 0 if none */
} intake_stats;

/* Called when partitions are about to be revoked (lost: taken without a
 * clean revoke, committing them would be wrong), so the caller can learn
 * from the pending batch, checkpoint and commit first. */
typedef void (*intake_revoke_fn)(void *opaque, const rd_kafka_topic_partition_list_t *parts,
                                 int lost);
/* Called with newly assigned partitions before they are assigned; it may
 * set parts->elems[i].offset (default RD_KAFKA_OFFSET_INVALID: the group's
 * committed offset, else the earliest). */
typedef void (*intake_assign_fn)(void *opaque, rd_kafka_t *consumer,
                                 rd_kafka_topic_partition_list_t *parts);

/* What the current batch covers in one partition. */
typedef struct {
    const char *topic; /* the task's topic (owned by the configuration) */
    int32_t partition;
    int64_t next_offset; /* offset after the batch's last message of this partition */
    uint32_t rows;       /* messages that became rows of the batch */
    uint32_t dead;       /* messages rejected and dead-lettered */
} intake_progress;

/* dlq_producer: producer handle for the dead-letter topic (borrowed). */
intake *intake_new(const mts_config *c, rd_kafka_t *dlq_producer, char *err, size_t errlen);
void intake_free(intake *in);
void intake_on_revoke(intake *in, intake_revoke_fn fn, void *opaque);
void intake_on_assign(intake *in, intake_assign_fn fn, void *opaque);
/* The consumer handle (borrowed): commits, committed offsets, assign, and
 * read-only queries such as positions and cached watermarks (lag). */
rd_kafka_t *intake_consumer(const intake *in);
/* Bounded reading (replay): messages of (topic, partition) at or after
 * offset are dropped unread and uncounted. */
void intake_set_stop(intake *in, const char *topic, int32_t partition, int64_t offset);

const mts_layout *intake_layout(const intake *in);
/* The configured tasks' reader schemas (tasks[t].schema_file) into
 * out[0..n_tasks): 0, or -1 with "task NAME: schema ERROR" and every out[t]
 * NULL. The caller frees each with av_schema_free. */
int intake_task_schemas(const mts_config *c, av_schema **out, char *err, size_t errlen);
/* The layout intake_new would unify from the configuration, without Kafka
 * (mtlstream schema, score): NULL with the reason. */
mts_layout *intake_config_layout(const mts_config *c, char *err, size_t errlen);
int intake_subscribe(intake *in, char *err, size_t errlen);

/* Poll messages for up to timeout_ms or until the batch is full. Returns the
 * number of messages handled. */
int intake_poll(intake *in, int timeout_ms);
/* The batch is full, or non-empty and older than the latency bound. */
int intake_batch_ready(const intake *in);
const mts_row *intake_batch(const intake *in, int *n);
/* Per partition, what the current batch covers; valid until batch_done. */
const intake_progress *intake_batch_progress(const intake *in, int *n);
/* The batch was learned from: start a new one. */
void intake_batch_done(intake *in);

/* Decode one message payload for task (no Kafka involved): the path every
 * message takes, exposed for tests and benchmarks. The row's values go to
 * row->v (n_fields), strings and arrays into arena. */
decode_reason intake_decode(intake *in, int task, const uint8_t *msg, size_t len, mts_row *row,
                            mts_arena *arena, char *err, size_t errlen);

/* One consumed message through the whole path (decode for every task
 * reading its topic, batch, progress, dead letter): what intake_poll does
 * with each message, exposed for tests. 0, or -1 if it could not be
 * dead-lettered (its partition was rewound). */
int intake_handle_message(intake *in, rd_kafka_message_t *m);

const intake_stats *intake_get_stats(const intake *in);
/* Close the consumer (leaves the group; commits nothing). */
void intake_close(intake *in);

#endif
