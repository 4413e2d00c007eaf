/* idmap.h - 64-bit entity id -> row index, the lookup of both embedding
 * tables (model/embtable.c, model/dyntable.c).
 *
 * The owner keeps its rows in arrays of `rows` allocated entries; the map
 * finds the row of an id. It is open addressing with linear probing over a
 * power-of-two slot array, each slot holding the full id next to row + 1
 * (0 = empty): two ids never share a row, and an id is either found exactly
 * or the probe stops at an empty slot. The array has at least 16 and at
 * least 2 * rows slots, so it is never more than half full and probe runs
 * stay short. Deletion shifts the later entries of the probe run back into
 * the hole (backward shift), so there are no tombstones and runs do not grow
 * under churn. idmap_reserve rebuilds the array when the owner's row arrays
 * grow, inserting the entries in row order: the layout then depends only on
 * the operations, never on how the previous array happened to be arranged,
 * and dyntable checkpoints, which store the slot array byte for byte, are
 * reproducible.
 *
 * A zeroed idmap is an empty map with no rows reserved. */
#ifndef MTS_IDMAP_H
#define MTS_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#define IDMAP_MAX_ROWS (1u << 30)

typedef struct {
    int64_t id;
    uint32_t row; /* row + 1; 0 = empty slot */
} idmap_slot;

typedef struct {
    idmap_slot *slots; /* (nslots) */
    uint32_t nslots;   /* idmap_nslots_for(rows): 0, or a power of two >= 16 and >= 2 * rows */
    uint32_t rows;     /* rows reserved: every row stored is < rows */
    uint32_t n;        /* ids stored (<= rows) */
} idmap;

void idmap_free(idmap *m);
/* Make room for rows 0..rows-1 (at most IDMAP_MAX_ROWS; never shrinks),
 * rebuilding the slot array if it needs more slots. */
void idmap_reserve(idmap *m, uint32_t rows);
/* Slots a map with rows reserved has (0 for 0 rows). */
uint32_t idmap_nslots_for(uint32_t rows);

/* Row of id, or -1. */
int32_t idmap_find(const idmap *m, int64_t id);
/* Map id to row: 0, or -1 (map unchanged) if id is already present, row is
 * not below rows, or n == rows. Different ids on one row are the caller's
 * business. */
int idmap_insert(idmap *m, int64_t id, uint32_t row);
/* Remove id: the row it had, or -1 if absent. */
int32_t idmap_delete(idmap *m, int64_t id);
/* Slot where the probe for id starts (nslots must be > 0). */
uint32_t idmap_home(const idmap *m, int64_t id);

/* Checkpoints: the owner saves slots (nslots * sizeof(idmap_slot) bytes,
 * host byte order) as they are. idmap_load replaces m's contents with such
 * bytes for rows reserved rows: nslots must be idmap_nslots_for(rows),
 * every row below rows and on one slot only, every id on one slot only and
 * reachable from its home slot. -1 with a reason (m then empty, no rows). */
int idmap_load(idmap *m, uint32_t rows, const void *slots, uint32_t nslots, char *err,
               size_t errlen);

#endif
