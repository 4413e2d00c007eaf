/* model_impl.h - the inside of struct mts_model (internal to model/).
 *
 * model.c builds and trains it; checkpoint.c reads and restores it. No
 * other module includes this header: everything else goes through model.h. */
#ifndef MTS_MODEL_IMPL_H
#define MTS_MODEL_IMPL_H

#include "model/affinity.h"
#include "model/auc.h"
#include "model/mtl.h"
#include "model/model.h"
#include "model/skill.h"

typedef struct {
    int label;             /* slot of the label field */
    field_kind label_kind; /* FK_LONG or FK_DOUBLE */
    int member, company;   /* affinity: slots of the id fields, else -1 */
} task_binding;

typedef struct mtl_binding mtl_binding; /* model_mtl.c */

struct mts_model {
    model_config cfg;
    mtl_net *net;    /* declared network (cfg.mtl_file set); NULL: the fixed model below */
    mtl_binding *mb; /* its row binding, dirty sets, scratch */
    task_binding bind[MODEL_MAX_TASKS];
    int sk_entity, sk_tokens, sk_start, sk_end, sk_domain; /* skill slots, -1 without skill tasks */
    int sk_split;         /* optional "split" (string / enum), else -1 */
    int first_skill_task; /* -1 if none */
    int has_affinity, has_skill;
    affinity aff;
    skill sk;
    auc_stream metrics[MODEL_MAX_TASKS];
    uint64_t skipped[MODEL_MAX_TASKS];
    uint64_t held_out[MODEL_MAX_TASKS]; /* skill rows scored, not learned (split not TRAIN); not
                                           checkpointed */
    uint64_t rejected;
    /* batch scratch, grown to the largest batch seen */
    int cap;
    int64_t *a_member, *a_company; /* (cap) */
    int *a_task;                   /* (cap) */
    float *a_y, *a_w;              /* (cap) */
    int64_t *s_entity;             /* (cap) */
    int *s_dom, *s_task;           /* (cap) */
    float *s_y, *s_w;              /* (cap) */
    int *s_offsets;                /* (cap * SKILL_GROUPS + 1) */
    float *s_pos;                  /* (cap, SKILL_POS) */
    uint32_t *s_buckets;           /* (cap * SKILL_MAX_NGRAMS) */
    int *s_learn, *s_score;        /* (cap) batch indexes of TRAIN / held-out skill rows */
};

#endif
