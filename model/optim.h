/* optim.h - first-order optimizers over flat float arrays.
 *
 * Each update reads the gradient g and moves the parameters w in place;
 * the optimizer state (acc, m, v) belongs to the caller and has w's size. */
#ifndef MTS_OPTIM_H
#define MTS_OPTIM_H

#include <stddef.h>

/* w -= lr g */
void sgd_update(float *w /* (n) */, const float *g /* (n) */, size_t n, float lr);
/* acc += g^2; w -= lr g / (sqrt(acc) + eps) */
void adagrad_update(float *w /* (n) */, const float *g /* (n) */, float *acc /* (n) */, size_t n,
                    float lr, float eps);

/* One accumulator for the whole row: acc += mean(g^2); w -= lr g / (sqrt(acc) + eps) */
void rowwise_adagrad_update(float *w /* (n) */, const float *g /* (n) */, float *acc /* (1) */,
                            size_t n, float lr, float eps);

typedef struct {
    float lr, beta1, beta2, eps;
    long t; /* steps taken; adam_update increments it before use */
} adam_state;

void adam_init(adam_state *s, float lr);
/* Adam with bias correction (Kingma & Ba, 2015). */
void adam_update(adam_state *s, float *w /* (n) */, const float *g /* (n) */, float *m /* (n) */,
                 float *v /* (n) */, size_t n);

#endif
