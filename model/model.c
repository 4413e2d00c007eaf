/* model.c - public model API: config, field binding, the training step, metrics.
 *
 * model_new checks the config, binds every task's fields by name against the
 * unified layout (and checks their kinds), and builds the two models that
 * the tasks need: the affinity model (model/affinity.c) shared by all
 * TASK_AFFINITY tasks, the skill model (model/skill.c) shared by all
 * TASK_SKILL tasks. model_train_batch splits a mixed batch by model,
 * scores every usable row first (progressive validation into the task's
 * auc_stream), then takes one joint step per model: the weighted losses of
 * all its tasks summed into one loss and back-propagated once. */
#include "model/model.h"

#include "common/util.h"
#include "model/blas.h"
#include "model/layers.h"
#include "model/model_impl.h"
#include "model/model_mtl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void model_config_defaults(model_config *c)
{
    memset(c, 0, sizeof(*c));
    c->dim = 16;
    c->id_dim = 32;
    c->hidden = 32;
    c->table_capacity = 1000000;
    c->lr_dense = 0.002f;
    c->lr_table = 0.3f;
    c->seed = 1;
    c->skill_dim = 16;
    c->ngram_buckets = 1 << 18;
    c->metrics_window = 10000;
}

static int check_config(model_config *c, char *err, size_t errlen)
{
    if (c->n_tasks < 1 || c->n_tasks > MODEL_MAX_TASKS) {
        snprintf(err, errlen, "n_tasks %d out of range 1..%d", c->n_tasks, MODEL_MAX_TASKS);
        return -1;
    }
    if (c->dim < 1 || c->dim > AFF_MAX_WIDTH || c->id_dim < 1 || c->id_dim > AFF_MAX_WIDTH ||
        c->hidden < 1 || c->hidden > AFF_MAX_WIDTH || c->skill_dim < 1 || c->skill_dim > 1024) {
        snprintf(err, errlen,
                 "sizes out of range: dim %d, id_dim %d, hidden %d (1..%d), skill_dim %d (1..1024)",
                 c->dim, c->id_dim, c->hidden, AFF_MAX_WIDTH, c->skill_dim);
        return -1;
    }
    if (c->table_capacity < 1 || c->table_capacity > (1 << 30) || c->ngram_buckets < 1 ||
        c->ngram_buckets > (1 << 28)) {
        snprintf(err, errlen,
                 "table_capacity %d (1..2^30) or ngram_buckets %d (1..2^28) out of range",
                 c->table_capacity, c->ngram_buckets);
        return -1;
    }
    if (!(isfinite(c->lr_dense) && c->lr_dense > 0) ||
        !(isfinite(c->lr_table) && c->lr_table > 0)) {
        snprintf(err, errlen, "learning rates must be finite and > 0 (lr_dense %g, lr_table %g)",
                 c->lr_dense, c->lr_table);
        return -1;
    }
    if (c->metrics_window < 0 || c->metrics_window > 10000000) {
        snprintf(err, errlen, "metrics_window %d out of range 0..10000000", c->metrics_window);
        return -1;
    }
    for (int t = 0; t < c->n_tasks; t++) {
        model_task_config *tc = &c->tasks[t];
        tc->name[sizeof(tc->name) - 1] = '\0';
        tc->label_field[sizeof(tc->label_field) - 1] = '\0';
        tc->member_field[sizeof(tc->member_field) - 1] = '\0';
        tc->company_field[sizeof(tc->company_field) - 1] = '\0';
        if (!tc->name[0]) {
            snprintf(err, errlen, "task %d has no name", t);
            return -1;
        }
        for (int u = 0; u < t; u++)
            if (!strcmp(c->tasks[u].name, tc->name)) {
                snprintf(err, errlen, "task name '%s' used twice", tc->name);
                return -1;
            }
        if (tc->kind != TASK_AFFINITY && tc->kind != TASK_SKILL) {
            snprintf(err, errlen, "task '%s': unknown kind %d", tc->name, (int)tc->kind);
            return -1;
        }
        if (!(isfinite(tc->loss_weight) && tc->loss_weight >= 0) ||
            !(isfinite(tc->pos_weight) && tc->pos_weight > 0)) {
            snprintf(err, errlen,
                     "task '%s': loss_weight (%g) must be >= 0 and pos_weight (%g) > 0", tc->name,
                     tc->loss_weight, tc->pos_weight);
            return -1;
        }
    }
    return 0;
}

