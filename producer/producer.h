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

rd_kafka_t *producer_new(const mts_config *c, char *err, size_t errlen);
const producer_stats *producer_get_stats(void);
/* Flush with a bound; returns the number of messages still queued. */
int producer_flush(rd_kafka_t *rk, int timeout_ms);

#endif
