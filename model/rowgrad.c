/* rowgrad.c - see rowgrad.h. */
#include "model/rowgrad.h"

#include "common/util.h"

#include <string.h>

float *rowgrad_get(int32_t *grad_slot, uint32_t **touched, float **grad, uint32_t *n_touched,
                   uint32_t *touched_cap, size_t dim, int32_t row)
{
    if (grad_slot[row] >= 0)
        return *grad + (size_t)grad_slot[row] * dim;
    if (*n_touched == *touched_cap) {
        *touched_cap = *touched_cap ? *touched_cap * 2 : 256;
        *touched = xrealloc(*touched, *touched_cap * sizeof(uint32_t));
        *grad = xrealloc(*grad, *touched_cap * dim * sizeof(float));
    }
    uint32_t k = (*n_touched)++;
    (*touched)[k] = (uint32_t)row;
    grad_slot[row] = (int32_t)k;
    float *g = *grad + k * dim;
    memset(g, 0, dim * sizeof(float));
    return g;
}

void rowgrad_clear(int32_t *grad_slot, const uint32_t *touched, uint32_t *n_touched)
{
    for (uint32_t k = 0; k < *n_touched; k++)
        grad_slot[touched[k]] = -1;
    *n_touched = 0;
}
