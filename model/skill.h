/* skill.h - the contextual skill model (internal to model/).
 *
 * Input: a skill entity id, the sentence (tokens) with the candidate span,
 * and the domain (e.g. "tech", "house", "da"). Representation:
 *   e (K)       entity embedding, a table row keyed by the entity id (the
 *               id is language-independent: one row whatever the language);
 *   q_g (K)     for each of SKILL_GROUPS bags g, the mean of its hashed
 *               feature embeddings; features are character 3-grams of
 *               ASCII-lower-cased "<word>" (bytes, so any language and any
 *               unseen word hashes somewhere) and whole lower-cased words:
 *                 g = 0 span words, 1 left context, 2 right context
 *                 (SKILL_WINDOW words each side), 3 the two words right
 *                 next to the span (or sentence-edge markers);
 *   f (P)       span position features (skill_featurize: length, sentence
 *               start/end, relative position, capital letter, punctuation
 *               next to the span);
 *   x = [e, q_0..q_3, f] (X = 5K + P)
 *   h = ReLU(W1 x + b1 + v_d) (H)             shared MLP; v_d: domain d's vector
 *   logit = <w2 + u_d, h> + b2 + c_d          u_d, c_d: domain d's output part
 * W1, b1, w2, b2 and the tables are shared by all domains; v_d, u_d, c_d
 * are the domain-specific part. Domains are created on first sight of a
 * TRAIN row, up to SKILL_MAX_DOMAINS; an unknown domain uses the shared
 * part only (v, u, c = 0). */
#ifndef MTS_SKILL_H
#define MTS_SKILL_H

#include "common/row.h"
#include "model/embtable.h"
#include "model/optim.h"

#include <stddef.h>
#include <stdint.h>

#define SKILL_MAX_DOMAINS 64
#define SKILL_WINDOW 5     /* context words on each side of the span */
#define SKILL_SPAN_WORDS 8 /* span words used */
#define SKILL_MAX_WORD 32  /* bytes of a word used */
#define SKILL_GROUPS 4     /* feature bags: span, left, right, neighbours */
#define SKILL_POS 10       /* span position features */
/* features of one candidate: per word its 3-grams and the whole word, + 2 neighbours */
#define SKILL_MAX_NGRAMS ((2 * SKILL_WINDOW + SKILL_SPAN_WORDS) * (SKILL_MAX_WORD + 1) + 2)

typedef struct {
    float *w1;    /* (H, X) */
    float *b1;    /* (H) */
    float *dom_v; /* (SKILL_MAX_DOMAINS, H) per-domain hidden vector */
    float *w2;    /* (H) shared output vector */
    float *b2;    /* (1) */
    float *dom_w; /* (SKILL_MAX_DOMAINS, H) per-domain output vector */
    float *dom_b; /* (SKILL_MAX_DOMAINS) */
} skill_params;

typedef struct {
    int K, H, X;
    uint32_t buckets;
    embtable entities; /* (K) keyed by entity id */
    embtable ngrams;   /* (K) keyed by hash bucket, capacity = buckets */
    float lr_table;
    int n_domains;
    char domains[SKILL_MAX_DOMAINS][64];
    uint64_t domains_refused;
    float *mem; /* params, grads, adam m, adam v */
    size_t n_params;
    skill_params p, g;
    float *adam_m, *adam_v;
    adam_state adam;
    /* activations of the last forward */
    int B, cap, N, ncap;
    int32_t *erow;    /* (B) entity rows, -1 = unknown (zero) */
    int *dom;         /* (B) domain index or -1 */
    float *y, *w;     /* (B) */
    int *offsets;     /* (B * G + 1) into the feature list */
    int32_t *nrow;    /* (N) feature rows, -1 = unknown (zero) */
    float *ng;        /* (N, K) gathered feature embeddings */
    float *q;         /* (B, G, K) pooled bags */
    float *x;         /* (B, X) */
    float *h;         /* (B, H) after ReLU */
    float *logit;     /* (B) */
    float *dlogit;    /* (B) */
    float *dh, *dpre; /* (B, H) */
    float *dx;        /* (B, X) */
    float *dq;        /* (B, G, K) */
    float *dng;       /* (N, K) */
} skill;

int skill_init(skill *s, int K, int H, uint32_t buckets, uint32_t capacity, float lr_dense,
               float lr_table, uint64_t seed, char *err, size_t errlen);
void skill_free(skill *s);

/* Features of one candidate: hashed feature buckets into out (at most
 * SKILL_MAX_NGRAMS), bag by bag, with the size of each bag in
 * counts (SKILL_GROUPS), and the position features into pos (SKILL_POS).
 * Returns the number of buckets. The span is clamped to the tokens. */
int skill_featurize(const skill *s, const mts_str *tokens, uint32_t ntok, int64_t span_start,
                    int64_t span_end, uint32_t *out, int *counts /* (SKILL_GROUPS) */,
                    float *pos /* (SKILL_POS) */);
/* Domain index of a name, created on first sight (create) or -1. */
int skill_domain(skill *s, const char *name, uint32_t len, int create);

/* B candidates: entity ids, domain indexes, feature buckets in bags given
 * by offsets (B * SKILL_GROUPS + 1; bag g of candidate b is bag
 * b * SKILL_GROUPS + g), position features pos (B, SKILL_POS). create: new
 * entity and bucket ids get table rows (training); else they count as
 * zero vectors (scoring). Logits into s->logit; returns sum_b w bce (0 if
 * y NULL). */
float skill_forward(skill *s, const int64_t *entity /* (B) */, const int *dom /* (B) */,
                    const uint32_t *buckets /* (offsets[B * G]) */,
                    const int *offsets /* (B * G + 1) */, const float *pos /* (B, SKILL_POS) */,
                    const float *y /* (B) */, const float *w /* (B) */, int B, int create);
void skill_backward(skill *s);
void skill_update(skill *s);

#endif
