/* kafka.h - librdkafka client set-up shared by the consumer, the producer,
 * the generator and the subscriber.
 *
 * Every client gets the configuration's kafka section (any librdkafka
 * property) plus the properties its role needs; each set call is checked and
 * reported with the property name (never its value: it may be a secret). */
#ifndef MTS_KAFKA_H
#define MTS_KAFKA_H

#include "config.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* A new conf: the role's defaults (NULL-terminated key, value pairs), then
 * the config's kafka section (c may be NULL), then the role's forced
 * properties. A kafka-section value that contradicts a forced one is refused
 * (the service's guarantees depend on them). NULL with err on failure. */
rd_kafka_conf_t *kafka_conf_new(const mts_config *c, const char *const *defaults,
                                const char *const *forced, char *err, size_t errlen);
int kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                   size_t errlen);

/* Partition count of topic, or -1 with err (unknown topic, broker down). */
int kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms, char *err,
                          size_t errlen);

/* A fatal error reported by any client (e.g. the idempotent producer lost
 * its guarantees): 1 with the text in err, else 0. The service stops. */
int kafka_fatal_error(char *err, size_t errlen);

/* Properties whose values must never be logged. */
int kafka_prop_is_secret(const char *key);

#endif
