/* mtl_layers.h - layers and losses the declarative multitask network adds to
 * model/layers.h: plain and bilinear heads, column concatenation, hashed
 * character n-grams, and the uncertainty-weighted combined loss.
 *
 * Same convention as layers.h (llm.c): outputs first, then inputs, then
 * sizes; gradients prefixed d are ACCUMULATED (+=); a NULL gradient is
 * skipped. Shapes in comments. */
#ifndef MTS_MTL_LAYERS_H
#define MTS_MTL_LAYERS_H

#include <stdint.h>

/* out[b] = <a[b], c[b]> */
void rowdot_forward(float *out /* (B) */, const float *a /* (B, D) */, const float *c /* (B, D) */,
                    int B, int D);
void rowdot_backward(float *da /* (B, D) */, float *dc /* (B, D) */, const float *dout /* (B) */,
                     const float *a /* (B, D) */, const float *c /* (B, D) */, int B, int D);

/* Bilinear head: logit[b] = u[b]^T M v[b] + bias. uM (B, D2) keeps u M for backward. */
void bilinear_forward(float *logit /* (B) */, float *uM /* (B, D2) */, const float *u /* (B, D1) */,
                      const float *v /* (B, D2) */, const float *M /* (D1, D2) */, float bias,
                      int B, int D1, int D2);
void bilinear_backward(float *du /* (B, D1) */, float *dv /* (B, D2) */, float *dM /* (D1, D2) */,
                       float *dbias /* (1) */, const float *dlogit /* (B) */,
                       const float *uM /* (B, D2) */, const float *u /* (B, D1) */,
                       const float *v /* (B, D2) */, const float *M /* (D1, D2) */, int B, int D1,
                       int D2);

/* Copy a (B, D) block into columns [off, off + D) of out (B, W), and back. */
void concat_forward(float *out /* (B, W) */, const float *a /* (B, D) */, int B, int D, int W,
                    int off);
void concat_backward(float *da /* (B, D) */, const float *dout /* (B, W) */, int B, int D, int W,
                     int off);

/* Hashed character n-grams of text, for token representations that work
 * across languages: each whitespace-separated word is wrapped as "<word>",
 * split into Unicode code points (UTF-8; a malformed byte counts as one
 * character), ASCII letters lower-cased, and every run of n code points
 * (the whole word if shorter) hashed with seed into a 64-bit id. At most
 * max ids are written; returns how many. Words longer than 64 code points
 * are cut at 64. */
int ngram_ids(int64_t *out, int max, const char *text, int n, uint64_t seed);

/* Uncertainty weighting (Kendall, Gal & Cipolla 2018), s_t = log sigma_t^2:
 *   L = sum_t active[t] * (exp(-s_t) L_t + s_t)
 * dL_t += exp(-s_t); ds_t += 1 - exp(-s_t) L_t (active tasks only). */
float uncertainty_forward(const float *task_loss /* (T) */, const float *s /* (T) */,
                          const int *active /* (T) */, int T);
void uncertainty_backward(float *dtask_loss /* (T) */, float *ds /* (T) */,
                          const float *task_loss /* (T) */, const float *s /* (T) */,
                          const int *active /* (T) */, int T);

#endif
