/* dyntable.c - id-keyed embedding rows with admission, expiry and a hard cap.
 *
 * The row of an id is found through an idmap (model/idmap.h), sized for the
 * allocated rows; expiry deletes the id from it (backward shift, so probe
 * runs stay short however many ids come and go) and puts the row on a free
 * list. Rows never move: freed rows are reused before new rows are
 * allocated; the row arrays grow by doubling up to the capacity, so the
 * memory is bounded by the capacity whatever the id stream does.
 *
 * Admission counts sightings of row-less ids in a count-min sketch (the
 * minimum of two counters under independent hashes), periodically halved so
 * old sightings fade: memory independent of how many distinct ids pass.
 * A collision can only admit an id early, never give two ids one row. */
#include "model/dyntable.h"
#include "model/rowgrad.h"

#include "common/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DYN_MAX_CAPACITY (1u << 30)
#define DYN_FREE INT64_MIN /* in last[]: the row is free (lookups clamp the clock above it) */

int dyntable_init(dyntable *t, int dim, uint32_t capacity, int admit, int64_t ttl, float init_scale,
                  uint64_t seed, int n_states, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    if (dim < 1 || dim > 4096) {
        snprintf(err, errlen, "embedding width %d out of range 1..4096", dim);
        return -1;
    }
    if (capacity < 1 || capacity > DYN_MAX_CAPACITY) {
        snprintf(err, errlen, "table capacity %u out of range 1..%u", capacity, DYN_MAX_CAPACITY);
        return -1;
    }
    if (admit < 1 || admit > 255) {
        snprintf(err, errlen, "admission threshold %d out of range 1..255", admit);
        return -1;
    }
    if (ttl < 0) {
        snprintf(err, errlen, "expiry time %lld must be >= 0", (long long)ttl);
        return -1;
    }
    if (n_states < 1 || n_states > 64) {
        snprintf(err, errlen, "optimizer states %d out of range 1..64", n_states);
        return -1;
    }
    t->dim = dim;
    t->capacity = capacity;
    t->admit = admit;
    t->ttl = ttl;
    t->init_scale = init_scale;
    t->seed = seed;
    t->n_states = n_states;
    if (admit > 1) {
        uint32_t s = 1024;
        while (s < 4 * (uint64_t)capacity && s < (1u << 24))
            s *= 2;
        t->sketch_size = s;
        t->sketch = xcalloc(2 * (size_t)s, 1);
    }
    return 0;
}

void dyntable_free(dyntable *t)
{
    free(t->ids);
    free(t->last);
    free(t->w);
    free(t->acc);
    free(t->free_rows);
    idmap_free(&t->map);
    free(t->sketch);
    free(t->grad_slot);
    free(t->touched);
    free(t->grad);
    memset(t, 0, sizeof(*t));
}

static void grow(dyntable *t)
{
    uint32_t na = t->alloc ? t->alloc * 2 : 256;
    if (na > t->capacity || na < t->alloc)
        na = t->capacity;
    size_t d = (size_t)t->dim, s = (size_t)t->n_states;
    t->ids = xrealloc(t->ids, na * sizeof(int64_t));
    t->last = xrealloc(t->last, na * sizeof(int64_t));
    t->w = xrealloc(t->w, na * d * sizeof(float));
    t->acc = xrealloc(t->acc, na * s * sizeof(float));
    t->free_rows = xrealloc(t->free_rows, na * sizeof(uint32_t));
    t->grad_slot = xrealloc(t->grad_slot, na * sizeof(int32_t));
    t->alloc = na;
    idmap_reserve(&t->map, na);
}

int32_t dyntable_find(const dyntable *t, int64_t id)
{
    return idmap_find(&t->map, id);
}

uint32_t dyntable_expire(dyntable *t, int64_t now)
{
    t->last_sweep = now;
    if (t->ttl <= 0)
        return 0;
    uint32_t k = 0;
    for (uint32_t r = 0; r < t->top; r++) {
        if (t->last[r] == DYN_FREE || now - t->last[r] <= t->ttl || t->grad_slot[r] >= 0)
            continue;
        idmap_delete(&t->map, t->ids[r]);
        t->last[r] = DYN_FREE;
        t->free_rows[t->n_free++] = r;
        t->n--;
        k++;
    }
    t->expired += k;
    return k;
}