/* Slot of field `name` for task `task`, of one of the kinds k1/k2; -1 + err. */
static int bind_field(const mts_layout *l, const char *task, const char *name, field_kind k1,
                      field_kind k2, field_kind *kind, char *err, size_t errlen)
{
    if (!name[0]) {
        snprintf(err, errlen, "task '%s': no field name configured where a %s is needed", task,
                 field_kind_name(k1));
        return -1;
    }
    int slot = layout_find(l, name);
    if (slot < 0 || slot >= l->n_fields) {
        snprintf(err, errlen, "task '%s': field '%s' is not in the input layout", task, name);
        return -1;
    }
    field_kind k = l->fields[slot].kind;
    if (k != k1 && k != k2) {
        snprintf(err, errlen, "task '%s': field '%s' is %s, needs %s%s%s", task, name,
                 field_kind_name(k), field_kind_name(k1), k2 != k1 ? " or " : "",
                 k2 != k1 ? field_kind_name(k2) : "");
        return -1;
    }
    if (kind)
        *kind = k;
    return slot;
}

static int bind_tasks(mts_model *m, const mts_layout *l, char *err, size_t errlen)
{
    m->sk_entity = m->sk_tokens = m->sk_start = m->sk_end = m->sk_domain = m->sk_split = -1;
    m->first_skill_task = -1;
    for (int t = 0; t < m->cfg.n_tasks; t++) {
        const model_task_config *tc = &m->cfg.tasks[t];
        task_binding *b = &m->bind[t];
        b->member = b->company = -1;
        if ((b->label = bind_field(l, tc->name, tc->label_field, FK_LONG, FK_DOUBLE, &b->label_kind,
                                   err, errlen)) < 0)
            return -1;
        if (tc->kind == TASK_AFFINITY) {
            m->has_affinity = 1;
            if ((b->member = bind_field(l, tc->name, tc->member_field, FK_LONG, FK_LONG, NULL, err,
                                        errlen)) < 0 ||
                (b->company = bind_field(l, tc->name, tc->company_field, FK_LONG, FK_LONG, NULL,
                                         err, errlen)) < 0)
                return -1;
        } else {
            if (!m->has_skill) {
                m->has_skill = 1;
                m->first_skill_task = t;
                if ((m->sk_entity = bind_field(l, tc->name, "entity_id", FK_LONG, FK_LONG, NULL,
                                               err, errlen)) < 0 ||
                    (m->sk_tokens = bind_field(l, tc->name, "tokens", FK_STRING_ARRAY,
                                               FK_STRING_ARRAY, NULL, err, errlen)) < 0 ||
                    (m->sk_start = bind_field(l, tc->name, "span_start", FK_LONG, FK_LONG, NULL,
                                              err, errlen)) < 0 ||
                    (m->sk_end = bind_field(l, tc->name, "span_end", FK_LONG, FK_LONG, NULL, err,
                                            errlen)) < 0 ||
                    (m->sk_domain = bind_field(l, tc->name, "domain", FK_STRING, FK_STRING, NULL,
                                               err, errlen)) < 0)
                    return -1;
                int sp =
                    layout_find(l, "split"); /* optional: without it every row is learned from */
                if (sp >= 0 && sp < l->n_fields && l->fields[sp].kind == FK_STRING)
                    m->sk_split = sp;
            }
        }
    }
    return 0;
}

