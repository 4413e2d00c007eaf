/* affinity.h - the member-company affinity model (internal to model/).
 *
 * Shared bottom: a member tower and a company tower, each
 *   id embedding (E) -> dense E->H -> ReLU -> dense H->D,
 * shared by every affinity task; per task a dot head
 *   logit = scale[t] * <member, company> + bias[t].
 * The member tower output is the published member embedding (likewise
 * company). One step = affinity_forward, affinity_backward, affinity_update;
 * the three are separate so tests can check gradients between them. */
#ifndef MTS_AFFINITY_H
#define MTS_AFFINITY_H

#include "model/embtable.h"
#include "model/optim.h"

#include <stddef.h>
#include <stdint.h>

#define AFF_MAX_WIDTH 1024 /* bound on E, H and D (stack buffers in affinity_embed) */

typedef struct {
    float *m_w1;  /* (H, E) member tower, layer 1 */
    float *m_b1;  /* (H) */
    float *m_w2;  /* (D, H) member tower, layer 2 */
    float *m_b2;  /* (D) */
    float *c_w1;  /* (H, E) company tower */
    float *c_b1;  /* (H) */
    float *c_w2;  /* (D, H) */
    float *c_b2;  /* (D) */
    float *scale; /* (T) per-task head scale */
    float *bias;  /* (T) per-task head bias */
} aff_params;

typedef struct {
    int E, H, D, T;
    embtable members, companies; /* (E) rows each */
    float lr_table;
    float *mem; /* one allocation: params, grads, adam m, adam v */
    size_t n_params;
    aff_params p, g;        /* parameters and their gradients */
    float *adam_m, *adam_v; /* (n_params) */
    adam_state adam;
    /* activations of the last forward, for B rows (capacity cap) */
    int B, cap;
    int32_t *mrow, *crow; /* (B) table rows, -1 = refused (zero input) */
    int *task;            /* (B) */
    float *y, *w;         /* (B) labels and loss weights */
    float *xm, *xc;       /* (B, E) gathered id embeddings */
    float *hm, *hc;       /* (B, H) hidden activations after ReLU */
    float *om, *oc;       /* (B, D) tower outputs */
    float *dot, *logit;   /* (B) */
    /* backward scratch */
    float *dlogit;    /* (B) */
    float *dom, *doc; /* (B, D) */
    float *dh, *dpre; /* (B, H) */
    float *dx;        /* (B, E) */
} affinity;

int affinity_init(affinity *a, int E, int H, int D, int T, uint32_t capacity, float lr_dense,
                  float lr_table, uint64_t seed, char *err, size_t errlen);
void affinity_free(affinity *a);

/* Scores B (member, company, task) triples into a->logit. With create, new
 * ids get table rows. y and w may be NULL (scoring only); otherwise returns
 * sum_b w[b] * bce(logit[b], y[b]). */
float affinity_forward(affinity *a, const int64_t *member /* (B) */,
                       const int64_t *company /* (B) */, const int *task /* (B) */,
                       const float *y /* (B) */, const float *w /* (B) */, int B, int create);
/* Gradients of the last forward's loss: a->g (zeroed first) and the tables'
 * sparse gradient slots (cleared first). */
void affinity_backward(affinity *a);
/* Adam on the dense parameters, Adagrad on the touched rows, events++. */
void affinity_update(affinity *a);

/* Tower output (D) for a table row; which: 0 member, 1 company. */
void affinity_embed(const affinity *a, int which, int32_t row, float *out /* (D) */);

#endif
