/* model_mtl.h - the model API over a declared multitask network (internal to
 * model/): model.c dispatches here when model_config.mtl_file is set,
 * checkpoint.c saves and restores through mtlm_save / mtlm_load. */
#ifndef MTS_MODEL_MTL_H
#define MTS_MODEL_MTL_H

#include "model/model_impl.h"

int mtlm_new(mts_model *m, const mts_layout *layout, char *err, size_t errlen);
void mtlm_free(mts_model *m);
int mtlm_train_batch(mts_model *m, const mts_row *rows, int n);
size_t mtlm_drain_dirty(mts_model *m, entity_kind k, int64_t *ids, size_t max);
int mtlm_mark_dirty(mts_model *m, entity_kind k, int64_t id);
void mtlm_mark_all_dirty(mts_model *m, entity_kind k);
int mtlm_embedding(const mts_model *m, entity_kind k, int64_t id, float *out,
                   uint64_t *events_seen);
size_t mtlm_entity_ids(const mts_model *m, entity_kind k, int64_t *ids, size_t max);
size_t mtlm_entity_count(const mts_model *m, entity_kind k);
uint64_t mtlm_entities_refused(const mts_model *m, entity_kind k);
/* Network state, then per entity kind the id -> events map and the dirty queue. */
void mtlm_save(const mts_model *m, mts_buf *b);
int mtlm_load(mts_model *m, const uint8_t *p, size_t len, char *err, size_t errlen);

#endif