/* Count one sighting; returns the (estimated) sightings so far. */
static int sketch_add(dyntable *t, int64_t id)
{
    uint64_t h = mix64((uint64_t)id ^ t->seed);
    uint32_t mask = t->sketch_size - 1;
    uint8_t *a = &t->sketch[h & mask], *b = &t->sketch[t->sketch_size + ((h >> 32) & mask)];
    if (*a < 255)
        (*a)++;
    if (*b < 255)
        (*b)++;
    if (++t->sketch_adds >= t->sketch_size) { /* age: halve everything */
        for (size_t i = 0; i < 2 * (size_t)t->sketch_size; i++)
            t->sketch[i] >>= 1;
        t->sketch_adds = 0;
    }
    return *a < *b ? *a : *b;
}

int32_t dyntable_lookup(dyntable *t, int64_t id, int64_t now, int create)
{
    if (now == DYN_FREE)
        now++;
    int32_t r = dyntable_find(t, id);
    if (r >= 0) {
        t->last[r] = now;
        return r;
    }
    if (!create)
        return -1;
    if (t->admit > 1 && sketch_add(t, id) < t->admit) {
        t->pending++;
        return -1;
    }
    /* Full: sweep for idle rows, at most once per ttl/8 of the clock so a
     * flood of new ids does not turn every lookup into a full scan. */
    if (t->n >= t->capacity && t->ttl > 0 &&
        now - t->last_sweep >= (t->ttl / 8 > 0 ? t->ttl / 8 : 1))
        dyntable_expire(t, now);
    if (t->n >= t->capacity) {
        t->refused++;
        return -1;
    }
    uint32_t row;
    if (t->n_free) {
        row = t->free_rows[--t->n_free];
    } else {
        if (t->top == t->alloc)
            grow(t);
        row = t->top++;
        t->grad_slot[row] = -1;
    }
    t->n++;
    t->created++;
    t->ids[row] = id;
    t->last[row] = now;
    mts_rng rng;
    rng_seed(&rng, mix64(t->seed ^ 0x5eedf00dULL) ^ mix64((uint64_t)id));
    float *w = dyntable_row(t, (int32_t)row);
    for (int i = 0; i < t->dim; i++)
        w[i] = (float)((2.0 * rng_uniform(&rng) - 1.0) * t->init_scale);
    memset(t->acc + (size_t)row * t->n_states, 0, (size_t)t->n_states * sizeof(float));
    idmap_insert(&t->map, id, row); /* absent, row < alloc, n <= capacity: cannot fail */
    return (int32_t)row;
}

float *dyntable_grad(dyntable *t, int32_t row)
{
    return rowgrad_get(t->grad_slot, &t->touched, &t->grad, &t->n_touched, &t->touched_cap,
                       (size_t)t->dim, row);
}

void dyntable_clear_grad(dyntable *t)
{
    rowgrad_clear(t->grad_slot, t->touched, &t->n_touched);
}

void dyntable_update(dyntable *t, mtl_optim_kind kind, float lr, int state)
{
    size_t d = (size_t)t->dim;
    for (uint32_t k = 0; k < t->n_touched; k++) {
        uint32_t r = t->touched[k];
        float *w = t->w + r * d;
        const float *g = t->grad + k * d;
        float step = lr;
        if (kind != OPT_SGD) { /* row-wise Adagrad: one accumulator per row and state */
            float ss = 0.0f;
            for (size_t i = 0; i < d; i++)
                ss += g[i] * g[i];
            float *acc = &t->acc[(size_t)r * t->n_states + state];
            *acc += ss / (float)d;
            step = lr / (sqrtf(*acc) + 1e-8f);
        }
        for (size_t i = 0; i < d; i++)
            w[i] -= step * g[i];
    }
    dyntable_clear_grad(t);
}

size_t dyntable_bytes(const dyntable *t)
{
    size_t d = (size_t)t->dim;
    size_t per_row = 2 * sizeof(int64_t) + d * sizeof(float) + (size_t)t->n_states * sizeof(float) +
                     sizeof(uint32_t) + sizeof(int32_t);
    return (size_t)t->alloc * per_row + (size_t)t->map.nslots * sizeof(idmap_slot) +
           2 * (size_t)t->sketch_size +
           (size_t)t->touched_cap * (sizeof(uint32_t) + d * sizeof(float));
}

