/* publish.h - publish member and company embeddings to Kafka.
 *
 * Message format (documented in docs/embeddings.md): key = entity id as
 * decimal text; value = Confluent framing (0x00, 4-byte big-endian schema id
 * output.schema_id) + Avro binary of schemas/embedding.avsc. Members go to
 * output.member_topic, companies to output.company_topic; with log
 * compaction the latest vector per entity is kept.
 *
 * Only entities whose vectors changed since they were last published are
 * sent (the model's dirty set), at most output.publish_max_per_s per
 * second; the rest stay dirty for the next round. A vector the producer
 * refuses stays dirty; a failed delivery report makes the next rounds publish
 * a full snapshot (the report does not say which entity it carried). */
#ifndef MTS_PUBLISH_H
#define MTS_PUBLISH_H

#include "common/config.h"
#include "common/util.h"
#include "model/model.h"

#include <librdkafka/rdkafka.h>
#include <stdint.h>

typedef struct publisher publisher;

typedef struct {
    uint64_t produced[2]; /* per entity_kind */
    uint64_t produce_errors;
} publish_stats;

/* producer is borrowed. The embedding schema file must have the fields of
 * schemas/embedding.avsc in that order (checked here, once). */
publisher *publisher_new(const mts_config *c, rd_kafka_t *producer, const char *model_version,
                         char *err, size_t errlen);
void publisher_free(publisher *p);

/* Publish up to budget changed embeddings, giving up at deadline_ms (mono_ms
 * clock) if the producer queue stays full; what is not published stays due.
 * Returns how many were produced. */
int publisher_publish_dirty(publisher *p, mts_model *m, int budget, int64_t deadline_ms);
/* Publish every changed embedding now, without a rate bound (shutdown). */
int publisher_publish_all_dirty(publisher *p, mts_model *m, int64_t deadline_ms);
/* Publish every known embedding (a full snapshot, e.g. after a replay),
 * without a rate bound; returns how many were produced. */
int publisher_publish_snapshot(publisher *p, mts_model *m, int64_t deadline_ms);
/* Encode one embedding message value (framing + Avro) into out. */
void publisher_encode(const publisher *p, entity_kind k, int64_t id, const float *vec, int dim,
                      uint64_t events_seen, int64_t updated_ms, mts_buf *out);
const publish_stats *publisher_get_stats(const publisher *p);

#endif