mts_model *model_new(const model_config *cfg, const mts_layout *layout, char *err, size_t errlen)
{
    if (!cfg || !layout) {
        snprintf(err, errlen, "model_new: no config or no layout");
        return NULL;
    }
    mts_model *m = xcalloc(1, sizeof(*m));
    m->cfg = *cfg;
    m->cfg.mtl_file[sizeof(m->cfg.mtl_file) - 1] = '\0';
    if (m->cfg.mtl_file[0]) { /* a declared network instead of the fixed model */
        if (check_config(&m->cfg, err, errlen) < 0 || mtlm_new(m, layout, err, errlen) < 0) {
            mtlm_free(m);
            free(m);
            return NULL;
        }
        blas_init_single_thread();
        for (int t = 0; t < m->cfg.n_tasks; t++)
            auc_init(&m->metrics[t], (uint32_t)m->cfg.metrics_window);
        return m;
    }
    if (check_config(&m->cfg, err, errlen) < 0 || bind_tasks(m, layout, err, errlen) < 0) {
        free(m);
        return NULL;
    }
    blas_init_single_thread();
    const model_config *c = &m->cfg;
    if (m->has_affinity && affinity_init(&m->aff, c->id_dim, c->hidden, c->dim, c->n_tasks,
                                         (uint32_t)c->table_capacity, c->lr_dense, c->lr_table,
                                         c->seed, err, errlen) < 0) {
        affinity_free(&m->aff);
        free(m);
        return NULL;
    }
    if (m->has_skill && skill_init(&m->sk, c->skill_dim, c->hidden, (uint32_t)c->ngram_buckets,
                                   (uint32_t)c->table_capacity, c->lr_dense, c->lr_table, c->seed,
                                   err, errlen) < 0) {
        affinity_free(&m->aff);
        skill_free(&m->sk);
        free(m);
        return NULL;
    }
    for (int t = 0; t < c->n_tasks; t++)
        auc_init(&m->metrics[t], (uint32_t)c->metrics_window);
    return m;
}

static void free_scratch(mts_model *m)
{
    free(m->a_member);
    free(m->a_company);
    free(m->a_task);
    free(m->a_y);
    free(m->a_w);
    free(m->s_entity);
    free(m->s_dom);
    free(m->s_task);
    free(m->s_y);
    free(m->s_w);
    free(m->s_offsets);
    free(m->s_pos);
    free(m->s_buckets);
    free(m->s_learn);
    free(m->s_score);
}

void model_free(mts_model *m)
{
    if (!m)
        return;
    mtlm_free(m);
    if (m->has_affinity)
        affinity_free(&m->aff);
    if (m->has_skill)
        skill_free(&m->sk);
    for (int t = 0; t < m->cfg.n_tasks; t++)
        auc_free(&m->metrics[t]);
    free_scratch(m);
    free(m);
}

static void reserve(mts_model *m, int n)
{
    if (n <= m->cap)
        return;
    int cap = m->cap ? m->cap : 256;
    while (cap < n)
        cap *= 2;
    free_scratch(m);
    size_t c = (size_t)cap;
    m->a_member = xmalloc(c * sizeof(int64_t));
    m->a_company = xmalloc(c * sizeof(int64_t));
    m->a_task = xmalloc(c * sizeof(int));
    m->a_y = xmalloc(c * sizeof(float));
    m->a_w = xmalloc(c * sizeof(float));
    m->s_entity = xmalloc(c * sizeof(int64_t));
    m->s_dom = xmalloc(c * sizeof(int));
    m->s_task = xmalloc(c * sizeof(int));
    m->s_y = xmalloc(c * sizeof(float));
    m->s_w = xmalloc(c * sizeof(float));
    m->s_offsets = xmalloc((c * SKILL_GROUPS + 1) * sizeof(int));
    m->s_pos = xmalloc(c * SKILL_POS * sizeof(float));
    m->s_buckets = m->has_skill ? xmalloc(c * SKILL_MAX_NGRAMS * sizeof(uint32_t)) : NULL;
    m->s_learn = xmalloc(c * sizeof(int));
    m->s_score = xmalloc(c * sizeof(int));
    m->cap = cap;
}

/* Label in [0, 1] from its slot, or -1 for null / NaN / out of range. */
static int read_label(const mts_value *v, field_kind k, float *y)
{
    if (v->is_null)
        return -1;
    double d = value_num(v, k);
    if (!isfinite(d) || d < 0.0 || d > 1.0)
        return -1;
    *y = (float)d;
    return 0;
}

static int read_id(const mts_value *v, int64_t *id)
{
    if (v->is_null)
        return -1;
    *id = v->u.l;
    return 0;
}

