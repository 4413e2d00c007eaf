/* auc.h - streaming AUC and log-loss for progressive validation.
 *
 * Scores are binned by predicted probability into AUC_BINS equal bins, with
 * positive and negative counts per bin; AUC is then the Mann-Whitney
 * statistic over the histogram, pairs inside one bin counting one half.
 * Two histograms are kept: cumulative, and over the last `window` events
 * (a ring buffer remembers each event's bin, label and log-loss so it can
 * be taken out again). Memory: O(AUC_BINS + window); auc_add is O(1). */
#ifndef MTS_AUC_H
#define MTS_AUC_H

#include <stdint.h>

#define AUC_BINS 2048

typedef struct {
    uint64_t pos[AUC_BINS], neg[AUC_BINS];   /* cumulative histograms */
    uint64_t wpos[AUC_BINS], wneg[AUC_BINS]; /* over the last `window` events */
    uint64_t n, npos;
    double logloss_sum;
    uint32_t window;     /* ring size; 0 = no window */
    uint32_t wn, whead;  /* events in the ring, next write position */
    uint16_t *ring_bin;  /* (window) */
    uint8_t *ring_label; /* (window) */
    float *ring_loss;    /* (window) */
} auc_stream;

void auc_init(auc_stream *a, uint32_t window);
void auc_free(auc_stream *a);
/* One scored event: the model's logit and the binary label (0/1). Non-finite
 * logits are ignored. */
void auc_add(auc_stream *a, float logit, int label);
double auc_cumulative(const auc_stream *a); /* 0.5 while a class is missing */
double auc_recent(const auc_stream *a);
double auc_logloss(const auc_stream *a);        /* mean over all events, 0 if none */
double auc_logloss_recent(const auc_stream *a); /* mean over the window */

/* Exact AUC by sorting, ties counted half (for tests and offline checks). */
double auc_exact(const float *score, const int *label, int n);

#endif
