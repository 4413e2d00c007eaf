/* test_idmap.c - the id -> row map of the embedding tables, against a naive
 * reference: random inserts, deletes and finds (edge ids, ids sharing a home
 * slot, runs that wrap around the end of the array) through growth and
 * churn; the layout after a rebuild; probe runs at full load and after
 * churn; loading saved slots, and refusing broken ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/util.h"
#include "model/idmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Probe length of every entry (1 = found at its home slot): checks that
 * each entry is reachable from its home (no empty slot on the way), counts
 * them, returns the longest and the sum. */
static uint32_t probe_stats(const idmap *m, uint64_t *sum, uint32_t *count)
{
    uint32_t mask = m->nslots - 1, longest = 0, c = 0;
    uint64_t s = 0;
    for (uint32_t h = 0; h < m->nslots; h++) {
        if (!m->slots[h].row)
            continue;
        uint32_t len = 1;
        for (uint32_t j = idmap_home(m, m->slots[h].id); j != h; j = (j + 1) & mask, len++)
            assert_true(m->slots[j].row != 0);
        longest = len > longest ? len : longest;
        s += len;
        c++;
    }
    if (sum)
        *sum = s;
    if (count)
        *count = c;
    return longest;
}

/* n distinct ids whose home slot in a map of nslots slots is `home`: they
 * share a home in every smaller power-of-two map too (home & (size - 1)). */
static void colliders(int64_t *out, int n, uint32_t nslots, uint32_t home, mts_rng *r)
{
    idmap probe = {0};
    idmap_reserve(&probe, nslots / 2);
    assert_int_equal(probe.nslots, nslots);
    for (int k = 0; k < n;) {
        int64_t id = (int64_t)rng_next(r);
        if (idmap_home(&probe, id) == home)
            out[k++] = id;
    }
    idmap_free(&probe);
}

static void test_sizes_and_edges(void **state)
{
    assert_int_equal(idmap_nslots_for(0), 0);
    assert_int_equal(idmap_nslots_for(1), 16);
    assert_int_equal(idmap_nslots_for(8), 16);
    assert_int_equal(idmap_nslots_for(9), 32);
    assert_int_equal(idmap_nslots_for(1024), 2048);
    assert_int_equal(idmap_nslots_for(1500), 4096);
    assert_int_equal(idmap_nslots_for(IDMAP_MAX_ROWS), 1u << 31);

    idmap m = {0}; /* zeroed = empty, no rows */
    assert_int_equal(idmap_find(&m, 0), -1);
    assert_int_equal(idmap_delete(&m, 0), -1);
    assert_int_equal(idmap_insert(&m, 1, 0), -1); /* no rows reserved */
    idmap_reserve(&m, 3);
    assert_int_equal(m.nslots, 16);
    assert_int_equal(m.rows, 3);
    assert_int_equal(idmap_insert(&m, INT64_MIN, 0), 0);
    assert_int_equal(idmap_insert(&m, INT64_MIN, 1), -1); /* already present */
    assert_int_equal(idmap_insert(&m, 0, 3), -1);         /* row beyond rows */
    assert_int_equal(idmap_insert(&m, 0, 2), 0);
    assert_int_equal(idmap_insert(&m, -1, 1), 0);
    assert_int_equal(idmap_insert(&m, INT64_MAX, 1), -1); /* n == rows */
    assert_int_equal(m.n, 3);
    assert_int_equal(idmap_find(&m, INT64_MIN), 0);
    assert_int_equal(idmap_find(&m, 0), 2);
    assert_int_equal(idmap_find(&m, -1), 1);
    assert_int_equal(idmap_find(&m, INT64_MAX), -1);
    idmap_reserve(&m, 2); /* never shrinks */
    assert_int_equal(m.rows, 3);
    idmap_reserve(&m, 8); /* same slot count: nothing moves */
    assert_int_equal(m.nslots, 16);
    assert_int_equal(m.rows, 8);
    assert_int_equal(idmap_delete(&m, 0), 2);
    assert_int_equal(idmap_delete(&m, 0), -1);
    assert_int_equal(idmap_find(&m, 0), -1);
    assert_int_equal(idmap_find(&m, -1), 1);
    assert_int_equal(m.n, 2);
    idmap_free(&m);
    assert_null(m.slots);
    assert_int_equal(m.nslots, 0);
}

/* 100k random operations against the reference: pool_row[k] is the row of
 * pool id k or -1; rows come from a free list (reused last-freed first, as
 * dyntable does) or the next unused row; the map grows by doubling up to
 * MAX_ROWS like a table's row arrays. Every result must agree exactly. */
