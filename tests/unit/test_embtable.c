/* test_embtable.c - the id-keyed embedding table: exact ids, capacity, init, Adagrad, dirty set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/util.h"
#include "model/embtable.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* 100k random 64-bit ids (including negatives and ids that differ in one
 * bit): each gets its own row, found again exactly, never another's. */
static void test_no_collisions(void **state)
{
    enum { N = 100000 };
    embtable t;
    char err[128];
    assert_int_equal(embtable_init(&t, 4, N, 0.1f, 42, err, sizeof(err)), 0);
    int64_t *ids = xmalloc(N * sizeof(int64_t));
    mts_rng r;
    rng_seed(&r, 99);
    for (int i = 0; i < N; i++)
        ids[i] = i % 10 == 0 && i > 0 ? ids[i - 1] ^ 1 : (int64_t)rng_next(&r);
    /* make them distinct for the count check */
    int64_t *sorted = xmalloc(N * sizeof(int64_t));
    memcpy(sorted, ids, N * sizeof(int64_t));
    qsort(sorted, N, sizeof(int64_t), cmp_i64);
    int distinct = 1;
    for (int i = 1; i < N; i++)
        distinct += sorted[i] != sorted[i - 1];
    for (int i = 0; i < N; i++) {
        int32_t row = embtable_get(&t, ids[i]);
        assert_true(row >= 0);
        embtable_row(&t, row)[0] = (float)i; /* tag: last writer of this id */
    }
    assert_int_equal(t.n, distinct);
    assert_int_equal(t.refused, 0);
    for (int i = 0; i < N; i++) {
        int32_t row = embtable_find(&t, ids[i]);
        assert_true(row >= 0);
        assert_true(t.ids[row] == ids[i]);
    }
    /* every row holds a different id */
    int64_t *back = xmalloc(N * sizeof(int64_t));
    size_t k = embtable_ids(&t, back, N);
    assert_int_equal(k, distinct);
    qsort(back, k, sizeof(int64_t), cmp_i64);
    for (size_t i = 1; i < k; i++)
        assert_true(back[i] != back[i - 1]);
    /* ids never inserted are not found */
    for (int i = 0; i < 1000; i++) {
        int64_t id = (int64_t)rng_next(&r);
        if (!bsearch(&id, sorted, N, sizeof(int64_t), cmp_i64))
            assert_int_equal(embtable_find(&t, id), -1);
    }
    free(ids);
    free(sorted);
    free(back);
    embtable_free(&t);
}

static void test_capacity(void **state)
{
    embtable t;
    char err[128];
    assert_int_equal(embtable_init(&t, 3, 1500, 0.1f, 1, err, sizeof(err)), 0);
    for (int64_t id = 0; id < 5000; id++) {
        int32_t row = embtable_get(&t, id * 7919);
        assert_true(t.n <= 1500);
        assert_true(t.alloc <= 1500);
        if (id < 1500)
            assert_true(row >= 0);
        else
            assert_int_equal(row, -1);
    }
    assert_int_equal(t.n, 1500);
    assert_int_equal(t.refused, 3500);
    /* existing ids still resolve when full */
    assert_int_equal(embtable_get(&t, 7919 * 10), 10);
    assert_int_equal(t.refused, 3500);
    /* bad sizes are refused with a message */
    embtable u;
    assert_int_equal(embtable_init(&u, 0, 10, 0.1f, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "width"));
    assert_int_equal(embtable_init(&u, 4, 0, 0.1f, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "capacity"));
    embtable_free(&t);
}

/* The initial row depends on (seed, id) only: not on order or table size. */
static void test_deterministic_init(void **state)
{
    embtable a, b, c;
    char err[128];
    assert_int_equal(embtable_init(&a, 8, 1000, 0.25f, 5, err, sizeof(err)), 0);
    assert_int_equal(embtable_init(&b, 8, 50, 0.25f, 5, err, sizeof(err)), 0);
    assert_int_equal(embtable_init(&c, 8, 1000, 0.25f, 6, err, sizeof(err)), 0);
    for (int64_t id = 0; id < 40; id++)
        embtable_get(&a, id);
    for (int64_t id = 39; id >= 0; id--)
        embtable_get(&b, id);
    int differs = 0;
    for (int64_t id = 0; id < 40; id++) {
        const float *ra = embtable_row(&a, embtable_find(&a, id));
        const float *rb = embtable_row(&b, embtable_find(&b, id));
        assert_memory_equal(ra, rb, 8 * sizeof(float));
        for (int i = 0; i < 8; i++)
            assert_true(fabsf(ra[i]) <= 0.25f);
        const float *rc = embtable_row(&c, embtable_get(&c, id));
        differs += memcmp(ra, rc, 8 * sizeof(float)) != 0;
    }
    assert_int_equal(differs, 40); /* another seed, other rows */
    /* rows are not all alike */
    assert_true(memcmp(embtable_row(&a, 0), embtable_row(&a, 1), 8 * sizeof(float)) != 0);
    embtable_free(&a);
    embtable_free(&b);
    embtable_free(&c);
}

/* Sparse (row-wise) Adagrad touches exactly the rows with a gradient, accumulates
 * repeated gradients, and marks those rows dirty once. */
static void test_adagrad_dirty(void **state)
{
    embtable t;
    char err[128];
    assert_int_equal(embtable_init(&t, 2, 100, 0.1f, 1, err, sizeof(err)), 0);
    for (int64_t id = 0; id < 10; id++)
        embtable_get(&t, id);
    float before[20];
    memcpy(before, t.w, sizeof(before));
    float *g = embtable_grad(&t, 3);
    g[0] = 1.0f;
    g[1] = -2.0f;
    g = embtable_grad(&t, 3); /* same slot again */
    g[0] += 1.0f;
    embtable_grad(&t, 7)[1] = 0.5f;
    embtable_adagrad(&t, 0.1f, 0.0f);
    for (int r = 0; r < 10; r++) {
        const float *w = embtable_row(&t, r);
        if (r == 3) {
            /* g = (2, -2): acc = mean(g^2) = 4, step lr / 2 */
            assert_float_equal(w[0], before[6] - 0.1f, 1e-6);
            assert_float_equal(w[1], before[7] + 0.1f, 1e-6);
        } else if (r == 7) {
            /* g = (0, 0.5): acc = 0.125, step lr / sqrt(0.125) */
            assert_float_equal(w[0], before[14], 0); /* zero gradient: unchanged */
            assert_float_equal(w[1], before[15] - 0.1f / sqrtf(0.125f) * 0.5f, 1e-6);
        } else {
            assert_memory_equal(w, before + 2 * r, 2 * sizeof(float));
        }
    }
    assert_float_equal(t.acc[3], 4.0f, 1e-6);
    assert_float_equal(t.acc[7], 0.125f, 1e-7);
    assert_float_equal(t.acc[0], 0.0f, 0);
    assert_int_equal(t.n_touched, 0);
    int64_t ids[10];
    size_t n = embtable_drain_dirty(&t, ids, 1);
    assert_int_equal(n, 1);
    n += embtable_drain_dirty(&t, ids + 1, 9);
    assert_int_equal(n, 2);
    qsort(ids, 2, sizeof(int64_t), cmp_i64);
    assert_true(ids[0] == 3 && ids[1] == 7);
    assert_int_equal(embtable_drain_dirty(&t, ids, 10), 0);
    embtable_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_collisions),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_deterministic_init),
        cmocka_unit_test(test_adagrad_dirty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
