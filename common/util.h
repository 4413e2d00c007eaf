/* util.h - allocation wrappers, growable byte buffers, a bump arena, clocks.
 *
 * Out-of-memory is handled once, here: the x* wrappers log and abort, so no
 * call site checks for NULL. Everything else returns 0 / -1 with an error
 * text, as the rest of the code base does. */
#ifndef MTS_UTIL_H
#define MTS_UTIL_H

#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Growable byte buffer. Owns data; buf_free releases it. */
typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} mts_buf;

void buf_init(mts_buf *b);
void buf_free(mts_buf *b);
void buf_reset(mts_buf *b);
void buf_reserve(mts_buf *b, size_t extra);
void buf_append(mts_buf *b, const void *p, size_t n);
void buf_putc(mts_buf *b, uint8_t c);

/* Bump allocator: many small allocations, one reset. Memory stays owned by
 * the arena until arena_free; arena_reset keeps the first block for reuse. */
typedef struct arena_block arena_block;
typedef struct {
    arena_block *head;
    size_t block_size;
} mts_arena;

void arena_init(mts_arena *a, size_t block_size);
void *arena_alloc(mts_arena *a, size_t n); /* 16-byte aligned */
char *arena_strndup(mts_arena *a, const char *s, size_t n);
void arena_reset(mts_arena *a);
void arena_free(mts_arena *a);

int64_t now_ms(void);  /* wall clock, ms since the epoch */
int64_t mono_ms(void); /* monotonic clock, ms */
double mono_sec(void); /* monotonic clock, seconds */

/* Deterministic pseudo-random numbers (splitmix64 seeding xoshiro256**). */
typedef struct {
    uint64_t s[4];
} mts_rng;

void rng_seed(mts_rng *r, uint64_t seed);
uint64_t rng_next(mts_rng *r);
double rng_uniform(mts_rng *r);             /* [0, 1) */
double rng_normal(mts_rng *r);              /* N(0, 1) */
uint64_t rng_below(mts_rng *r, uint64_t n); /* [0, n) */

uint64_t hash64(const void *p, size_t n); /* FNV-1a then a 64-bit mix */
uint64_t mix64(uint64_t x);

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
