/* dyntable.h - an embedding table for open-ended id streams: admission,
 * expiry, a hard row capacity.
 *
 * Like embtable (model/embtable.h) it maps a 64-bit id to its own row (the
 * full id is stored, so two ids never share a row), but it is built for
 * streams whose ids never stop arriving:
 *   - admission: an id gets a row only on its `admit`-th sighting. Sightings
 *     of ids without a row are counted in a small count-min sketch (two
 *     rows of saturating 8-bit counters, halved every `sketch_size`
 *     sightings), so the memory spent on not-yet-admitted ids is fixed;
 *   - expiry: a row unused for more than `ttl` time units (the caller's
 *     clock: seconds, events, steps) is removed, and its row reused;
 *   - capacity: rows never exceed `capacity`; when full, idle rows are
 *     expired first, and if none is idle the new id is refused (counted).
 * A refused or pending id reads as "no row" (-1): the network gives it a
 * zero vector and no update.
 *
 * Training is sparse and per row, as in embtable: dyntable_grad() hands out
 * a zeroed gradient slot the first time a row is asked for in a step, and
 * dyntable_update() applies SGD or row-wise Adagrad with one of `n_states`
 * optimizer-state columns (iterative training gives every task its own). */
#ifndef MTS_DYNTABLE_H
#define MTS_DYNTABLE_H

#include "common/util.h"
#include "model/idmap.h"

#include <stddef.h>
#include <stdint.h>

typedef enum { OPT_SGD, OPT_ADAGRAD, OPT_ADAM } mtl_optim_kind;

typedef struct {
    int dim;
    uint32_t capacity; /* hard limit on rows */
    int admit;         /* sightings needed before a row is created (1 = first sight) */
    int64_t ttl;       /* rows idle longer than this are expired; 0 = never */
    float init_scale;  /* initial values uniform in [-init_scale, init_scale], from (seed, id) */
    uint64_t seed;
    int n_states; /* optimizer state columns */

    uint32_t n;          /* rows in use */
    uint32_t alloc;      /* rows allocated (grows by doubling up to capacity) */
    uint32_t top;        /* rows ever handed out: rows >= top were never used */
    int64_t *ids;        /* (alloc) id of each row (any 64-bit value) */
    int64_t *last;       /* (alloc) time of last use; INT64_MIN when the row is free */
    float *w;            /* (alloc, dim) */
    float *acc;          /* (alloc, n_states) row-wise Adagrad accumulators */
    uint32_t *free_rows; /* (alloc) rows freed by expiry */
    uint32_t n_free;
    idmap map;            /* id -> row of the rows in use, rows reserved = alloc */
    uint8_t *sketch;      /* (2, sketch_size) admission counters; NULL when admit == 1 */
    uint32_t sketch_size; /* power of two */
    uint32_t sketch_adds; /* sightings since the last halving */
    int64_t last_sweep;   /* clock of the last expiry sweep */

    int32_t *grad_slot; /* (alloc) index into grad this step, -1 = none */
    uint32_t *touched;  /* (touched_cap) rows with a gradient this step */
    float *grad;        /* (touched_cap, dim) */
    uint32_t n_touched, touched_cap;

    uint64_t created, expired, refused, pending; /* counters */
} dyntable;

/* 0, or -1 with a reason (dim 1..4096, capacity 1..2^30, admit 1..255,
 * ttl >= 0, n_states 1..64). Allocates nothing but the sketch. */
int dyntable_init(dyntable *t, int dim, uint32_t capacity, int admit, int64_t ttl, float init_scale,
                  uint64_t seed, int n_states, char *err, size_t errlen);
void dyntable_free(dyntable *t);

/* Row of id or -1; never creates or counts. */
int32_t dyntable_find(const dyntable *t, int64_t id);
/* Row of id at time now (marks it used). Absent: with create = 0, -1;
 * otherwise the sighting is counted and a row created once admitted and
 * there is room (expiring idle rows if full); else -1 (pending / refused). */
int32_t dyntable_lookup(dyntable *t, int64_t id, int64_t now, int create);
static inline float *dyntable_row(const dyntable *t, int32_t row)
{
    return t->w + (size_t)row * (size_t)t->dim;
}
/* Remove every row idle for more than ttl at time now; returns how many. */
uint32_t dyntable_expire(dyntable *t, int64_t now);
/* Gradient slot (dim) of row for this step, zeroed on first use. */
float *dyntable_grad(dyntable *t, int32_t row);
void dyntable_clear_grad(dyntable *t);
/* Apply this step's gradients with optimizer kind (SGD or row-wise
 * Adagrad; Adam falls back to Adagrad on tables) and state column, then
 * clear them. */
void dyntable_update(dyntable *t, mtl_optim_kind kind, float lr, int state);
/* Ids that have a row, in row order, up to max; returns how many. */
size_t dyntable_ids(const dyntable *t, int64_t *ids, size_t max);

/* Checkpoints: the whole state (rows, ids, clocks, optimizer accumulators,
 * free list, hash slots, admission sketch, counters) appended to out as
 * opaque bytes (host byte order; mts_buf from common/util.h). Gradients are
 * scratch and not saved: save between steps. */
void dyntable_save(const dyntable *t, mts_buf *out);
/* Restore into t, initialised with the same dim, capacity, admit, ttl and
 * n_states and still empty. Reads from p[*pos..len), advances *pos. Every
 * count is checked against the bytes left and the table's bounds, every
 * slot against its row: -1 with a reason, t left valid (maybe partial). */
int dyntable_load(dyntable *t, const uint8_t *p, size_t len, size_t *pos, char *err, size_t errlen);

/* Bytes held now, and the most it can ever hold (capacity reached). */
size_t dyntable_bytes(const dyntable *t);
size_t dyntable_bytes_bound(const dyntable *t);

#endif