/* Skill features of one row into the scratch at position i; -1 if unusable. */
static int read_skill(mts_model *m, const mts_row *r, int i, int create_domain)
{
    const mts_value *ent = &r->v[m->sk_entity], *tok = &r->v[m->sk_tokens];
    const mts_value *st = &r->v[m->sk_start], *en = &r->v[m->sk_end], *dom = &r->v[m->sk_domain];
    if (read_id(ent, &m->s_entity[i]) < 0)
        return -1;
    const mts_str *tokens = tok->is_null ? NULL : tok->u.sa;
    uint32_t ntok = tokens ? tok->n : 0;
    int64_t s0 = st->is_null ? 0 : st->u.l, s1 = en->is_null ? s0 : en->u.l;
    int *off = m->s_offsets + (size_t)i * SKILL_GROUPS, counts[SKILL_GROUPS];
    skill_featurize(&m->sk, tokens, ntok, s0, s1, m->s_buckets + off[0], counts,
                    m->s_pos + (size_t)i * SKILL_POS);
    for (int g = 0; g < SKILL_GROUPS; g++)
        off[g + 1] = off[g] + counts[g];
    const char *dname = dom->is_null ? NULL : dom->u.s;
    m->s_dom[i] = dname ? skill_domain(&m->sk, dname, dom->n, create_domain) : -1;
    return 0;
}

/* 1 if a skill row is to be learned from: no split field, a null split,
 * or split "TRAIN"; DEV / TEST (anything else) rows are only scored. */
static int skill_row_learns(const mts_model *m, const mts_row *r)
{
    if (m->sk_split < 0)
        return 1;
    const mts_value *v = &r->v[m->sk_split];
    return v->is_null || !v->u.s || (v->n == 5 && !memcmp(v->u.s, "TRAIN", 5));
}

static float row_weight(const mts_model *m, int t, float y)
{
    const model_task_config *tc = &m->cfg.tasks[t];
    return tc->loss_weight * (y >= 0.5f ? tc->pos_weight : 1.0f);
}

/* Features of the skill rows rows[idx[0..n)] into the scratch, in order;
 * rows that cannot be used are counted as skipped. Returns the count. */
static int skill_gather(mts_model *m, const mts_row *rows, const int *idx, int n, int learn)
{
    int ns = 0;
    m->s_offsets[0] = 0;
    for (int k = 0; k < n; k++) {
        const mts_row *r = &rows[idx[k]];
        int t = r->task;
        float y = 0;
        read_label(&r->v[m->bind[t].label], m->bind[t].label_kind, &y); /* checked by the caller */
        if (read_skill(m, r, ns, learn) < 0) {
            m->skipped[t]++;
            continue;
        }
        m->s_task[ns] = t;
        m->s_y[ns] = y;
        m->s_w[ns] = row_weight(m, t, y);
        ns++;
    }
    return ns;
}

int model_train_batch(mts_model *m, const mts_row *rows, int n, char *err, size_t errlen)
{
    if (!m || n < 0 || n > MODEL_MAX_BATCH || (n > 0 && !rows)) {
        snprintf(err, errlen, "model_train_batch: bad arguments (n = %d, at most %d rows)", n,
                 MODEL_MAX_BATCH);
        return -1;
    }
    if (m->net)
        return mtlm_train_batch(m, rows, n) < 0
                   ? (snprintf(err, errlen, "declared network: malformed batch"), -1)
                   : 0;
    reserve(m, n);
    int na = 0, nl = 0, nh = 0;
    for (int i = 0; i < n; i++) {
        const mts_row *r = &rows[i];
        if (r->task < 0 || r->task >= m->cfg.n_tasks || !r->v) {
            m->rejected++;
            continue;
        }
        int t = r->task;
        const task_binding *b = &m->bind[t];
        float y;
        if (read_label(&r->v[b->label], b->label_kind, &y) < 0) {
            m->skipped[t]++;
            continue;
        }
        if (m->cfg.tasks[t].kind == TASK_AFFINITY) {
            if (read_id(&r->v[b->member], &m->a_member[na]) < 0 ||
                read_id(&r->v[b->company], &m->a_company[na]) < 0) {
                m->skipped[t]++;
                continue;
            }
            m->a_task[na] = t;
            m->a_y[na] = y;
            m->a_w[na] = row_weight(m, t, y);
            na++;
        } else if (skill_row_learns(m, r)) {
            m->s_learn[nl++] = i;
        } else {
            m->s_score[nh++] = i;
        }
    }
    if (na > 0) {
        for (int i = 0; i < na; i++) /* the combined loss is a mean over the model's rows */
            m->a_w[i] /= (float)na;
        affinity_forward(&m->aff, m->a_member, m->a_company, m->a_task, m->a_y, m->a_w, na, 1);
        for (int i = 0; i < na; i++)
            auc_add(&m->metrics[m->a_task[i]], m->aff.logit[i], m->a_y[i] >= 0.5f);
        affinity_backward(&m->aff);
        affinity_update(&m->aff);
    }
    /* held-out skill rows (DEV / TEST): scored with the parameters of this
     * step, before it learns; no table rows or domains are created for them */
    int ns = nh > 0 ? skill_gather(m, rows, m->s_score, nh, 0) : 0;
    if (ns > 0) {
        skill_forward(&m->sk, m->s_entity, m->s_dom, m->s_buckets, m->s_offsets, m->s_pos, NULL,
                      NULL, ns, 0);
        for (int i = 0; i < ns; i++) {
            auc_add(&m->metrics[m->s_task[i]], m->sk.logit[i], m->s_y[i] >= 0.5f);
            m->held_out[m->s_task[i]]++;
        }
    }
    ns = nl > 0 ? skill_gather(m, rows, m->s_learn, nl, 1) : 0;
    if (ns > 0) {
        for (int i = 0; i < ns; i++)
            m->s_w[i] /= (float)ns;
        skill_forward(&m->sk, m->s_entity, m->s_dom, m->s_buckets, m->s_offsets, m->s_pos, m->s_y,
                      m->s_w, ns, 1);
        for (int i = 0; i < ns; i++)
            auc_add(&m->metrics[m->s_task[i]], m->sk.logit[i], m->s_y[i] >= 0.5f);
        skill_backward(&m->sk);
        skill_update(&m->sk);
    }
    return 0;
}