size_t dyntable_bytes_bound(const dyntable *t)
{
    size_t d = (size_t)t->dim;
    size_t per_row = 2 * sizeof(int64_t) + d * sizeof(float) + (size_t)t->n_states * sizeof(float) +
                     sizeof(uint32_t) + sizeof(int32_t);
    size_t ns = idmap_nslots_for(t->capacity);
    size_t tc = 256; /* touched rows never exceed live rows; the slot array doubles */
    while (tc < t->capacity)
        tc *= 2;
    return (size_t)t->capacity * per_row + ns * sizeof(idmap_slot) + 2 * (size_t)t->sketch_size +
           tc * (sizeof(uint32_t) + d * sizeof(float));
}

size_t dyntable_ids(const dyntable *t, int64_t *ids, size_t max)
{
    size_t k = 0;
    for (uint32_t r = 0; r < t->top && k < max; r++)
        if (t->last[r] != DYN_FREE)
            ids[k++] = t->ids[r];
    return k;
}

/* ------------------------------------------------------------------ */
/* checkpoints                                                         */

void dyntable_save(const dyntable *t, mts_buf *b)
{
    const uint32_t u32[] = {
        (uint32_t)t->dim, t->capacity, (uint32_t)t->admit, (uint32_t)t->n_states, t->n,
        t->alloc,         t->top,      t->n_free,          t->map.nslots,         t->sketch_size,
        t->sketch_adds};
    buf_append(b, u32, sizeof(u32));
    const int64_t i64[] = {t->ttl, t->last_sweep};
    buf_append(b, i64, sizeof(i64));
    const uint64_t c64[] = {t->created, t->expired, t->refused, t->pending};
    buf_append(b, c64, sizeof(c64));
    size_t top = t->top, d = (size_t)t->dim, s = (size_t)t->n_states;
    buf_append(b, t->ids, top * sizeof(int64_t));
    buf_append(b, t->last, top * sizeof(int64_t));
    buf_append(b, t->w, top * d * sizeof(float));
    buf_append(b, t->acc, top * s * sizeof(float));
    buf_append(b, t->free_rows, (size_t)t->n_free * sizeof(uint32_t));
    buf_append(b, t->map.slots, (size_t)t->map.nslots * sizeof(idmap_slot));
    if (t->sketch)
        buf_append(b, t->sketch, 2 * (size_t)t->sketch_size);
}

/* Copy count items of size bytes from the cursor, checked against the bytes left. */
static int take(const uint8_t *p, size_t len, size_t *pos, void *dst, uint64_t count, size_t size)
{
    if (*pos > len || count > (len - *pos) / size)
        return -1;
    if (count)
        memcpy(dst, p + *pos, (size_t)count * size);
    *pos += (size_t)count * size;
    return 0;
}

#define LOAD_FAIL(...)                                                                             \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        return -1;                                                                                 \
    } while (0)

