/* idmap.c - see idmap.h. */
#include "model/idmap.h"

#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void idmap_free(idmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

uint32_t idmap_nslots_for(uint32_t rows)
{
    if (!rows)
        return 0;
    if (rows > IDMAP_MAX_ROWS)
        rows = IDMAP_MAX_ROWS;
    uint32_t ns = 16;
    while (ns < 2 * (uint64_t)rows)
        ns *= 2;
    return ns;
}

static uint32_t home_of(int64_t id, uint32_t mask)
{
    return (uint32_t)(mix64((uint64_t)id ^ 0x9e3779b97f4a7c15ULL) & mask);
}

uint32_t idmap_home(const idmap *m, int64_t id)
{
    return home_of(id, m->nslots - 1);
}

/* Put id (known absent) in the first empty slot of its probe run. */
static void place(idmap *m, int64_t id, uint32_t row1)
{
    uint32_t mask = m->nslots - 1, h = home_of(id, mask);
    while (m->slots[h].row)
        h = (h + 1) & mask;
    m->slots[h].id = id;
    m->slots[h].row = row1;
}

void idmap_reserve(idmap *m, uint32_t rows)
{
    if (rows > IDMAP_MAX_ROWS)
        rows = IDMAP_MAX_ROWS;
    if (rows <= m->rows)
        return;
    uint32_t ns = idmap_nslots_for(rows);
    if (ns == m->nslots) {
        m->rows = rows;
        return;
    }
    /* Collect the entries by row (every row is below the old rows), then
     * insert them in row order. */
    idmap_slot *by_row = m->n ? xcalloc(m->rows, sizeof(idmap_slot)) : NULL;
    for (uint32_t h = 0; m->n && h < m->nslots; h++)
        if (m->slots[h].row)
            by_row[m->slots[h].row - 1] = m->slots[h];
    uint32_t old_rows = m->rows;
    free(m->slots);
    m->slots = xcalloc(ns, sizeof(idmap_slot));
    m->nslots = ns;
    m->rows = rows;
    for (uint32_t r = 0; by_row && r < old_rows; r++)
        if (by_row[r].row)
            place(m, by_row[r].id, by_row[r].row);
    free(by_row);
}

int32_t idmap_find(const idmap *m, int64_t id)
{
    if (!m->nslots)
        return -1;
    uint32_t mask = m->nslots - 1;
    for (uint32_t h = home_of(id, mask);; h = (h + 1) & mask) {
        const idmap_slot *s = &m->slots[h];
        if (!s->row)
            return -1;
        if (s->id == id)
            return (int32_t)(s->row - 1);
    }
}

int idmap_insert(idmap *m, int64_t id, uint32_t row)
{
    if (row >= m->rows || m->n >= m->rows)
        return -1;
    uint32_t mask = m->nslots - 1, h = home_of(id, mask);
    for (; m->slots[h].row; h = (h + 1) & mask)
        if (m->slots[h].id == id)
            return -1;
    m->slots[h].id = id;
    m->slots[h].row = row + 1;
    m->n++;
    return 0;
}

int32_t idmap_delete(idmap *m, int64_t id)
{
    if (!m->nslots)
        return -1;
    uint32_t mask = m->nslots - 1;
    uint32_t h = home_of(id, mask);
    while (m->slots[h].row && m->slots[h].id != id)
        h = (h + 1) & mask;
    if (!m->slots[h].row)
        return -1;
    int32_t row = (int32_t)(m->slots[h].row - 1);
    /* Walk the rest of the run: an entry may fill the hole unless its home
     * lies cyclically within (hole, j], where the probe for it would stop at
     * the hole before reaching it. */
    uint32_t hole = h;
    for (uint32_t j = (hole + 1) & mask; m->slots[j].row; j = (j + 1) & mask) {
        uint32_t home = home_of(m->slots[j].id, mask);
        int stays = (hole <= j) ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole].row = 0;
    m->slots[hole].id = 0;
    m->n--;
    return row;
}

#define LOAD_FAIL(...)                                                                             \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        free(seen);                                                                                \
        idmap_free(m);                                                                             \
        return -1;                                                                                 \
    } while (0)

int idmap_load(idmap *m, uint32_t rows, const void *slots, uint32_t nslots, char *err,
               size_t errlen)
{
    uint8_t *seen = NULL;
    idmap_free(m);
    if (rows > IDMAP_MAX_ROWS || nslots != idmap_nslots_for(rows))
        LOAD_FAIL("id map of %u slots for %u rows (expected %u)", nslots, rows,
                  idmap_nslots_for(rows > IDMAP_MAX_ROWS ? IDMAP_MAX_ROWS : rows));
    if (!rows)
        return 0;
    m->slots = xmalloc((size_t)nslots * sizeof(idmap_slot));
    memcpy(m->slots, slots, (size_t)nslots * sizeof(idmap_slot)); /* as saved, padding included */
    m->nslots = nslots;
    m->rows = rows;
    seen = xcalloc((size_t)rows / 8 + 1, 1);
    uint32_t mask = nslots - 1;
    for (uint32_t h = 0; h < nslots; h++) {
        const idmap_slot *s = &m->slots[h];
        if (!s->row)
            continue;
        uint32_t r = s->row - 1;
        if (r >= rows || (seen[r / 8] >> (r % 8) & 1))
            LOAD_FAIL("id map slot %u holds row %u, beyond %u rows or a row twice", h, r, rows);
        seen[r / 8] |= (uint8_t)(1u << (r % 8));
        /* the probe for s->id must reach h without an empty slot or s->id */
        for (uint32_t j = home_of(s->id, mask); j != h; j = (j + 1) & mask)
            if (!m->slots[j].row || m->slots[j].id == s->id)
                LOAD_FAIL("id map slot %u: id %lld %s", h, (long long)s->id,
                          m->slots[j].row ? "appears twice" : "unreachable from its home slot");
        m->n++;
    }
    free(seen);
    return 0;
}
