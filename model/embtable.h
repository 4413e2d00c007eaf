/* embtable.h - an embedding table keyed by 64-bit entity id.
 *
 * Rows are created on first sight with a small random vector that depends
 * only on (seed, id), so the same id gets the same start in every run
 * whatever the arrival order. The table never holds more than `capacity`
 * rows: once full, new ids are REFUSED (embtable_get returns -1 and counts
 * them in `refused`); existing rows keep learning. The caller decides what a
 * refused id means (the models use a zero input and skip its update).
 *
 * Training is sparse: embtable_grad() hands out a zeroed gradient slot for a
 * row the first time it is asked for in a step, embtable_adagrad() applies
 * row-wise Adagrad (one accumulator per row: the running sum of the row's
 * mean squared gradient, as in DLRM/FBGEMM) to exactly those rows, marks
 * them dirty and clears the slots. Row-wise keeps the optimizer state at
 * one float per row and the update to the row's own cache lines. */
#ifndef MTS_EMBTABLE_H
#define MTS_EMBTABLE_H

#include "model/idmap.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int dim;
    uint32_t capacity; /* hard limit on rows */
    uint32_t n;        /* rows in use, in creation order */
    uint32_t alloc;    /* rows allocated; grows by doubling up to capacity */
    float init_scale;  /* initial values are uniform in [-init_scale, init_scale] */
    uint64_t seed;
    int64_t *ids;       /* (alloc) id of each row */
    float *w;           /* (alloc, dim) the embeddings */
    float *acc;         /* (alloc) row-wise Adagrad: sum over steps of mean(g^2) */
    uint64_t *events;   /* (alloc) training events that used the row */
    idmap map;          /* id -> row, rows reserved = alloc */
    int32_t *grad_slot; /* (alloc) index into grad this step, -1 = none */
    uint32_t *touched;  /* (touched_cap) rows with a gradient this step */
    float *grad;        /* (touched_cap, dim) */
    uint32_t n_touched, touched_cap;
    uint8_t *dirty;       /* (alloc) 1 = updated since the last drain */
    uint32_t *dirty_list; /* (alloc) the dirty rows */
    uint32_t n_dirty;
    uint64_t refused; /* new ids turned away because the table was full */
} embtable;

int embtable_init(embtable *t, int dim, uint32_t capacity, float init_scale, uint64_t seed,
                  char *err, size_t errlen);
void embtable_free(embtable *t);

/* Row of id, or -1. Never creates. */
int32_t embtable_find(const embtable *t, int64_t id);
/* Row of id, created on first sight; -1 if the table is full (counted). */
int32_t embtable_get(embtable *t, int64_t id);
static inline float *embtable_row(const embtable *t, int32_t row)
{
    return t->w + (size_t)row * (size_t)t->dim;
}
/* Gradient slot (dim) of row for the current step, zeroed on first use. */
float *embtable_grad(embtable *t, int32_t row);
/* Drop this step's gradients without applying them. */
void embtable_clear_grad(embtable *t);
/* Row-wise Adagrad on the rows with a gradient, mark them dirty, clear grads. */
void embtable_adagrad(embtable *t, float lr, float eps);
/* Ids updated since the last drain, each once, up to max; the rest stay. */
size_t embtable_drain_dirty(embtable *t, int64_t *ids, size_t max);
/* Mark a row dirty again (its publication failed); no-op if it already is. */
void embtable_mark_dirty(embtable *t, uint32_t row);
/* All ids in creation order, up to max; returns how many were written. */
size_t embtable_ids(const embtable *t, int64_t *ids, size_t max);

#endif