void model_task_metrics(const mts_model *m, int task, task_metrics *out)
{
    memset(out, 0, sizeof(*out));
    if (!m || task < 0 || task >= m->cfg.n_tasks)
        return;
    const auc_stream *a = &m->metrics[task];
    out->events = a->n;
    out->positives = a->npos;
    out->auc = auc_cumulative(a);
    out->auc_recent = auc_recent(a);
    out->logloss = auc_logloss(a);
    out->logloss_recent = auc_logloss_recent(a);
    out->loss_weight =
        m->net ? mtl_task_weight(m->net, mtl_task_index(m->net, m->cfg.tasks[task].name))
               : m->cfg.tasks[task].loss_weight;
    out->skipped = m->skipped[task];
    out->held_out = m->held_out[task];
}

uint64_t model_rows_rejected(const mts_model *m)
{
    return m->rejected;
}

static const embtable *table_of(const mts_model *m, entity_kind k)
{
    if (!m->has_affinity)
        return NULL;
    return k == ENTITY_COMPANY ? &m->aff.companies : k == ENTITY_MEMBER ? &m->aff.members : NULL;
}

size_t model_drain_dirty(mts_model *m, entity_kind k, int64_t *ids, size_t max)
{
    if (m->net)
        return mtlm_drain_dirty(m, k, ids, max);
    embtable *t = (embtable *)table_of(m, k);
    return t ? embtable_drain_dirty(t, ids, max) : 0;
}

int model_mark_dirty(mts_model *m, entity_kind k, int64_t id)
{
    if (m->net)
        return mtlm_mark_dirty(m, k, id);
    embtable *t = (embtable *)table_of(m, k);
    int32_t r = t ? embtable_find(t, id) : -1;
    if (r < 0)
        return -1;
    embtable_mark_dirty(t, (uint32_t)r);
    return 0;
}

void model_mark_all_dirty(mts_model *m, entity_kind k)
{
    if (m->net) {
        mtlm_mark_all_dirty(m, k);
        return;
    }
    embtable *t = (embtable *)table_of(m, k);
    for (uint32_t r = 0; t && r < t->n; r++)
        embtable_mark_dirty(t, r);
}

int model_embedding(const mts_model *m, entity_kind k, int64_t id, float *out,
                    uint64_t *events_seen)
{
    if (m->net)
        return mtlm_embedding(m, k, id, out, events_seen);
    const embtable *t = table_of(m, k);
    int32_t r = t ? embtable_find(t, id) : -1;
    if (r < 0)
        return -1;
    affinity_embed(&m->aff, k == ENTITY_COMPANY, r, out);
    if (events_seen)
        *events_seen = t->events[r];
    return 0;
}

size_t model_entity_ids(const mts_model *m, entity_kind k, int64_t *ids, size_t max)
{
    if (m->net)
        return mtlm_entity_ids(m, k, ids, max);
    const embtable *t = table_of(m, k);
    return t ? embtable_ids(t, ids, max) : 0;
}

