/* blas.h - the only place mtlstream calls BLAS: row-major sgemm wrappers.
 *
 * Everything else multiplies matrices through these, so the library choice
 * (OpenBLAS here) and its threading live in one file. */
#ifndef MTS_BLAS_H
#define MTS_BLAS_H

/* One BLAS thread: results are then bit-identical from run to run, and the
 * service runs its own threads. Call once at start-up (model_new does). */
void blas_init_single_thread(void);

/* out (M, N) = beta * out + a (M, K) @ b (N, K)^T */
void blas_gemm_nt(float *out, const float *a, const float *b, int M, int N, int K, float beta);
/* out (M, N) = beta * out + a (M, K) @ b (K, N) */
void blas_gemm_nn(float *out, const float *a, const float *b, int M, int N, int K, float beta);
/* out (M, N) = beta * out + a (K, M)^T @ b (K, N) */
void blas_gemm_tn(float *out, const float *a, const float *b, int M, int N, int K, float beta);

#endif
