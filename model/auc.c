/* auc.c - histogram AUC, cumulative and windowed, plus mean log-loss.
 *
 * AUC = P(score of a random positive > score of a random negative), ties one
 * half. Over a histogram: walk the bins from low to high keeping the number
 * of negatives below; each positive in bin b beats those and ties with the
 * negatives of bin b. Binning by probability with 2048 bins loses at most
 * (share of pairs falling into one bin) / 2, well under 0.002 for scores
 * that spread over more than a few bins. */
#include "model/auc.h"

#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void auc_init(auc_stream *a, uint32_t window)
{
    memset(a, 0, sizeof(*a));
    a->window = window;
    if (window) {
        a->ring_bin = xcalloc(window, sizeof(uint16_t));
        a->ring_label = xcalloc(window, 1);
        a->ring_loss = xcalloc(window, sizeof(float));
    }
}

void auc_free(auc_stream *a)
{
    free(a->ring_bin);
    free(a->ring_label);
    free(a->ring_loss);
    a->ring_bin = NULL;
    a->ring_label = NULL;
    a->ring_loss = NULL;
}

void auc_add(auc_stream *a, float logit, int label)
{
    if (!isfinite(logit))
        return;
    label = label ? 1 : 0;
    double z = logit;
    double p = z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
    /* -log p(label) from the logit, stable at both ends */
    double loss = (z > 0 ? z : 0) - z * label + log1p(exp(-fabs(z)));
    int bin = (int)(p * AUC_BINS);
    if (bin >= AUC_BINS)
        bin = AUC_BINS - 1;
    if (bin < 0)
        bin = 0;
    (label ? a->pos : a->neg)[bin]++;
    a->n++;
    a->npos += (uint64_t)label;
    a->logloss_sum += loss;
    if (!a->window)
        return;
    if (a->wn == a->window) { /* evict the oldest, which sits where we write */
        uint32_t o = a->whead;
        (a->ring_label[o] ? a->wpos : a->wneg)[a->ring_bin[o]]--;
    } else {
        a->wn++;
    }
    a->ring_bin[a->whead] = (uint16_t)bin;
    a->ring_label[a->whead] = (uint8_t)label;
    a->ring_loss[a->whead] = (float)loss;
    (label ? a->wpos : a->wneg)[bin]++;
    a->whead = (a->whead + 1) % a->window;
}

static double hist_auc(const uint64_t *pos, const uint64_t *neg)
{
    double below = 0.0, num = 0.0, P = 0.0, N = 0.0;
    for (int b = 0; b < AUC_BINS; b++) {
        num += (double)pos[b] * (below + 0.5 * (double)neg[b]);
        below += (double)neg[b];
        P += (double)pos[b];
    }
    N = below;
    if (P == 0.0 || N == 0.0)
        return 0.5;
    return num / (P * N);
}

double auc_cumulative(const auc_stream *a)
{
    return hist_auc(a->pos, a->neg);
}

double auc_recent(const auc_stream *a)
{
    return a->window ? hist_auc(a->wpos, a->wneg) : auc_cumulative(a);
}

double auc_logloss(const auc_stream *a)
{
    return a->n ? a->logloss_sum / (double)a->n : 0.0;
}

double auc_logloss_recent(const auc_stream *a)
{
    if (!a->window)
        return auc_logloss(a);
    if (!a->wn)
        return 0.0;
    double s = 0.0; /* summed afresh: no drift from adding and subtracting */
    for (uint32_t i = 0; i < a->wn; i++)
        s += a->ring_loss[i];
    return s / (double)a->wn;
}

typedef struct {
    float s;
    int y;
} scored;

static int cmp_scored(const void *pa, const void *pb)
{
    float a = ((const scored *)pa)->s, b = ((const scored *)pb)->s;
    return (a > b) - (a < b);
}

double auc_exact(const float *score, const int *label, int n)
{
    scored *v = xmalloc((size_t)(n > 0 ? n : 1) * sizeof(scored));
    for (int i = 0; i < n; i++) {
        v[i].s = score[i];
        v[i].y = label[i] ? 1 : 0;
    }
    qsort(v, (size_t)n, sizeof(scored), cmp_scored);
    double below = 0.0, num = 0.0, P = 0.0;
    for (int i = 0; i < n;) {
        int j = i;
        double p = 0, q = 0;
        while (j < n && v[j].s == v[i].s) {
            if (v[j].y)
                p++;
            else
                q++;
            j++;
        }
        num += p * (below + 0.5 * q);
        below += q;
        P += p;
        i = j;
    }
    free(v);
    if (P == 0.0 || below == 0.0)
        return 0.5;
    return num / (P * below);
}