size_t model_entity_count(const mts_model *m, entity_kind k)
{
    if (m->net)
        return mtlm_entity_count(m, k);
    const embtable *t = table_of(m, k);
    return t ? t->n : 0;
}

uint64_t model_entities_refused(const mts_model *m, entity_kind k)
{
    if (m->net)
        return mtlm_entities_refused(m, k);
    const embtable *t = table_of(m, k);
    return t ? t->refused : 0;
}

int model_set_loss_weight(mts_model *m, int task, float w)
{
    if (task < 0 || task >= m->cfg.n_tasks || !isfinite(w) || w < 0)
        return -1;
    if (m->net && mtl_set_loss_weight(m->net, mtl_task_index(m->net, m->cfg.tasks[task].name), w))
        return -1;
    m->cfg.tasks[task].loss_weight = w;
    return 0;
}

int model_dim(const mts_model *m)
{
    return m->cfg.dim;
}

float model_skill_score(mts_model *m, const mts_row *row)
{
    if (!m || m->net || !m->has_skill || !row || !row->v)
        return -1.0f;
    reserve(m, 1);
    m->s_offsets[0] = 0;
    if (read_skill(m, row, 0, 0) < 0)
        return -1.0f;
    skill_forward(&m->sk, m->s_entity, m->s_dom, m->s_buckets, m->s_offsets, m->s_pos, NULL, NULL,
                  1, 0);
    return sigmoidf_stable(m->sk.logit[0]);
}

size_t model_describe(const mts_model *m, char *buf, size_t len)
{
    if (m->net)
        return mtl_describe(m->net, buf, len) < len ? strlen(buf) : (len ? len - 1 : 0);
    mts_buf b;
    buf_init(&b);
    char line[512];
    const model_config *c = &m->cfg;
#define EMIT(...)                                                                                  \
    do {                                                                                           \
        int k_ = snprintf(line, sizeof(line), __VA_ARGS__);                                        \
        buf_append(&b, line,                                                                       \
                   k_ < 0                      ? 0                                                 \
                   : (size_t)k_ < sizeof(line) ? (size_t)k_                                        \
                                               : sizeof(line) - 1);                                \
    } while (0)
    if (m->has_affinity) {
        EMIT("shared: affinity bottom (joint training)\n");
        EMIT("  member table   %d rows max x %d, %u rows now\n", c->table_capacity, c->id_dim,
             m->aff.members.n);
        EMIT("  company table  %d rows max x %d, %u rows now\n", c->table_capacity, c->id_dim,
             m->aff.companies.n);
        EMIT("  member tower   dense %d->%d relu, dense %d->%d  (output = published member "
             "embedding)\n",
             c->id_dim, c->hidden, c->hidden, c->dim);
        EMIT("  company tower  dense %d->%d relu, dense %d->%d  (output = published company "
             "embedding)\n",
             c->id_dim, c->hidden, c->hidden, c->dim);
    }
    if (m->has_skill) {
        EMIT("shared: skill model\n");
        EMIT("  entity table %d x %d, n-gram table %d x %d (%d bags: span, left, right, "
             "neighbours), %d position "
             "features, dense %d->%d relu\n",
             c->table_capacity, c->skill_dim, c->ngram_buckets, c->skill_dim, SKILL_GROUPS,
             SKILL_POS, m->sk.X, c->hidden);
        EMIT("  domain-specific: hidden vector, output vector + bias per domain (%d domains so "
             "far)%s\n",
             m->sk.n_domains,
             m->sk_split >= 0 ? "; rows whose split is not TRAIN are scored, not learned" : "");
    }
    for (int t = 0; t < c->n_tasks; t++) {
        const model_task_config *tc = &c->tasks[t];
        if (tc->kind == TASK_AFFINITY)
            EMIT("task %-12s affinity  head: scale*<member,company>+bias  label %s  loss_weight %g "
                 "pos_weight %g\n",
                 tc->name, tc->label_field, tc->loss_weight, tc->pos_weight);
        else
            EMIT("task %-12s skill     head: shared skill output  label %s  loss_weight %g "
                 "pos_weight %g\n",
                 tc->name, tc->label_field, tc->loss_weight, tc->pos_weight);
    }
#undef EMIT
    size_t n = 0;
    if (len > 0) {
        n = b.len < len - 1 ? b.len : len - 1;
        memcpy(buf, b.data, n);
        buf[n] = '\0';
    }
    buf_free(&b);
    return n;
}