int dyntable_load(dyntable *t, const uint8_t *p, size_t len, size_t *pos, char *err, size_t errlen)
{
    uint32_t u32[11];
    int64_t i64[2];
    uint64_t c64[4];
    if (take(p, len, pos, u32, 11, 4) || take(p, len, pos, i64, 2, 8) ||
        take(p, len, pos, c64, 4, 8))
        LOAD_FAIL("table header truncated");
    uint32_t n = u32[4], alloc = u32[5], top = u32[6], n_free = u32[7], nslots = u32[8];
    if ((int)u32[0] != t->dim || u32[1] != t->capacity || (int)u32[2] != t->admit ||
        (int)u32[3] != t->n_states || i64[0] != t->ttl || u32[9] != t->sketch_size)
        LOAD_FAIL("table of width %u, capacity %u, admit %u, %u states, ttl %lld does not match "
                  "the declared "
                  "(%d, %u, %d, %d, %lld)",
                  u32[0], u32[1], u32[2], u32[3], (long long)i64[0], t->dim, t->capacity, t->admit,
                  t->n_states, (long long)t->ttl);
    if (t->alloc || t->n)
        LOAD_FAIL("table not empty before loading");
    if (alloc > t->capacity || top > alloc || n > top || n_free != top - n ||
        nslots != idmap_nslots_for(alloc) || (t->sketch && u32[10] >= t->sketch_size))
        LOAD_FAIL("table counts inconsistent (rows %u, top %u, allocated %u, free %u, slots %u)", n,
                  top, alloc, n_free, nslots);
    size_t d = (size_t)t->dim, s = (size_t)t->n_states;
    /* everything must be in the input before anything is allocated */
    uint64_t bytes = (uint64_t)top * (16 + d * 4 + s * 4) + (uint64_t)n_free * 4 +
                     (uint64_t)nslots * sizeof(idmap_slot) +
                     (t->sketch ? 2 * (uint64_t)t->sketch_size : 0);
    if (*pos > len || bytes > len - *pos)
        LOAD_FAIL("table of %u rows truncated", top);
    if (alloc) {
        t->ids = xmalloc((size_t)alloc * sizeof(int64_t));
        t->last = xmalloc((size_t)alloc * sizeof(int64_t));
        t->w = xmalloc((size_t)alloc * d * sizeof(float));
        t->acc = xmalloc((size_t)alloc * s * sizeof(float));
        t->free_rows = xmalloc((size_t)alloc * sizeof(uint32_t));
        t->grad_slot = xmalloc((size_t)alloc * sizeof(int32_t));
        for (uint32_t r = 0; r < alloc; r++)
            t->grad_slot[r] = -1;
    }
    t->alloc = alloc;
    idmap_reserve(&t->map, alloc); /* empty until the slots are checked below */
    take(p, len, pos, t->ids, top, 8);
    take(p, len, pos, t->last, top, 8);
    take(p, len, pos, t->w, (uint64_t)top * d, 4);
    take(p, len, pos, t->acc, (uint64_t)top * s, 4);
    take(p, len, pos, t->free_rows, n_free, 4);
    const uint8_t *slot_bytes = p + *pos;
    *pos += (size_t)nslots * sizeof(idmap_slot);
    if (t->sketch)
        take(p, len, pos, t->sketch, 2 * (uint64_t)t->sketch_size, 1);
    t->top = top; /* from here on the arrays are consistent enough to free */
    for (size_t i = 0; i < (size_t)top * d; i++)
        if (!isfinite(t->w[i]))
            LOAD_FAIL("table rows not finite");
    for (size_t i = 0; i < (size_t)top * s; i++)
        if (!(t->acc[i] >= 0.0f) || !isfinite(t->acc[i]))
            LOAD_FAIL("table accumulators negative or not finite");
    uint32_t used = 0;
    for (uint32_t r = 0; r < top; r++)
        used += t->last[r] != DYN_FREE;
    if (used != n)
        LOAD_FAIL("table has %u rows in use, header says %u", used, n);
    for (uint32_t k = 0; k < n_free; k++) { /* grad_slot marks rows seen (reset below) */
        uint32_t r = t->free_rows[k];
        if (r >= top || t->last[r] != DYN_FREE || t->grad_slot[r] != -1)
            LOAD_FAIL("table free list names a row in use or a row twice");
        t->grad_slot[r] = -2;
    }
    for (uint32_t k = 0; k < n_free; k++)
        t->grad_slot[t->free_rows[k]] = -1;
    /* The slots are saved as they were (their layout depends on the order of
     * insertions and expiries). idmap_load checks that they form a map: every
     * row and id on one slot, each id reachable. Then it holds exactly the rows
     * in use if it holds n ids and finds every row in use under its own id. */
    char e[160];
    if (idmap_load(&t->map, alloc, slot_bytes, nslots, e, sizeof(e))) {
        idmap_reserve(&t->map, alloc);
        LOAD_FAIL("table %s", e);
    }
    if (t->map.n != n)
        LOAD_FAIL("table hash holds %u ids for %u rows", t->map.n, n);
    for (uint32_t r = 0; r < top; r++)
        if (t->last[r] != DYN_FREE && dyntable_find(t, t->ids[r]) != (int32_t)r)
            LOAD_FAIL("table id %lld is not found at its row", (long long)t->ids[r]);
    t->n = n;
    t->n_free = n_free;
    t->sketch_adds = u32[10];
    t->last_sweep = i64[1];
    t->created = c64[0];
    t->expired = c64[1];
    t->refused = c64[2];
    t->pending = c64[3];
    return 0;
}
