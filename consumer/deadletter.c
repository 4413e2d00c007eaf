/* deadletter.c - see deadletter.h. */
#include "consumer/deadletter.h"

#include "common/log.h"
#include "producer/producer.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int deadletter_send(rd_kafka_t *producer, const char *dlq_topic, const rd_kafka_message_t *msg,
                    const char *reason, const char *text)
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
    rd_kafka_resp_err_t err;
    for (;;) {
        err = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(dlq_topic),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(msg->key, msg->key_len),
                                RD_KAFKA_V_VALUE(msg->payload, msg->len), RD_KAFKA_V_HEADERS(h),
                                RD_KAFKA_V_OPAQUE((void *)(intptr_t)PRODUCE_DLQ), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            break;
        rd_kafka_poll(producer, 100); /* let deliveries drain, then retry */
    }
    if (err) {
        rd_kafka_headers_destroy(h); /* not taken over on failure */
        log_err_limited("dead-letter %s [%" PRId32 "] @%" PRId64 ": %s", topic, msg->partition,
                        msg->offset, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}
