/* plan.h - compiled decode plans: Avro binary (writer schema) -> mts_row.
 *
 * plan_compile resolves a writer schema into one task's reader schema once
 * (Avro schema resolution: fields by name or reader alias, reader defaults
 * for fields the writer lacks, writer-only fields skipped, promotions
 * int->long->float->double and string<->bytes, enum symbols by name, unions
 * on either side, nested records flattened) and produces a flat program of
 * slot writes over the unified layout. plan_decode runs it: no jansson, no
 * malloc per field; strings and arrays are copied into the caller's arena.
 *
 * Ownership and lifetime: the plan references nothing of the schemas after
 * compiling, but it references the layout's defaults. A decoded row points
 * into the arena (strings, arrays), the plan (enum symbols, reader defaults)
 * and the layout (layout defaults): keep the plan and the layout alive as
 * long as rows decoded with them are in use. */
#ifndef MTS_PLAN_H
#define MTS_PLAN_H

#include "common/avro.h"
#include "common/row.h"
#include "common/util.h"

typedef enum {
    DR_OK,
    DR_TRUNCATED,      /* data ended inside a value */
    DR_BAD_LENGTH,     /* a length or count is negative or beyond the bytes left */
    DR_BAD_UNION,      /* union branch index out of range or not readable */
    DR_BAD_ENUM,       /* enum index out of range, or symbol unknown to the reader */
    DR_TRAILING_BYTES, /* bytes left after the record */
    DR_NOT_FINITE,     /* NaN or infinity in a float/double field */
    DR_TOO_LONG,       /* string > 1 MiB or array > 65536 elements */
    DR_MISSING_FIELD,  /* a required field is absent */
    DR_FRAMING,        /* message framing does not match the topic's */
    DR_UNKNOWN_SCHEMA, /* schema id / fingerprint not known */
    DR_BAD_VALUE,      /* malformed varint, boolean not 0/1, int out of range, ... */
    DR__COUNT
} decode_reason;

#define PLAN_MAX_STRING (1u << 20)
#define PLAN_MAX_ARRAY 65536u

/* snake_case name: "ok", "truncated", "trailing_bytes", ... */
const char *decode_reason_name(decode_reason r);

typedef struct mts_plan mts_plan;

/* Compile the resolution of writer into task's reader schema over layout.
 * NULL with a message when the schemas cannot be resolved (e.g. a reader
 * field without default that the writer lacks, or incompatible types). */
mts_plan *plan_compile(const av_schema *writer, const av_schema *reader, const mts_layout *layout,
                       int task, char *err, size_t errlen);
void plan_free(mts_plan *p);

/* Decode one record body (no framing) into row->v (layout->n_fields slots,
 * provided by the caller); sets row->task. Every slot is written: decoded
 * values with present=1, defaults with present=0. DR_OK or the reason, with
 * a message naming the byte offset and field. */
decode_reason plan_decode(const mts_plan *p, const uint8_t *data, size_t len, mts_row *row,
                          mts_arena *arena, char *err, size_t errlen);

#endif
