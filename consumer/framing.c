/* framing.c - Kafka message framings for Avro bodies (see framing.h).
 *
 * Each parser checks the magic bytes and the header length of exactly the
 * framing configured for the topic; a message framed otherwise is rejected
 * with a message saying what was found, so it can go to the dead-letter
 * topic. Plain binary has no header, so nothing can be checked there. */
#include "framing.h"

#include <stdio.h>
#include <string.h>

#define CONFLUENT_HEADER 5
#define SINGLE_OBJECT_HEADER 10

int framing_from_name(const char *name, framing_kind *out)
{
    if (!strcmp(name, "confluent"))
        *out = FRAMING_CONFLUENT;
    else if (!strcmp(name, "single-object"))
        *out = FRAMING_SINGLE_OBJECT;
    else if (!strcmp(name, "plain"))
        *out = FRAMING_PLAIN;
    else
        return -1;
    return 0;
}

const char *framing_name(framing_kind k)
{
    switch (k) {
    case FRAMING_CONFLUENT:
        return "confluent";
    case FRAMING_SINGLE_OBJECT:
        return "single-object";
    case FRAMING_PLAIN:
        return "plain";
    }
    return "?";
}

static const char *looks_like(const uint8_t *msg, size_t len)
{
    if (len >= SINGLE_OBJECT_HEADER && msg[0] == 0xC3 && msg[1] == 0x01)
        return " (looks single-object framed)";
    if (len >= CONFLUENT_HEADER && msg[0] == 0x00)
        return " (looks confluent framed)";
    return "";
}

int framing_parse(framing_kind k, const uint8_t *msg, size_t len, uint64_t *schema_key,
                  const uint8_t **body, size_t *body_len, char *err, size_t errlen)
{
    if (!msg && len) {
        snprintf(err, errlen, "no message payload");
        return -1;
    }
    switch (k) {
    case FRAMING_CONFLUENT:
        if (len < CONFLUENT_HEADER || msg[0] != 0x00) {
            snprintf(err, errlen, "not confluent framed: %zu bytes, first byte 0x%02x%s", len,
                     len ? msg[0] : 0, looks_like(msg, len));
            return -1;
        }
        *schema_key =
            (uint64_t)msg[1] << 24 | (uint64_t)msg[2] << 16 | (uint64_t)msg[3] << 8 | msg[4];
        *body = msg + CONFLUENT_HEADER;
        *body_len = len - CONFLUENT_HEADER;
        return 0;
    case FRAMING_SINGLE_OBJECT:
        if (len < SINGLE_OBJECT_HEADER || msg[0] != 0xC3 || msg[1] != 0x01) {
            snprintf(err, errlen,
                     "not single-object framed: %zu bytes, first bytes 0x%02x 0x%02x%s", len,
                     len ? msg[0] : 0, len > 1 ? msg[1] : 0, looks_like(msg, len));
            return -1;
        }
        *schema_key = 0;
        for (int i = 0; i < 8; i++)
            *schema_key |= (uint64_t)msg[2 + i] << (8 * i);
        *body = msg + SINGLE_OBJECT_HEADER;
        *body_len = len - SINGLE_OBJECT_HEADER;
        return 0;
    case FRAMING_PLAIN:
        *schema_key = 0;
        *body = msg;
        *body_len = len;
        return 0;
    }
    snprintf(err, errlen, "unknown framing %d", (int)k);
    return -1;
}

void framing_write_header(framing_kind k, uint64_t schema_key, mts_buf *out)
{
    uint8_t h[SINGLE_OBJECT_HEADER];
    switch (k) {
    case FRAMING_CONFLUENT:
        h[0] = 0x00;
        h[1] = (uint8_t)(schema_key >> 24);
        h[2] = (uint8_t)(schema_key >> 16);
        h[3] = (uint8_t)(schema_key >> 8);
        h[4] = (uint8_t)schema_key;
        buf_append(out, h, CONFLUENT_HEADER);
        return;
    case FRAMING_SINGLE_OBJECT:
        h[0] = 0xC3;
        h[1] = 0x01;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)(schema_key >> (8 * i));
        buf_append(out, h, SINGLE_OBJECT_HEADER);
        return;
    case FRAMING_PLAIN:
        return;
    }
}
