/* deadletter.h - send a rejected input message to the dead-letter topic.
 *
 * The original key and value are kept byte for byte; headers say why:
 *   mtlstream.reason     decode_reason name, e.g. "truncated"
 *   mtlstream.error      the error text
 *   mtlstream.topic      original topic
 *   mtlstream.partition  original partition (decimal)
 *   mtlstream.offset     original offset (decimal)
 * Delivery is asynchronous on the shared producer (opaque PRODUCE_DLQ). */
#ifndef MTS_DEADLETTER_H
#define MTS_DEADLETTER_H

#include <librdkafka/rdkafka.h>

/* 0, or -1 with err when the message could not be queued within a bound
 * (the caller must then not move past the message). */
int deadletter_send(rd_kafka_t *producer, const char *dlq_topic, const rd_kafka_message_t *msg,
                    const char *reason, const char *text, char *err, size_t errlen);

#endif
