/* mtl_layers.c - the multitask network's extra layers and losses.
 *
 * Plain loops except the bilinear form, whose matrix product goes through
 * model/blas.c. ngram_ids walks UTF-8 by hand (no locale): a lead byte's
 * length is trusted only if its continuation bytes are there, so truncated
 * or malformed text cannot make it read past the terminating NUL.
 * tests/unit/test_mtl.c checks every backward against finite differences. */
#include "model/mtl_layers.h"

#include "common/util.h"
#include "model/blas.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void rowdot_forward(float *out, const float *a, const float *c, int B, int D)
{
    for (int b = 0; b < B; b++) {
        const float *x = a + (size_t)b * D, *y = c + (size_t)b * D;
        float s = 0.0f;
        for (int i = 0; i < D; i++)
            s += x[i] * y[i];
        out[b] = s;
    }
}

void rowdot_backward(float *da, float *dc, const float *dout, const float *a, const float *c, int B,
                     int D)
{
    for (int b = 0; b < B; b++) {
        float g = dout[b];
        const float *x = a + (size_t)b * D, *y = c + (size_t)b * D;
        if (da)
            for (int i = 0; i < D; i++)
                da[(size_t)b * D + i] += g * y[i];
        if (dc)
            for (int i = 0; i < D; i++)
                dc[(size_t)b * D + i] += g * x[i];
    }
}

void bilinear_forward(float *logit, float *uM, const float *u, const float *v, const float *M,
                      float bias, int B, int D1, int D2)
{
    blas_gemm_nn(uM, u, M, B, D2, D1, 0.0f); /* (B, D1) @ (D1, D2) */
    rowdot_forward(logit, uM, v, B, D2);
    for (int b = 0; b < B; b++)
        logit[b] += bias;
}

void bilinear_backward(float *du, float *dv, float *dM, float *dbias, const float *dlogit,
                       const float *uM, const float *u, const float *v, const float *M, int B,
                       int D1, int D2)
{
    float *duM = xcalloc((size_t)B * D2, sizeof(float)); /* (B, D2) = dlogit * v */
    rowdot_backward(duM, dv, dlogit, uM, v, B, D2);
    if (du)
        blas_gemm_nt(du, duM, M, B, D1, D2, 1.0f); /* (B, D2) @ (D1, D2)^T */
    if (dM)
        blas_gemm_tn(dM, u, duM, D1, D2, B, 1.0f); /* (B, D1)^T @ (B, D2) */
    if (dbias)
        for (int b = 0; b < B; b++)
            *dbias += dlogit[b];
    free(duM);
}

void concat_forward(float *out, const float *a, int B, int D, int W, int off)
{
    for (int b = 0; b < B; b++)
        memcpy(out + (size_t)b * W + off, a + (size_t)b * D, (size_t)D * sizeof(float));
}

void concat_backward(float *da, const float *dout, int B, int D, int W, int off)
{
    for (int b = 0; b < B; b++)
        for (int i = 0; i < D; i++)
            da[(size_t)b * D + i] += dout[(size_t)b * W + off + i];
}

/* Length of the UTF-8 character at p (1 for a malformed or truncated one). */
static int utf8_len(const unsigned char *p)
{
    int n = p[0] < 0x80         ? 1
            : (p[0] >> 5) == 6  ? 2
            : (p[0] >> 4) == 14 ? 3
            : (p[0] >> 3) == 30 ? 4
                                : 1;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 1;
    return n;
}

#define NGRAM_MAX_WORD 64

int ngram_ids(int64_t *out, int max, const char *text, int n, uint64_t seed)
{
    if (!text || max <= 0 || n < 1)
        return 0;
    if (n > 8)
        n = 8;
    const unsigned char *p = (const unsigned char *)text;
    int k = 0;
    while (*p && k < max) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        /* code points of "<word>", each as up to 4 bytes packed in a uint32 */
        uint32_t cp[NGRAM_MAX_WORD + 2];
        int len = 0;
        cp[len++] = '<';
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            int l = utf8_len(p);
            uint32_t c = 0;
            for (int i = 0; i < l; i++)
                c = (c << 8) | p[i];
            if (l == 1 && c >= 'A' && c <= 'Z')
                c += 'a' - 'A';
            if (len <= NGRAM_MAX_WORD)
                cp[len++] = c;
            p += l;
        }
        cp[len++] = '>';
        int g = len < n ? len : n;
        for (int s = 0; s + g <= len && k < max; s++) {
            uint64_t h = hash64(cp + s, (size_t)g * sizeof(uint32_t)) ^ mix64(seed + (uint64_t)g);
            out[k++] = (int64_t)mix64(h);
        }
    }
    return k;
}

float uncertainty_forward(const float *task_loss, const float *s, const int *active, int T)
{
    double total = 0.0;
    for (int t = 0; t < T; t++)
        if (active[t])
            total += exp(-(double)s[t]) * task_loss[t] + s[t];
    return (float)total;
}

void uncertainty_backward(float *dtask_loss, float *ds, const float *task_loss, const float *s,
                          const int *active, int T)
{
    for (int t = 0; t < T; t++) {
        if (!active[t])
            continue;
        float e = expf(-s[t]);
        if (dtask_loss)
            dtask_loss[t] += e;
        if (ds)
            ds[t] += 1.0f - e * task_loss[t];
    }
}
