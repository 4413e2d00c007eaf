/* skill.h - the contextual skill model (internal to model/).
 *
 * Input: a skill entity id, the sentence (tokens) with the candidate span,
 * and the domain (e.g. "tech", "house", "da"). Representation:
 *   e (K)  entity embedding, a table row keyed by the entity id;
 *   q (K)  context: mean of hashed character 3-gram embeddings of the words
 *          around the span ("<word>" split into 3-grams; hashing bytes
 *          works for any language and any unseen word), span words and
 *          context words hashed with different salts;
 *   x = [e, q, e*q] (3K) -> dense 3K->H -> ReLU -> h (H)   (shared by all domains)
 *   logit = <w2 + u_d, h> + b2 + c_d                        (u_d, c_d: domain d's own part)
 * Domains are created on first sight, up to SKILL_MAX_DOMAINS; later ones
 * use the shared part only (and are counted). */
#ifndef MTS_SKILL_H
#define MTS_SKILL_H

#include "common/row.h"
#include "model/embtable.h"
#include "model/optim.h"

#include <stddef.h>
#include <stdint.h>

#define SKILL_MAX_DOMAINS 64
#define SKILL_WINDOW 5           /* context words on each side of the span */
#define SKILL_SPAN_WORDS 8         /* span words used */
#define SKILL_MAX_WORD 32        /* bytes of a word used */
#define SKILL_MAX_NGRAMS ((2 * SKILL_WINDOW + SKILL_SPAN_WORDS) * SKILL_MAX_WORD)

typedef struct {
    float *w1;    /* (H, 3K) */
    float *b1;    /* (H) */
    float *w2;    /* (H) shared output vector */
    float *b2;    /* (1) */
    float *dom_w; /* (SKILL_MAX_DOMAINS, H) per-domain output vector */
    float *dom_b; /* (SKILL_MAX_DOMAINS) */
} skill_params;

typedef struct {
    int K, H;
    uint32_t buckets;
    embtable entities;  /* (K) keyed by entity id */
    embtable ngrams;    /* (K) keyed by hash bucket, capacity = buckets */
    float lr_table;
    int n_domains;
    char domains[SKILL_MAX_DOMAINS][64];
    uint64_t domains_refused;
    float *mem;         /* params, grads, adam m, adam v */
    size_t n_params;
    skill_params p, g;
    float *adam_m, *adam_v;
    adam_state adam;
    /* activations of the last forward */
    int B, cap, N, ncap;
    int32_t *erow;      /* (B) entity rows, -1 = unknown (zero) */
    int *dom;           /* (B) domain index or -1 */
    float *y, *w;       /* (B) */
    int *offsets;       /* (B + 1) into the n-gram list */
    int32_t *nrow;      /* (N) n-gram rows, -1 = unknown (zero) */
    float *ng;          /* (N, K) gathered n-gram embeddings */
    float *q;           /* (B, K) pooled context */
    float *x;           /* (B, 3K) */
    float *h;           /* (B, H) after ReLU */
    float *logit;       /* (B) */
    float *dlogit;      /* (B) */
    float *dh, *dpre;   /* (B, H) */
    float *dx;          /* (B, 3K) */
    float *dq;          /* (B, K) */
    float *dng;         /* (N, K) */
} skill;

int skill_init(skill *s, int K, int H, uint32_t buckets, uint32_t capacity, float lr_dense, float lr_table,
               uint64_t seed, char *err, size_t errlen);
void skill_free(skill *s);

/* N-gram bucket ids of one candidate into out (max SKILL_MAX_NGRAMS); returns
 * the count. span is clamped to the tokens. */
int skill_featurize(const skill *s, const mts_str *tokens, uint32_t ntok, int64_t span_start, int64_t span_end,
                    uint32_t *out);
/* Domain index of a name, created on first sight (create) or -1. */
int skill_domain(skill *s, const char *name, uint32_t len, int create);

/* B candidates: entity ids, domain indexes, n-gram buckets in bags given by
 * offsets (B+1). Logits into s->logit; returns sum_b w bce (0 if y NULL). */
float skill_forward(skill *s, const int64_t *entity /* (B) */, const int *dom /* (B) */,
                    const uint32_t *buckets /* (offsets[B]) */, const int *offsets /* (B+1) */,
                    const float *y /* (B) */, const float *w /* (B) */, int B, int create);
void skill_backward(skill *s);
void skill_update(skill *s);

#endif
