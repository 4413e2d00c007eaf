/* framing.h - how an Avro body is wrapped inside a Kafka message.
 *
 * Three framings, one per topic, never guessed per message:
 *   confluent      0x00, 4-byte big-endian schema-registry id, body
 *   single-object  0xC3 0x01, 8-byte little-endian CRC-64-AVRO fingerprint
 *                  of the writer schema's canonical form, body
 *   plain          the body alone; the writer schema comes from configuration
 * The schema key is the registry id (confluent), the fingerprint
 * (single-object) or 0 (plain). */
#ifndef MTS_FRAMING_H
#define MTS_FRAMING_H

#include "common/util.h"

#include <stddef.h>
#include <stdint.h>

typedef enum { FRAMING_CONFLUENT, FRAMING_SINGLE_OBJECT, FRAMING_PLAIN } framing_kind;

/* "confluent", "single-object", "plain" -> kind. 0, or -1 if unknown. */
int framing_from_name(const char *name, framing_kind *out);
const char *framing_name(framing_kind k);

/* Split msg into schema key and body (body points into msg). 0, or -1 with a
 * message when the header does not match the framing k. */
int framing_parse(framing_kind k, const uint8_t *msg, size_t len, uint64_t *schema_key,
                  const uint8_t **body, size_t *body_len, char *err, size_t errlen);

/* Append the header for schema_key (nothing for plain). */
void framing_write_header(framing_kind k, uint64_t schema_key, mts_buf *out);

#endif
