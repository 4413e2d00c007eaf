/* layers.c - the model's layers and losses as plain forward/backward functions.
 *
 * Each layer is a pair of functions over float arrays in the llm.c style:
 * forward writes its output and whatever backward needs, backward
 * accumulates into the gradients it is given. Matrix products go through
 * model/blas.c; the rest are simple loops the compiler vectorises.
 * tests/unit/test_grad.c checks every backward against finite differences. */
#include "model/layers.h"

#include "model/blas.h"

#include <math.h>
#include <string.h>

void dense_forward(float *out, const float *inp, const float *weight, const float *bias, int B,
                   int C, int OC)
{
    if (bias) {
        for (int b = 0; b < B; b++)
            memcpy(out + (size_t)b * OC, bias, (size_t)OC * sizeof(float));
    }
    blas_gemm_nt(out, inp, weight, B, OC, C, bias ? 1.0f : 0.0f);
}

void dense_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                    const float *weight, int B, int C, int OC)
{
    if (dinp)
        blas_gemm_nn(dinp, dout, weight, B, C, OC, 1.0f); /* (B, OC) @ (OC, C) */
    if (dweight)
        blas_gemm_tn(dweight, dout, inp, OC, C, B, 1.0f); /* (B, OC)^T @ (B, C) */
    if (dbias) {
        for (int b = 0; b < B; b++) {
            const float *d = dout + (size_t)b * OC;
            for (int o = 0; o < OC; o++)
                dbias[o] += d[o];
        }
    }
}

void relu_forward(float *out, const float *in, int N)
{
    for (int i = 0; i < N; i++) /* branch-free: signs are random, branches mispredict */
        out[i] = fmaxf(in[i], 0.0f);
}

void relu_backward(float *din, const float *dout, const float *out, int N)
{
    for (int i = 0; i < N; i++)
        din[i] += (float)(out[i] > 0.0f) * dout[i];
}

void dot_head_forward(float *logit, float *dot, const float *m, const float *c, const int *task,
                      const float *scale, const float *bias, int B, int D)
{
    for (int b = 0; b < B; b++) {
        const float *mb = m + (size_t)b * D, *cb = c + (size_t)b * D;
        float s = 0.0f;
        for (int i = 0; i < D; i++)
            s += mb[i] * cb[i];
        dot[b] = s;
        logit[b] = scale[task[b]] * s + bias[task[b]];
    }
}

void dot_head_backward(float *dm, float *dc, float *dscale, float *dbias, const float *dlogit,
                       const float *dot, const float *m, const float *c, const int *task,
                       const float *scale, int B, int D)
{
    for (int b = 0; b < B; b++) {
        int t = task[b];
        float g = dlogit[b], gs = g * scale[t];
        const float *mb = m + (size_t)b * D, *cb = c + (size_t)b * D;
        if (dm) {
            float *d = dm + (size_t)b * D;
            for (int i = 0; i < D; i++)
                d[i] += gs * cb[i];
        }
        if (dc) {
            float *d = dc + (size_t)b * D;
            for (int i = 0; i < D; i++)
                d[i] += gs * mb[i];
        }
        if (dscale)
            dscale[t] += g * dot[b];
        if (dbias)
            dbias[t] += g;
    }
}

float sigmoidf_stable(float z)
{
    if (z >= 0.0f)
        return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}

float bce_forward(float *loss, const float *logit, const float *y, const float *w, int B)
{
    double total = 0.0;
    for (int b = 0; b < B; b++) {
        float z = logit[b];
        float l = fmaxf(z, 0.0f) - z * y[b] + log1pf(expf(-fabsf(z)));
        if (loss)
            loss[b] = l;
        total += (double)w[b] * l;
    }
    return (float)total;
}

void bce_backward(float *dlogit, const float *logit, const float *y, const float *w, int B)
{
    for (int b = 0; b < B; b++)
        dlogit[b] += w[b] * (sigmoidf_stable(logit[b]) - y[b]);
}

float hinge_forward(const float *score, const float *y, const float *w, float margin, int B)
{
    double total = 0.0;
    for (int b = 0; b < B; b++) {
        float h = margin - y[b] * score[b];
        if (h > 0.0f)
            total += (double)w[b] * h;
    }
    return (float)total;
}

void hinge_backward(float *dscore, const float *score, const float *y, const float *w, float margin,
                    int B)
{
    for (int b = 0; b < B; b++)
        if (margin - y[b] * score[b] > 0.0f)
            dscore[b] -= w[b] * y[b];
}

void meanpool_forward(float *out, const float *in, const int *offsets, int B, int D)
{
    for (int b = 0; b < B; b++) {
        float *o = out + (size_t)b * D;
        memset(o, 0, (size_t)D * sizeof(float));
        int n = offsets[b + 1] - offsets[b];
        if (n <= 0)
            continue;
        for (int j = offsets[b]; j < offsets[b + 1]; j++) {
            const float *r = in + (size_t)j * D;
            for (int i = 0; i < D; i++)
                o[i] += r[i];
        }
        float inv = 1.0f / (float)n;
        for (int i = 0; i < D; i++)
            o[i] *= inv;
    }
}

void meanpool_backward(float *din, const float *dout, const int *offsets, int B, int D)
{
    for (int b = 0; b < B; b++) {
        int n = offsets[b + 1] - offsets[b];
        if (n <= 0)
            continue;
        float inv = 1.0f / (float)n;
        const float *g = dout + (size_t)b * D;
        for (int j = offsets[b]; j < offsets[b + 1]; j++) {
            float *d = din + (size_t)j * D;
            for (int i = 0; i < D; i++)
                d[i] += g[i] * inv;
        }
    }
}
