/* embtable.c - id-keyed embedding rows with sparse Adagrad.
 *
 * Lookup is open addressing with linear probing over a power-of-two slot
 * array; each slot stores the full id next to row+1, so two ids never share
 * a row (no hashing trick: an id is either found exactly or absent) and a
 * probe touches one cache line. The slot
 * array is kept at most half full and rebuilt when the row arrays grow.
 * Rows grow by doubling up to the fixed capacity, so a table configured for
 * a million rows costs memory only for the rows it has seen. */
#include "model/embtable.h"
#include "model/rowgrad.h"

#include "common/util.h"
#include "model/optim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMBTABLE_MAX_CAPACITY (1u << 30)

int embtable_init(embtable *t, int dim, uint32_t capacity, float init_scale, uint64_t seed,
                  char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    if (dim < 1 || dim > 4096) {
        snprintf(err, errlen, "embedding width %d out of range 1..4096", dim);
        return -1;
    }
    if (capacity < 1 || capacity > EMBTABLE_MAX_CAPACITY) {
        snprintf(err, errlen, "table capacity %u out of range 1..%u", capacity,
                 EMBTABLE_MAX_CAPACITY);
        return -1;
    }
    t->dim = dim;
    t->capacity = capacity;
    t->init_scale = init_scale;
    t->seed = seed;
    return 0;
}

void embtable_free(embtable *t)
{
    free(t->ids);
    free(t->w);
    free(t->acc);
    free(t->events);
    free(t->slots);
    free(t->grad_slot);
    free(t->touched);
    free(t->grad);
    free(t->dirty);
    free(t->dirty_list);
    memset(t, 0, sizeof(*t));
}

static uint32_t slot_of(int64_t id, uint32_t mask)
{
    return (uint32_t)(mix64((uint64_t)id) & mask);
}

static void rehash(embtable *t, uint32_t nslots)
{
    free(t->slots);
    t->slots = xcalloc(nslots, sizeof(embtable_slot));
    t->nslots = nslots;
    uint32_t mask = nslots - 1;
    for (uint32_t r = 0; r < t->n; r++) {
        uint32_t h = slot_of(t->ids[r], mask);
        while (t->slots[h].row)
            h = (h + 1) & mask;
        t->slots[h].id = t->ids[r];
        t->slots[h].row = r + 1;
    }
}

static void grow(embtable *t)
{
    uint32_t na = t->alloc ? t->alloc * 2 : 1024;
    if (na > t->capacity || na < t->alloc)
        na = t->capacity;
    size_t d = (size_t)t->dim;
    t->ids = xrealloc(t->ids, na * sizeof(int64_t));
    t->w = xrealloc(t->w, na * d * sizeof(float));
    t->acc = xrealloc(t->acc, na * sizeof(float));
    t->events = xrealloc(t->events, na * sizeof(uint64_t));
    t->grad_slot = xrealloc(t->grad_slot, na * sizeof(int32_t));
    t->dirty = xrealloc(t->dirty, na);
    t->dirty_list = xrealloc(t->dirty_list, na * sizeof(uint32_t));
    t->alloc = na;
    uint32_t ns = 16;
    while (ns < 2 * (uint64_t)na)
        ns *= 2;
    if (ns != t->nslots)
        rehash(t, ns);
}

int32_t embtable_find(const embtable *t, int64_t id)
{
    if (!t->nslots)
        return -1;
    uint32_t mask = t->nslots - 1;
    for (uint32_t h = slot_of(id, mask);; h = (h + 1) & mask) {
        const embtable_slot *s = &t->slots[h];
        if (!s->row)
            return -1;
        if (s->id == id)
            return (int32_t)(s->row - 1);
    }
}

int32_t embtable_get(embtable *t, int64_t id)
{
    int32_t r = embtable_find(t, id);
    if (r >= 0)
        return r;
    if (t->n >= t->capacity) {
        t->refused++;
        return -1;
    }
    if (t->n == t->alloc)
        grow(t);
    r = (int32_t)t->n++;
    t->ids[r] = id;
    mts_rng rng;
    rng_seed(&rng, mix64(t->seed ^ 0x5eedf00dULL) ^ mix64((uint64_t)id));
    float *w = embtable_row(t, r);
    for (int i = 0; i < t->dim; i++)
        w[i] = (float)((2.0 * rng_uniform(&rng) - 1.0) * t->init_scale);
    t->acc[r] = 0.0f;
    t->events[r] = 0;
    t->grad_slot[r] = -1;
    t->dirty[r] = 0;
    uint32_t mask = t->nslots - 1;
    uint32_t h = slot_of(id, mask);
    while (t->slots[h].row)
        h = (h + 1) & mask;
    t->slots[h].id = id;
    t->slots[h].row = (uint32_t)r + 1;
    return r;
}

float *embtable_grad(embtable *t, int32_t row)
{
    return rowgrad_get(t->grad_slot, &t->touched, &t->grad, &t->n_touched, &t->touched_cap,
                       (size_t)t->dim, row);
}

void embtable_clear_grad(embtable *t)
{
    rowgrad_clear(t->grad_slot, t->touched, &t->n_touched);
}

void embtable_adagrad(embtable *t, float lr, float eps)
{
    size_t d = (size_t)t->dim;
    for (uint32_t k = 0; k < t->n_touched; k++) {
        uint32_t r = t->touched[k];
        rowwise_adagrad_update(t->w + r * d, t->grad + k * d, &t->acc[r], d, lr, eps);
        if (!t->dirty[r]) {
            t->dirty[r] = 1;
            t->dirty_list[t->n_dirty++] = r;
        }
    }
    embtable_clear_grad(t);
}

size_t embtable_drain_dirty(embtable *t, int64_t *ids, size_t max)
{
    size_t k = 0;
    while (k < max && t->n_dirty > 0) {
        uint32_t r = t->dirty_list[--t->n_dirty];
        t->dirty[r] = 0;
        ids[k++] = t->ids[r];
    }
    return k;
}

void embtable_mark_dirty(embtable *t, uint32_t row)
{
    if (row < t->n && !t->dirty[row]) {
        t->dirty[row] = 1;
        t->dirty_list[t->n_dirty++] = row;
    }
}

size_t embtable_ids(const embtable *t, int64_t *ids, size_t max)
{
    size_t k = 0;
    for (uint32_t r = 0; r < t->n && k < max; r++)
        ids[k++] = t->ids[r];
    return k;
}
