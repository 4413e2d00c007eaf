/* rowgrad.h - sparse per-row gradients of an embedding table.
 *
 * A step touches few rows of a large table: each touched row gets a slot in
 * a dense (n_touched, dim) gradient buffer, found through the table's
 * per-row grad_slot index (-1: no gradient this step). Shared by the fixed
 * model's table (embtable.c) and the declared network's (dyntable.c); the
 * tables own the arrays, these functions only manage them. */
#ifndef MTS_ROWGRAD_H
#define MTS_ROWGRAD_H

#include <stddef.h>
#include <stdint.h>

/* The gradient slot of row (zeroed when first taken this step); grows
 * touched (cap) and grad (cap, dim) as needed. */
float *rowgrad_get(int32_t *grad_slot, uint32_t **touched, float **grad, uint32_t *n_touched,
                   uint32_t *touched_cap, size_t dim, int32_t row);
/* Forget this step's gradients. */
void rowgrad_clear(int32_t *grad_slot, const uint32_t *touched, uint32_t *n_touched);

#endif
