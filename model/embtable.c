/* embtable.c - id-keyed embedding rows with sparse Adagrad.
 *
 * The row of an id is found through an idmap (model/idmap.h: the full id is
 * stored, so two ids never share a row; no hashing trick), sized for the
 * allocated rows. Rows are never removed and are numbered in creation
 * order. Rows grow by doubling up to the fixed capacity, so a table
 * configured for a million rows costs memory only for the rows it has seen. */
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
    idmap_free(&t->map);
    free(t->grad_slot);
    free(t->touched);
    free(t->grad);
    free(t->dirty);
    free(t->dirty_list);
    memset(t, 0, sizeof(*t));
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
    idmap_reserve(&t->map, na);
}

int32_t embtable_find(const embtable *t, int64_t id)
{
    return idmap_find(&t->map, id);
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
    idmap_insert(&t->map, id, (uint32_t)r); /* absent, r < alloc: cannot fail */
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
