/* producer.c - see producer.h. */
#include "producer/producer.h"

#include "common/kafka.h"
#include "common/log.h"

#include <stdint.h>
#include <stdio.h>

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
    static const char *const extra[] = {"linger.ms", "20", "enable.idempotence", "true",
                                        "compression.codec", "lz4", NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(c, extra, err, errlen);
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
