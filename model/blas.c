/* blas.c - row-major sgemm wrappers over OpenBLAS's cblas interface.
 *
 * The three transposition patterns a dense layer needs (forward: x W^T,
 * input gradient: dy W, weight gradient: dy^T x) each get a named helper so
 * call sites read as shapes, not as cblas argument lists. Zero-sized
 * products are skipped (cblas rejects some of them). */
#include "model/blas.h"

#include <cblas.h>

void blas_init_single_thread(void)
{
    openblas_set_num_threads(1);
}

void blas_gemm_nt(float *out, const float *a, const float *b, int M, int N, int K, float beta)
{
    if (M <= 0 || N <= 0 || K <= 0)
        return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, a, K, b, K, beta, out, N);
}

void blas_gemm_nn(float *out, const float *a, const float *b, int M, int N, int K, float beta)
{
    if (M <= 0 || N <= 0 || K <= 0)
        return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, beta, out, N);
}

void blas_gemm_tn(float *out, const float *a, const float *b, int M, int N, int K, float beta)
{
    if (M <= 0 || N <= 0 || K <= 0)
        return;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, K, 1.0f, a, M, b, N, beta, out, N);
}
