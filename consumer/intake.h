/* intake.h - from Kafka messages to batches of unified rows.
 *
 * The intake owns the consumer: it subscribes to every task's topic in the
 * consumer group, checks each message's framing, decodes it with its writer
 * schema into the task's reader schema and the unified layout (compiled
 * plans), validates it, and appends the row to the current batch. A message
 * that fails any step is dead-lettered with its reason and counted.
 *
 * Offsets: auto-commit is on, automatic offset *store* is off. The offsets
 * of a batch's messages (rows and dead-lettered ones) are stored only by
 * intake_batch_done(), which the caller invokes after the model has learned
 * from the batch, so a commit never covers an event that was not learned
 * from or dead-lettered. */
#ifndef MTS_INTAKE_H
#define MTS_INTAKE_H

#include "common/config.h"
#include "common/row.h"
#include "consumer/plan.h"

#include <librdkafka/rdkafka.h>
#include <stdint.h>

typedef struct intake intake;

typedef struct {
    uint64_t consumed[CFG_MAX_TASKS];   /* messages read per task */
    uint64_t rows[CFG_MAX_TASKS];       /* decoded and batched per task */
    uint64_t rejected[DR__COUNT];       /* dead-lettered per reason */
    uint64_t rejected_total;
    uint64_t kafka_errors;              /* consumer errors reported by librdkafka */
    uint64_t dlq_failures;              /* dead letters that could not be queued (retried) */
    int64_t first_message_ms;           /* monotonic time of the first message, 0 if none */
    int64_t last_message_ms;            /* monotonic time of the last message, 0 if none */
} intake_stats;

/* Called when partitions are about to be revoked, so the caller can learn
 * from the pending batch first (its offsets are then stored). */
typedef void (*intake_revoke_fn)(void *opaque);

/* dlq_producer: producer handle for the dead-letter topic (borrowed). */
intake *intake_new(const mts_config *c, rd_kafka_t *dlq_producer, char *err, size_t errlen);
void intake_free(intake *in);
void intake_on_revoke(intake *in, intake_revoke_fn fn, void *opaque);

const mts_layout *intake_layout(const intake *in);
int intake_subscribe(intake *in, char *err, size_t errlen);

/* Poll messages for up to timeout_ms or until the batch is full. Returns the
 * number of messages handled. */
int intake_poll(intake *in, int timeout_ms);
/* The batch is full, or non-empty and older than the latency bound. */
int intake_batch_ready(const intake *in);
const mts_row *intake_batch(const intake *in, int *n);
/* The batch was learned from: store its offsets and start a new one. */
void intake_batch_done(intake *in);

/* Decode one message payload for task (no Kafka involved): the path every
 * message takes, exposed for tests and benchmarks. The row's values go to
 * row->v (n_fields), strings and arrays into arena. */
decode_reason intake_decode(intake *in, int task, const uint8_t *msg, size_t len, mts_row *row,
                            mts_arena *arena, char *err, size_t errlen);

const intake_stats *intake_get_stats(const intake *in);
/* The consumer handle (borrowed), for read-only queries such as the
 * assignment, positions and cached watermarks (consumer lag). */
rd_kafka_t *intake_consumer(const intake *in);
/* Commit stored offsets synchronously and close the consumer. */
void intake_close(intake *in);

#endif
