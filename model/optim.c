/* optim.c - SGD, Adagrad and Adam over flat arrays.
 *
 * Dense parameters live in one allocation per model, so one call updates all
 * of them; embedding tables call rowwise_adagrad_update per touched row
 * (sparse Adagrad), which is why Adagrad takes no step counter: a row's
 * effective rate depends only on its own gradient history. */
#include "model/optim.h"

#include <math.h>

void sgd_update(float *w, const float *g, size_t n, float lr)
{
    for (size_t i = 0; i < n; i++)
        w[i] -= lr * g[i];
}

void adagrad_update(float *w, const float *g, float *acc, size_t n, float lr, float eps)
{
    for (size_t i = 0; i < n; i++) {
        acc[i] += g[i] * g[i];
        w[i] -= lr * g[i] / (sqrtf(acc[i]) + eps);
    }
}

void rowwise_adagrad_update(float *w, const float *g, float *acc, size_t n, float lr, float eps)
{
    float ss = 0.0f;
    for (size_t i = 0; i < n; i++)
        ss += g[i] * g[i];
    *acc += ss / (float)n;
    float step = lr / (sqrtf(*acc) + eps);
    for (size_t i = 0; i < n; i++)
        w[i] -= step * g[i];
}

void adam_init(adam_state *s, float lr)
{
    s->lr = lr;
    s->beta1 = 0.9f;
    s->beta2 = 0.999f;
    s->eps = 1e-8f;
    s->t = 0;
}

void adam_update(adam_state *s, float *w, const float *g, float *m, float *v, size_t n)
{
    s->t++;
    float c1 = 1.0f - powf(s->beta1, (float)s->t);
    float c2 = 1.0f - powf(s->beta2, (float)s->t);
    float b1 = s->beta1, b2 = s->beta2;
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        float mh = m[i] / c1, vh = v[i] / c2;
        w[i] -= s->lr * mh / (sqrtf(vh) + s->eps);
    }
}