static void test_against_reference(void **state)
{
    enum { MAX_ROWS = 2048, NSPECIAL = 8, NWRAP = 300, NHOME = 300, NRAND = 3000, OPS = 100000 };
    const uint32_t max_slots = 2 * MAX_ROWS;
    mts_rng r;
    rng_seed(&r, 7);
    int64_t *pool = xmalloc((NSPECIAL + NWRAP + NHOME + NRAND) * sizeof(int64_t));
    const int64_t special[NSPECIAL] = {0,
                                       -1,
                                       1,
                                       INT64_MIN,
                                       INT64_MAX,
                                       INT64_MIN + 1,
                                       INT64_MAX - 1,
                                       (int64_t)0x9e3779b97f4a7c15ULL}; /* the hash's own salt */
    memcpy(pool, special, sizeof(special));
    colliders(pool + NSPECIAL, NWRAP, max_slots, max_slots - 2, &r); /* runs wrap past the end */
    colliders(pool + NSPECIAL + NWRAP, NHOME, max_slots, 5, &r);
    for (int k = 0; k < NRAND; k++) /* every fourth differs from the previous in one bit */
        pool[NSPECIAL + NWRAP + NHOME + k] =
            k % 4 == 3
                ? (int64_t)((uint64_t)pool[NSPECIAL + NWRAP + NHOME + k - 1] ^ (1ull << (k % 64)))
                : (int64_t)rng_next(&r);
    int np = NSPECIAL + NWRAP + NHOME + NRAND;
    qsort(pool, (size_t)np, sizeof(int64_t), cmp_i64);
    int w = 1;
    for (int k = 1; k < np; k++)
        if (pool[k] != pool[w - 1])
            pool[w++] = pool[k];
    np = w;
    assert_true(np > MAX_ROWS + 1000); /* the map fills up and refuses */

    int32_t *pool_row = xmalloc((size_t)np * sizeof(int32_t));
    for (int k = 0; k < np; k++)
        pool_row[k] = -1;
    uint32_t *free_rows = xmalloc(MAX_ROWS * sizeof(uint32_t));
    uint32_t n_free = 0, top = 0, n = 0, longest = 0;
    uint64_t n_ins = 0, n_del = 0, n_find = 0, n_refused = 0, n_grow = 0;
    idmap m = {0};
    for (int op = 0; op < OPS; op++) {
        /* half the operations on the colliding ids, so probe runs are long */
        int k = rng_uniform(&r) < 0.5 ? (int)rng_below(&r, (uint64_t)np) : -1;
        if (k < 0) {
            int64_t id = pool[NSPECIAL + rng_below(&r, NWRAP + NHOME)];
            int64_t *at = bsearch(&id, pool, (size_t)np, sizeof(int64_t), cmp_i64);
            k = (int)(at - pool);
        }
        int64_t id = pool[k];
        double u = rng_uniform(&r);
        /* inserts outnumber deletes: the map fills, then refuses some */
        if (u < 0.6) {
            if (pool_row[k] >= 0) {
                assert_int_equal(idmap_insert(&m, id, 0), -1);
                assert_int_equal(idmap_find(&m, id), pool_row[k]);
                continue;
            }
            if (!n_free && top == m.rows && m.rows < MAX_ROWS) {
                idmap_reserve(&m, m.rows ? 2 * m.rows : 16);
                n_grow++;
            }
            if (!n_free && top == m.rows) { /* full */
                assert_int_equal(idmap_insert(&m, id, top ? top - 1 : 0), -1);
                n_refused++;
            } else {
                uint32_t row = n_free ? free_rows[--n_free] : top++;
                assert_int_equal(idmap_insert(&m, id, m.rows), -1); /* beyond rows */
                assert_int_equal(idmap_insert(&m, id, row), 0);
                pool_row[k] = (int32_t)row;
                n++;
                n_ins++;
            }
        } else if (u < 0.8) {
            assert_int_equal(idmap_delete(&m, id), pool_row[k]);
            if (pool_row[k] >= 0) {
                free_rows[n_free++] = (uint32_t)pool_row[k];
                pool_row[k] = -1;
                n--;
                n_del++;
            }
        } else {
            assert_int_equal(idmap_find(&m, id), pool_row[k]);
            n_find++;
        }
        assert_int_equal(m.n, n);
        if (op % 2000 == 1999 || op == OPS - 1) {
            for (int j = 0; j < np; j++)
                assert_int_equal(idmap_find(&m, pool[j]), pool_row[j]);
            uint32_t count;
            uint32_t l = probe_stats(&m, NULL, &count);
            assert_int_equal(count, n);
            longest = l > longest ? l : longest;
        }
    }
    assert_int_equal(m.rows, MAX_ROWS);
    assert_true(n_refused > 0 && n_del > 1000 && n_find > 1000);
    printf("figure: idmap vs reference: %d ops on %d ids (%d sharing one home slot, %d another "
           "at the array's end) through %llu growths to %u rows: %llu inserts, %llu deletes, "
           "%llu finds, %llu refused (full), all agree; longest probe run %u\n",
           OPS, np, NHOME, NWRAP, (unsigned long long)n_grow, MAX_ROWS, (unsigned long long)n_ins,
           (unsigned long long)n_del, (unsigned long long)n_find, (unsigned long long)n_refused,
           longest);
    idmap_free(&m);
    free(pool);
    free(pool_row);
    free(free_rows);
}

