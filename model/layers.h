/* layers.h - forward/backward pairs for the model's layers and losses.
 *
 * Convention (llm.c): outputs first, then inputs, then sizes; gradients are
 * prefixed d and ACCUMULATED with +=, so the caller zeroes them once per
 * step; a NULL gradient pointer means "not needed". Shapes in comments. */
#ifndef MTS_LAYERS_H
#define MTS_LAYERS_H

/* Dense layer: out = inp @ weight^T + bias. bias may be NULL. */
void dense_forward(float *out /* (B, OC) */, const float *inp /* (B, C) */,
                   const float *weight /* (OC, C) */, const float *bias /* (OC) */, int B, int C,
                   int OC);
void dense_backward(float *dinp /* (B, C) */, float *dweight /* (OC, C) */, float *dbias /* (OC) */,
                    const float *dout /* (B, OC) */, const float *inp /* (B, C) */,
                    const float *weight /* (OC, C) */, int B, int C, int OC);

/* out = max(in, 0); in place is allowed (out == in). */
void relu_forward(float *out /* (N) */, const float *in /* (N) */, int N);
/* Uses the forward output: the gradient passes where out > 0. */
void relu_backward(float *din /* (N) */, const float *dout /* (N) */, const float *out /* (N) */,
                   int N);

/* Per-task dot head: logit[b] = scale[task[b]] * <m[b], c[b]> + bias[task[b]].
 * dot (B) keeps <m, c> for the backward pass. */
void dot_head_forward(float *logit /* (B) */, float *dot /* (B) */, const float *m /* (B, D) */,
                      const float *c /* (B, D) */, const int *task /* (B) */,
                      const float *scale /* (T) */, const float *bias /* (T) */, int B, int D);
void dot_head_backward(float *dm /* (B, D) */, float *dc /* (B, D) */, float *dscale /* (T) */,
                       float *dbias /* (T) */, const float *dlogit /* (B) */,
                       const float *dot /* (B) */, const float *m /* (B, D) */,
                       const float *c /* (B, D) */, const int *task /* (B) */,
                       const float *scale /* (T) */, int B, int D);

/* Weighted binary cross-entropy on logits, label y in [0, 1]:
 *   L = sum_b w[b] * (max(z, 0) - z y + log(1 + exp(-|z|)))
 * (the stable form of -y log s(z) - (1-y) log(1-s(z))). Returns L; loss (B)
 * receives the unweighted per-row terms when not NULL. */
float bce_forward(float *loss /* (B) */, const float *logit /* (B) */, const float *y /* (B) */,
                  const float *w /* (B) */, int B);
/* dlogit += w (sigmoid(z) - y) */
void bce_backward(float *dlogit /* (B) */, const float *logit /* (B) */, const float *y /* (B) */,
                  const float *w /* (B) */, int B);

/* Weighted hinge loss, y in {-1, +1}: L = sum_b w[b] * max(0, margin - y z). */
float hinge_forward(const float *score /* (B) */, const float *y /* (B) */,
                    const float *w /* (B) */, float margin, int B);
void hinge_backward(float *dscore /* (B) */, const float *score /* (B) */, const float *y /* (B) */,
                    const float *w /* (B) */, float margin, int B);

/* Mean over bags: out[b] = mean of in[offsets[b] .. offsets[b+1]), 0 if empty. */
void meanpool_forward(float *out /* (B, D) */, const float *in /* (N, D) */,
                      const int *offsets /* (B+1) */, int B, int D);
void meanpool_backward(float *din /* (N, D) */, const float *dout /* (B, D) */,
                       const int *offsets /* (B+1) */, int B, int D);

/* Numerically safe logistic function. */
float sigmoidf_stable(float z);

#endif
