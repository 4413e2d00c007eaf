/* producer.c - see producer.h. */
#include "producer/producer.h"

#include "common/kafka.h"
#include "common/log.h"
#include "common/util.h"

#include <stdint.h>
#include <stdio.h>

/* How long one wait for a full queue to drain lasts before the next try. */
enum { PRODUCER_RETRY_POLL_MS = 50 };

static producer_stats stats;

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    intptr_t kind = (intptr_t)m->_private;
    if (kind <= 0 || kind >= PRODUCE__COUNT)
        kind = 0;
    if (m->err) {
        stats.failed[kind]++;
        log_err_limited("delivery to %s failed: %s", rd_kafka_topic_name(m->rkt),
                        rd_kafka_err2str(m->err));
    } else {
        stats.delivered[kind]++;
    }
}

rd_kafka_t *producer_new(const mts_config *c, char *err, size_t errlen)
{
    static const char *const defaults[] = {
        "linger.ms", "20", "enable.idempotence", "true", "compression.codec", "lz4", NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(c, defaults, NULL, err, errlen);
    if (!conf)
        return NULL;
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    char kerr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof(kerr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "producer: %s", kerr);
        return NULL;
    }
    /* conf is owned by rk now */
    return rk;
}

int producer_send(rd_kafka_t *rk, const char *topic, const void *key, size_t key_len,
                  const void *value, size_t value_len, rd_kafka_headers_t *headers,
                  produce_kind kind, int64_t deadline_ms, char *err, size_t errlen)
{
    for (;;) {
        rd_kafka_resp_err_t e;
        if (headers)
            e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, value_len),
                RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE((void *)(intptr_t)kind),
                RD_KAFKA_V_END);
        else
            e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, value_len),
                RD_KAFKA_V_OPAQUE((void *)(intptr_t)kind), RD_KAFKA_V_END);
        if (!e)
            return 0;
        int64_t left = deadline_ms - mono_ms();
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || left <= 0) {
            snprintf(err, errlen, "produce to %s: %s%s", topic, rd_kafka_err2str(e),
                     e == RD_KAFKA_RESP_ERR__QUEUE_FULL ? " (the broker is not taking messages)"
                                                        : "");
            return -1;
        }
        /* Queue full: serve delivery reports for a while, then retry. */
        rd_kafka_poll(rk, left < PRODUCER_RETRY_POLL_MS ? (int)left : PRODUCER_RETRY_POLL_MS);
    }
}

const producer_stats *producer_get_stats(void)
{
    return &stats;
}

int producer_flush(rd_kafka_t *rk, int timeout_ms)
{
    rd_kafka_flush(rk, timeout_ms);
    int left = rd_kafka_outq_len(rk);
    if (left > 0)
        log_err("%d messages still queued after a %d ms flush; they are lost", left, timeout_ms);
    return left;
}