/* After churn (rows reused in any order), growing the map leaves the layout
 * that inserting its entries in row order into a fresh map gives: it depends
 * on the entries only (dyntable checkpoints store it byte for byte). */
static void test_rebuild_layout(void **state)
{
    enum { ROWS = 1000 };
    mts_rng r;
    rng_seed(&r, 3);
    idmap m = {0};
    idmap_reserve(&m, ROWS);
    int64_t ids[ROWS];
    int32_t used[ROWS];
    for (int i = 0; i < ROWS; i++) {
        ids[i] = (int64_t)rng_next(&r);
        used[i] = 1;
        assert_int_equal(idmap_insert(&m, ids[i], (uint32_t)i), 0);
    }
    for (int round = 0; round < 20000; round++) { /* replace a random row's id */
        uint32_t row = (uint32_t)rng_below(&r, ROWS);
        if (used[row]) {
            assert_int_equal(idmap_delete(&m, ids[row]), (int32_t)row);
            used[row] = 0;
        } else {
            ids[row] = (int64_t)rng_next(&r);
            assert_int_equal(idmap_insert(&m, ids[row], row), 0);
            used[row] = 1;
        }
    }
    idmap_reserve(&m, 4 * ROWS);
    idmap fresh = {0};
    idmap_reserve(&fresh, 4 * ROWS);
    for (uint32_t row = 0; row < ROWS; row++)
        if (used[row])
            assert_int_equal(idmap_insert(&fresh, ids[row], row), 0);
    assert_int_equal(m.nslots, fresh.nslots);
    assert_int_equal(m.n, fresh.n);
    assert_memory_equal(m.slots, fresh.slots, (size_t)m.nslots * sizeof(idmap_slot));
    idmap_free(&m);
    idmap_free(&fresh);
}

/* Random ids at full load (rows = nslots / 2): probe runs stay short, and a
 * million deletes and inserts at full load leave them as short (no
 * tombstones). */
static void test_probe_runs(void **state)
{
    enum { ROWS = 1 << 18, CHURN = 1000000 };
    mts_rng r;
    rng_seed(&r, 11);
    idmap m = {0};
    idmap_reserve(&m, ROWS);
    int64_t *ids = xmalloc(ROWS * sizeof(int64_t));
    for (uint32_t i = 0; i < ROWS; i++) {
        do
            ids[i] = (int64_t)rng_next(&r);
        while (idmap_insert(&m, ids[i], i) != 0); /* a repeated id: draw again */
    }
    uint64_t sum0, sum1;
    uint32_t c0, c1;
    uint32_t long0 = probe_stats(&m, &sum0, &c0);
    assert_int_equal(c0, ROWS);
    for (int i = 0; i < CHURN; i++) {
        uint32_t row = (uint32_t)rng_below(&r, ROWS);
        assert_int_equal(idmap_delete(&m, ids[row]), (int32_t)row);
        do
            ids[row] = (int64_t)rng_next(&r);
        while (idmap_insert(&m, ids[row], row) != 0);
    }
    uint32_t long1 = probe_stats(&m, &sum1, &c1);
    assert_int_equal(c1, ROWS);
    for (uint32_t i = 0; i < ROWS; i++)
        assert_int_equal(idmap_find(&m, ids[i]), (int32_t)i);
    double mean0 = (double)sum0 / c0, mean1 = (double)sum1 / c1;
    printf("figure: idmap at full load (%u ids in %u slots): mean probe %.2f, longest %u; after "
           "%d deletes + inserts: mean %.2f, longest %u\n",
           ROWS, m.nslots, mean0, long0, CHURN, mean1, long1);
    /* linear probing at load 1/2 expects 1.5 probes per successful lookup */
    assert_true(mean0 < 1.7 && mean1 < 1.7);
    assert_true(long0 < 100 && long1 < 100);
    idmap_free(&m);
    free(ids);
}

