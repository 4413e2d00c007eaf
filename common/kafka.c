/* kafka.c - see kafka.h. */
#include "kafka.h"

#include "log.h"

#include <stdio.h>
#include <string.h>

int kafka_prop_is_secret(const char *key)
{
    return strstr(key, "password") || strstr(key, "secret") ||
           strstr(key, "sasl.oauthbearer.config") || strstr(key, "ssl.key.pem") ||
           strstr(key, "ssl_key");
}

int kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                   size_t errlen)
{
    char kerr[512];
    if (rd_kafka_conf_set(conf, key, value, kerr, sizeof(kerr)) != RD_KAFKA_CONF_OK) {
        /* librdkafka's text names the property; it does not echo the value. */
        snprintf(err, errlen, "kafka property %s: %s", key, kerr);
        return -1;
    }
    return 0;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    log_line(level < 3 ? 3 : level, "librdkafka", 0, "%s: %s: %s", rd_kafka_name(rk), fac, buf);
}

static volatile int fatal_seen;
static char fatal_text[1024];

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof(buf));
        snprintf(fatal_text, sizeof(fatal_text), "%s: %s: %s", rd_kafka_name(rk),
                 rd_kafka_err2name(orig), buf);
        fatal_seen = 1;
        return;
    }
    /* Transient (broker down, resolve failures): librdkafka retries by itself. */
    log_warn_limited("%s: %s: %s", rd_kafka_name(rk), rd_kafka_err2name(err), reason);
}

int kafka_fatal_error(char *err, size_t errlen)
{
    if (!fatal_seen)
        return 0;
    snprintf(err, errlen, "%s", fatal_text);
    return 1;
}

rd_kafka_conf_t *kafka_conf_new(const mts_config *c, const char *const *defaults,
                                const char *const *forced, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    for (; defaults && defaults[0]; defaults += 2)
        if (kafka_conf_set(conf, defaults[0], defaults[1], err, errlen))
            goto fail;
    for (int i = 0; c && i < c->n_kafka_props; i++) {
        for (const char *const *f = forced; f && f[0]; f += 2)
            if (!strcmp(f[0], c->kafka_keys[i]) && strcmp(f[1], c->kafka_values[i])) {
                snprintf(
                    err, errlen,
                    "kafka property %s: mtlstream sets it to %s for correctness; remove it from "
                    "the kafka section",
                    f[0], f[1]);
                goto fail;
            }
        if (kafka_conf_set(conf, c->kafka_keys[i], c->kafka_values[i], err, errlen))
            goto fail;
    }
    for (; forced && forced[0]; forced += 2)
        if (kafka_conf_set(conf, forced[0], forced[1], err, errlen))
            goto fail;
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms, char *err,
                          size_t errlen)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (e) {
        snprintf(err, errlen, "metadata for topic %s: %s", topic, rd_kafka_err2str(e));
        return -1;
    }
    int n = -1;
    if (md->topic_cnt == 1) {
        if (md->topics[0].err)
            snprintf(err, errlen, "topic %s: %s", topic, rd_kafka_err2str(md->topics[0].err));
        else
            n = md->topics[0].partition_cnt;
    } else {
        snprintf(err, errlen, "topic %s: not in metadata", topic);
    }
    rd_kafka_metadata_destroy(md);
    return n;
}
