/* producer.h - the one Kafka producer handle of the service.
 *
 * Embeddings and dead-lettered input share it; each message carries its
 * kind as the per-message opaque so delivery reports are counted per kind. */
#ifndef MTS_PRODUCER_H
#define MTS_PRODUCER_H

#include "common/config.h"

#include <librdkafka/rdkafka.h>
#include <stdint.h>

typedef enum { PRODUCE_EMBEDDING = 1, PRODUCE_DLQ = 2, PRODUCE__COUNT } produce_kind;

typedef struct {
    uint64_t delivered[PRODUCE__COUNT];
    uint64_t failed[PRODUCE__COUNT];
} producer_stats;

/* The caller owns the handle (rd_kafka_destroy after producer_flush).
 * Delivery counts are process-wide: one producer per process. */
rd_kafka_t *producer_new(const mts_config *c, char *err, size_t errlen);

/* Enqueue one message (payload and key copied). While librdkafka's queue is
 * full, serve delivery reports and retry until deadline_ms (mono_ms clock),
 * so a broker outage blocks the caller for a bounded time only. headers are
 * taken over on success and left to the caller on failure. Returns 0, or -1
 * with the reason in err. */
int producer_send(rd_kafka_t *rk, const char *topic, const void *key, size_t key_len,
                  const void *value, size_t value_len, rd_kafka_headers_t *headers,
                  produce_kind kind, int64_t deadline_ms, char *err, size_t errlen);
const producer_stats *producer_get_stats(void);
/* Flush with a bound; returns the number of messages still queued. */
int producer_flush(rd_kafka_t *rk, int timeout_ms);

#endif