/* Saved slots load back as they were; broken ones are refused and leave an
 * empty map. */
static void test_load(void **state)
{
    enum { ROWS = 300 };
    mts_rng r;
    rng_seed(&r, 5);
    idmap m = {0};
    idmap_reserve(&m, ROWS);
    for (uint32_t i = 0; i < ROWS - 50; i++)
        assert_int_equal(idmap_insert(&m, (int64_t)rng_next(&r), i), 0);
    for (uint32_t h = 0, k = 0; h < m.nslots && k < 40; h++) /* some deletions too */
        if (m.slots[h].row && rng_uniform(&r) < 0.3) {
            assert_true(idmap_delete(&m, m.slots[h].id) >= 0);
            k++;
        }
    size_t bytes = (size_t)m.nslots * sizeof(idmap_slot);
    idmap_slot *saved = xmalloc(bytes);
    memcpy(saved, m.slots, bytes);
    char err[160];

    idmap l = {0};
    assert_int_equal(idmap_load(&l, ROWS, saved, m.nslots, err, sizeof(err)), 0);
    assert_int_equal(l.n, m.n);
    assert_int_equal(l.rows, ROWS);
    assert_memory_equal(l.slots, m.slots, bytes);
    for (uint32_t h = 0; h < m.nslots; h++)
        if (m.slots[h].row)
            assert_int_equal(idmap_find(&l, m.slots[h].id), (int32_t)m.slots[h].row - 1);
    assert_int_equal(idmap_load(&l, 0, NULL, 0, err, sizeof(err)), 0); /* no rows, no slots */
    assert_int_equal(l.nslots, 0);

    idmap_slot *bad = xmalloc(bytes);
    uint32_t mask = m.nslots - 1, occupied = 0, unused_row = 0;
    while (occupied < m.nslots && !m.slots[occupied].row)
        occupied++;
    for (uint32_t h = 0; h < m.nslots; h++) /* a row no entry holds */
        if (m.slots[h].row && m.slots[h].row > unused_row)
            unused_row = m.slots[h].row; /* highest row + 1 */
    assert_true(unused_row < ROWS);
    /* an empty slot followed by another empty slot (for the unreachable case) */
    uint32_t e = 0;
    while (m.slots[e].row || m.slots[(e + 1) & mask].row)
        e++;
    int64_t stray; /* an absent id whose probe stops at e */
    do
        stray = (int64_t)rng_next(&r);
    while (idmap_home(&m, stray) != e);

    struct {
        const char *what;
        uint32_t rows, nslots;
    } cases[] = {{"slot count", ROWS, m.nslots / 2},  {"slot count for rows", 2 * ROWS, m.nslots},
                 {"row beyond rows", ROWS, m.nslots}, {"row twice", ROWS, m.nslots},
                 {"id twice", ROWS, m.nslots},        {"unreachable", ROWS, m.nslots}};
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        memcpy(bad, saved, bytes);
        if (c == 2)
            bad[occupied].row = ROWS + 1;
        if (c == 3) { /* stray id at its home slot, on an existing entry's row */
            bad[e].id = stray;
            bad[e].row = m.slots[occupied].row;
        }
        if (c == 4) { /* an existing entry's id again, past it in its run */
            uint32_t h = (occupied + 1) & mask;
            while (bad[h].row)
                h = (h + 1) & mask;
            bad[h].id = m.slots[occupied].id;
            bad[h].row = unused_row + 1;
        }
        if (c == 5) { /* stray id one past the empty slot its probe stops at */
            bad[(e + 1) & mask].id = stray;
            bad[(e + 1) & mask].row = unused_row + 1;
        }
        err[0] = 0;
        assert_int_equal(idmap_load(&l, cases[c].rows, bad, cases[c].nslots, err, sizeof(err)), -1);
        printf("  %s: %s\n", cases[c].what, err);
        assert_true(err[0] != 0);
        assert_int_equal(l.n, 0);
        assert_int_equal(l.nslots, 0);
        assert_null(l.slots);
    }
    /* a failed load leaves a usable empty map */
    idmap_reserve(&l, 4);
    assert_int_equal(idmap_insert(&l, 9, 3), 0);
    assert_int_equal(idmap_find(&l, 9), 3);
    idmap_free(&l);
    idmap_free(&m);
    free(saved);
    free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_and_edges),
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_rebuild_layout),
        cmocka_unit_test(test_probe_runs),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
