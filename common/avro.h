/* avro.h - Avro schemas and the generic binary codec.
 *
 * Our own schema parser (JSON via jansson) rather than Avro-C's, because
 * mtlstream needs what Avro-C 1.11.1 lacks: field defaults kept as JSON,
 * aliases, logical types, the Parsing Canonical Form and its CRC-64-AVRO
 * fingerprint (single-object encoding). The generic codec converts between
 * Avro binary and JSON values (jansson), used by the generator, the `tail`
 * subscriber and tests; the hot path decodes through consumer/plan.c.
 *
 * Ownership: av_schema_parse* returns a root that owns every node below it
 * (named types referenced twice are shared pointers inside the root);
 * av_schema_free(root) frees all of it. Decoders never read past `len` and
 * check every length against the bytes left before allocating. */
#ifndef MTS_AVRO_H
#define MTS_AVRO_H

#include "util.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    AV_NULL,
    AV_BOOLEAN,
    AV_INT,
    AV_LONG,
    AV_FLOAT,
    AV_DOUBLE,
    AV_BYTES,
    AV_STRING,
    AV_RECORD,
    AV_ENUM,
    AV_ARRAY,
    AV_MAP,
    AV_UNION,
    AV_FIXED,
} av_type;

typedef enum {
    AV_LOGICAL_NONE,
    AV_LOGICAL_DATE,
    AV_LOGICAL_TIME_MILLIS,
    AV_LOGICAL_TIME_MICROS,
    AV_LOGICAL_TIMESTAMP_MILLIS,
    AV_LOGICAL_TIMESTAMP_MICROS,
    AV_LOGICAL_DECIMAL,
    AV_LOGICAL_UUID,
} av_logical;

typedef struct av_schema av_schema;

typedef struct {
    char *name;
    char **aliases; /* (n_aliases) */
    int n_aliases;
    av_schema *type;
    json_t *default_value; /* NULL when the field has no default */
} av_field;

struct av_schema {
    av_type type;
    av_logical logical;
    int precision, scale; /* decimal */
    char *name;           /* full name of record/enum/fixed, else NULL */
    char **aliases;       /* (n_aliases) full names */
    int n_aliases;
    av_field *fields; /* record: (n_fields) */
    int n_fields;
    char **symbols; /* enum: (n_symbols) */
    int n_symbols;
    int enum_default;     /* enum: index of the default symbol, or -1 */
    av_schema *items;     /* array items, map values */
    av_schema **branches; /* union: (n_branches) */
    int n_branches;
    int size; /* fixed */
};

/* Parse a schema from JSON text / a file. Returns the root or NULL with a
 * message in err (file, position and what is wrong). */
av_schema *av_schema_parse(const char *json_text, char *err, size_t errlen);
av_schema *av_schema_parse_file(const char *path, char *err, size_t errlen);
void av_schema_free(av_schema *root);

/* Parsing Canonical Form (Avro spec), as a malloc'd string. */
char *av_canonical_form(const av_schema *s);
/* CRC-64-AVRO (Rabin) of bytes, and of a schema's canonical form. */
uint64_t av_crc64(const void *p, size_t n);
uint64_t av_fingerprint(const av_schema *s);

/* Record field index by name (aliases not considered), or -1. */
int av_field_index(const av_schema *record, const char *name);

/* Low-level binary primitives. Readers return 0, or -1 when the input is
 * short or malformed; *pos advances past what was read. */
void av_write_long(mts_buf *b, int64_t v); /* zig-zag varint; also int */
void av_write_float(mts_buf *b, float v);
void av_write_double(mts_buf *b, double v);
void av_write_bytes(mts_buf *b, const void *p, size_t n); /* length + bytes */
int av_read_long(const uint8_t *p, size_t len, size_t *pos, int64_t *out);
int av_read_int(const uint8_t *p, size_t len, size_t *pos, int32_t *out);
int av_read_float(const uint8_t *p, size_t len, size_t *pos, float *out);
int av_read_double(const uint8_t *p, size_t len, size_t *pos, double *out);

/* Encode a JSON value (the shape fastavro/Java use for Avro's JSON
 * encoding without union type wrappers: a union value is matched to the
 * first branch it fits) as Avro binary appended to out. */
int av_encode_json(const av_schema *s, const json_t *value, mts_buf *out, char *err, size_t errlen);

/* Decode one datum written with schema s into a new JSON value (caller
 * decrefs). *used gets the bytes consumed. NULL with err on bad input. */
json_t *av_decode_json(const av_schema *s, const uint8_t *p, size_t len, size_t *used, char *err,
                       size_t errlen);

/* Does JSON value v fit schema s (a field default; the encoder's choice of
 * union branch)? 1 or 0. */
int av_value_fits(const av_schema *s, const json_t *v);

/* Name of a type: "int", "record", ... */
const char *av_type_name(av_type t);

/* Skip one datum of schema s. 0 or -1. */
int av_skip(const av_schema *s, const uint8_t *p, size_t len, size_t *pos);

#endif
