/* deadletter.c - see deadletter.h. */
#include "consumer/deadletter.h"

#include "common/log.h"
#include "common/util.h"
#include "producer/producer.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A dead letter waits at most this long for room in the producer queue. */
enum { DLQ_SEND_BOUND_MS = 500 };

int deadletter_send(rd_kafka_t *producer, const char *dlq_topic, const rd_kafka_message_t *msg,
                    const char *reason, const char *text, char *err, size_t errlen)
{
    char part[16], off[24];
    snprintf(part, sizeof(part), "%" PRId32, msg->partition);
    snprintf(off, sizeof(off), "%" PRId64, msg->offset);
    const char *topic = msg->rkt ? rd_kafka_topic_name(msg->rkt) : "";
    rd_kafka_headers_t *h = rd_kafka_headers_new(5);
    rd_kafka_header_add(h, "mtlstream.reason", -1, reason, -1);
    rd_kafka_header_add(h, "mtlstream.error", -1, text, -1);
    rd_kafka_header_add(h, "mtlstream.topic", -1, topic, -1);
    rd_kafka_header_add(h, "mtlstream.partition", -1, part, -1);
    rd_kafka_header_add(h, "mtlstream.offset", -1, off, -1);
    if (producer_send(producer, dlq_topic, msg->key, msg->key_len, msg->payload, msg->len, h,
                      PRODUCE_DLQ, mono_ms() + DLQ_SEND_BOUND_MS, err, errlen)) {
        rd_kafka_headers_destroy(h); /* not taken over on failure */
        return -1;
    }
    return 0;
}
