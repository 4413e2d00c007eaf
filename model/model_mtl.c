/* model_mtl.c - the model API (model.h) over a declared multitask network.
 *
 * Binding (once, mtlm_new): every configured task must be a declared task of
 * the network (by name); each declared input binds to the layout field of
 * the same name (id <- long, bag <- array of longs, text <- string, or an
 * array of strings joined with spaces); each task's label is the declared
 * label field (long 0/1 or double in [0, 1]). Published member / company
 * embeddings are the outputs of the towers named in multitask.publish.
 *
 * A batch: rows become mtl_examples (clock = the Kafka timestamp in seconds,
 * for table expiry); every usable row is scored first with mtl_predict_logit
 * (progressive validation into the task's AUC), then the rows to learn from
 * (all but skill rows whose split is DEV / TEST) go to mtl_train_batch,
 * which applies each task's sampling. Ids of published tables seen in the
 * learned rows are counted and queued as dirty for the publisher. */
#include "model/model_mtl.h"

#include "common/util.h"
#include "model/blas.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* id -> events seen, and a FIFO of dirty ids (each queued once). */
typedef struct {
    int64_t *keys;    /* (nslots) */
    uint64_t *events; /* (nslots) */
    uint8_t *state;   /* (nslots) 0 empty, 1 used, 2 used and queued */
    uint32_t nslots, n;
    int64_t *queue; /* (qcap) dirty ids from qhead to qlen */
    size_t qhead, qlen, qcap;
} id_map;

struct mtl_binding {
    int task_of[MODEL_MAX_TASKS]; /* configured task -> declared task */
    int label[MODEL_MAX_TASKS];   /* label slot per configured task */
    field_kind label_kind[MODEL_MAX_TASKS];
    int n_in;
    int slot[MTL_MAX_INPUTS]; /* layout slot of each declared input */
    field_kind kind[MTL_MAX_INPUTS];
    int split;       /* optional "split" (string / enum), else -1 */
    int pub[2];      /* publish index of member, company (-1) */
    int pub_in[2];   /* declared input of each published tower */
    int pub_slot[2]; /* its layout slot */
    id_map ids[2];
    uint64_t task_mask[MTL_MAX_INPUTS]; /* layout task_mask of each input's field */
    /* batch scratch */
    int cap;
    mtl_example *ex, *learn; /* (cap) */
    mtl_value *vals;         /* (cap, n_in) */
    float *logit;            /* (cap) */
    int *row_of;             /* (cap) example -> batch row */
    mts_arena text;
};

/* ---- id map ---- */

static uint32_t map_slot(int64_t id, uint32_t mask)
{
    return (uint32_t)(mix64((uint64_t)id ^ 0x6d61707065644964ULL) & mask);
}

static uint32_t map_find(const id_map *m, int64_t id)
{
    uint32_t mask = m->nslots - 1, h = map_slot(id, mask);
    while (m->state[h] && m->keys[h] != id)
        h = (h + 1) & mask;
    return h;
}

static void map_grow(id_map *m)
{
    id_map old = *m;
    m->nslots = old.nslots ? 2 * old.nslots : 1024;
    m->keys = xcalloc(m->nslots, sizeof(int64_t));
    m->events = xcalloc(m->nslots, sizeof(uint64_t));
    m->state = xcalloc(m->nslots, 1);
    for (uint32_t i = 0; i < old.nslots; i++)
        if (old.state[i]) {
            uint32_t h = map_find(m, old.keys[i]);
            m->keys[h] = old.keys[i];
            m->events[h] = old.events[i];
            m->state[h] = old.state[i];
        }
    free(old.keys), free(old.events), free(old.state);
}

/* Slot of id, inserted (0 events, not queued) when absent. */
static uint32_t map_get(id_map *m, int64_t id)
{
    if (2 * (m->n + 1) > m->nslots)
        map_grow(m);
    uint32_t h = map_find(m, id);
    if (!m->state[h]) {
        m->keys[h] = id;
        m->events[h] = 0;
        m->state[h] = 1;
        m->n++;
    }
    return h;
}

static void map_queue(id_map *m, uint32_t h)
{
    if (m->state[h] == 2)
        return;
    m->state[h] = 2;
    if (m->qhead > 0 && m->qlen == m->qcap) { /* reclaim the drained front */
        memmove(m->queue, m->queue + m->qhead, (m->qlen - m->qhead) * sizeof(int64_t));
        m->qlen -= m->qhead;
        m->qhead = 0;
    }
    if (m->qlen == m->qcap) {
        m->qcap = m->qcap ? 2 * m->qcap : 1024;
        m->queue = xrealloc(m->queue, m->qcap * sizeof(int64_t));
    }
    m->queue[m->qlen++] = m->keys[h];
}

static void map_free(id_map *m)
{
    free(m->keys), free(m->events), free(m->state), free(m->queue);
    memset(m, 0, sizeof(*m));
}

/* ---- binding ---- */

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        return -1;                                                                                 \
    } while (0)

int mtlm_new(mts_model *m, const mts_layout *l, char *err, size_t errlen)
{
    char e[1024];
    m->net = mtl_new_from_file(m->cfg.mtl_file, e, sizeof(e));
    if (!m->net)
        FAIL("%s", e);
    mtl_binding *b = m->mb = xcalloc(1, sizeof(*b));
    arena_init(&b->text, 1 << 16);
    mtl_net *net = m->net;
    if (mtl_n_tasks(net) != m->cfg.n_tasks)
        FAIL("multitask.tasks declares %d tasks, the configuration has %d: declare the model of "
             "every task "
             "(by its name) and only those",
             mtl_n_tasks(net), m->cfg.n_tasks);
    for (int t = 0; t < m->cfg.n_tasks; t++) {
        const model_task_config *tc = &m->cfg.tasks[t];
        int d = mtl_task_index(net, tc->name);
        if (d < 0)
            FAIL("task %s has no model in multitask.tasks", tc->name);
        b->task_of[t] = d;
        const char *label = mtl_task_label(net, d);
        if (!*label)
            label = tc->label_field;
        int s = layout_find(l, label);
        if (s < 0 || !(l->fields[s].task_mask & (1ULL << t)) ||
            (l->fields[s].kind != FK_LONG && l->fields[s].kind != FK_DOUBLE))
            FAIL("task %s: label field \"%s\" is not a boolean or number of its schema", tc->name,
                 label);
        b->label[t] = s;
        b->label_kind[t] = l->fields[s].kind;
    }
    b->n_in = mtl_n_inputs(net);
    for (int i = 0; i < b->n_in; i++) {
        const char *name = mtl_input_name(net, i);
        mtl_input_kind k = mtl_input_type(net, i);
        int s = layout_find(l, name);
        if (s < 0)
            FAIL("multitask input \"%s\" is not a field of any task's schema", name);
        field_kind fk = l->fields[s].kind;
        int ok = k == MTL_IN_ID    ? fk == FK_LONG
                 : k == MTL_IN_BAG ? fk == FK_LONG_ARRAY
                                   : fk == FK_STRING || fk == FK_STRING_ARRAY;
        if (!ok)
            FAIL("multitask input \"%s\" is used as %s, but the field is %s", name,
                 k == MTL_IN_ID    ? "an id (needs long)"
                 : k == MTL_IN_BAG ? "a bag (needs an array of longs)"
                                   : "text (needs string or array of strings)",
                 field_kind_name(fk));
        b->slot[i] = s;
        b->kind[i] = fk;
        b->task_mask[i] = l->fields[s].task_mask;
    }
    int sp = layout_find(l, "split");
    b->split = sp >= 0 && l->fields[sp].kind == FK_STRING ? sp : -1;
    static const char *const ents[2] = {"member", "company"};
    for (int k = 0; k < 2; k++) {
        b->pub[k] = mtl_publish_index(net, ents[k]);
        b->pub_in[k] =
            b->pub[k] >= 0 ? mtl_input_index(net, mtl_publish_input(net, b->pub[k])) : -1;
        b->pub_slot[k] = b->pub_in[k] >= 0 ? b->slot[b->pub_in[k]] : -1;
    }
    if (b->pub[0] >= 0 && b->pub[1] >= 0 &&
        mtl_publish_width(net, b->pub[0]) != mtl_publish_width(net, b->pub[1]))
        FAIL("multitask.publish: member tower %s (width %d) and company tower %s (width %d) must "
             "have one width",
             mtl_publish_tower(net, b->pub[0]), mtl_publish_width(net, b->pub[0]),
             mtl_publish_tower(net, b->pub[1]), mtl_publish_width(net, b->pub[1]));
    int w = b->pub[0] >= 0   ? mtl_publish_width(net, b->pub[0])
            : b->pub[1] >= 0 ? mtl_publish_width(net, b->pub[1])
                             : 0;
    if (w > 0)
        m->cfg.dim = w; /* model_dim: the published width */
    return 0;
}

void mtlm_free(mts_model *m)
{
    mtl_free(m->net);
    m->net = NULL;
    mtl_binding *b = m->mb;
    if (!b)
        return;
    map_free(&b->ids[0]);
    map_free(&b->ids[1]);
    free(b->ex), free(b->learn), free(b->vals), free(b->logit), free(b->row_of);
    arena_free(&b->text);
    free(b);
    m->mb = NULL;
}

static void reserve(mtl_binding *b, int n)
{
    if (n <= b->cap)
        return;
    int cap = b->cap ? b->cap : 256;
    while (cap < n)
        cap *= 2;
    b->ex = xrealloc(b->ex, (size_t)cap * sizeof(mtl_example));
    b->learn = xrealloc(b->learn, (size_t)cap * sizeof(mtl_example));
    b->vals = xrealloc(b->vals, (size_t)cap * (b->n_in ? b->n_in : 1) * sizeof(mtl_value));
    b->logit = xrealloc(b->logit, (size_t)cap * sizeof(float));
    b->row_of = xrealloc(b->row_of, (size_t)cap * sizeof(int));
    b->cap = cap;
}

/* NUL-terminated text of a string or string-array slot (joined by spaces). */
static const char *text_of(mtl_binding *b, const mts_value *v, field_kind k)
{
    if (v->is_null)
        return NULL;
    if (k == FK_STRING)
        return v->u.s ? arena_strndup(&b->text, v->u.s, v->n) : NULL;
    size_t len = 1;
    for (uint32_t j = 0; j < v->n; j++)
        len += v->u.sa[j].len + 1;
    char *s = arena_alloc(&b->text, len), *d = s;
    for (uint32_t j = 0; j < v->n; j++) {
        if (j)
            *d++ = ' ';
        memcpy(d, v->u.sa[j].p, v->u.sa[j].len);
        d += v->u.sa[j].len;
    }
    *d = '\0';
    return s;
}

/* The example of row r into slot i; -1 if unusable (label, or an id of its schema null). */
static int make_example(mts_model *m, const mts_row *r, int i)
{
    mtl_binding *b = m->mb;
    int t = r->task;
    const mts_value *lv = &r->v[b->label[t]];
    double y = lv->is_null ? NAN : value_num(lv, b->label_kind[t]);
    if (!isfinite(y) || y < 0 || y > 1)
        return -1;
    mtl_value *in = b->vals + (size_t)i * (b->n_in ? b->n_in : 1);
    memset(in, 0, (size_t)b->n_in * sizeof(mtl_value));
    for (int k = 0; k < b->n_in; k++) {
        const mts_value *v = &r->v[b->slot[k]];
        if (b->kind[k] == FK_LONG) {
            if (v->is_null && (b->task_mask[k] & (1ULL << t)))
                return -1;
            in[k].id = v->is_null ? 0 : v->u.l;
        } else if (b->kind[k] == FK_LONG_ARRAY) {
            in[k].ids = v->is_null ? NULL : v->u.la;
            in[k].n_ids = v->is_null ? 0 : (int)v->n;
        } else {
            in[k].text = text_of(b, v, b->kind[k]);
        }
    }
    mtl_example *e = &b->ex[i];
    e->task = b->task_of[t];
    e->label = (float)y;
    e->weight = 1.0f;
    e->time = r->timestamp_ms > 0 ? r->timestamp_ms / 1000 : 0;
    e->in = in;
    return 0;
}

static int row_learns(const mtl_binding *b, const mts_row *r)
{
    if (b->split < 0)
        return 1;
    const mts_value *v = &r->v[b->split];
    return !v->present || v->is_null || !v->u.s || (v->n == 5 && !memcmp(v->u.s, "TRAIN", 5));
}

int mtlm_train_batch(mts_model *m, const mts_row *rows, int n)
{
    mtl_binding *b = m->mb;
    reserve(b, n);
    arena_reset(&b->text);
    int k = 0;
    for (int i = 0; i < n; i++) {
        const mts_row *r = &rows[i];
        if (r->task < 0 || r->task >= m->cfg.n_tasks || !r->v) {
            m->rejected++;
            continue;
        }
        if (make_example(m, r, k) < 0) {
            m->skipped[r->task]++;
            continue;
        }
        b->row_of[k++] = i;
    }
    if (k == 0)
        return 0;
    mtl_predict_logit(m->net, b->ex, k, b->logit); /* progressive validation: score, then learn */
    int nl = 0;
    for (int i = 0; i < k; i++) {
        const mts_row *r = &rows[b->row_of[i]];
        auc_add(&m->metrics[r->task], b->logit[i], b->ex[i].label >= 0.5f);
        if (row_learns(b, r))
            b->learn[nl++] = b->ex[i];
        else
            m->held_out[r->task]++;
    }
    char e[256];
    if (nl > 0 && mtl_train_batch(m->net, b->learn, nl, e, sizeof(e)))
        return -1; /* only for a malformed call: cannot happen with the checks above */
    for (int i = 0; i < k; i++) {
        const mts_row *r = &rows[b->row_of[i]];
        if (!row_learns(b, r))
            continue;
        for (int q = 0; q < 2; q++) {
            if (b->pub[q] < 0 || !(b->task_mask[b->pub_in[q]] & (1ULL << r->task)))
                continue;
            int64_t id = b->ex[i].in[b->pub_in[q]].id;
            if (mtl_publish_embed_exists(m->net, b->pub[q], id)) {
                uint32_t h = map_get(&b->ids[q], id);
                b->ids[q].events[h]++;
                map_queue(&b->ids[q], h);
            }
        }
    }
    return 0;
}

/* ---- entities ---- */

static int pub_of(const mts_model *m, entity_kind k)
{
    return (k == ENTITY_MEMBER || k == ENTITY_COMPANY) ? m->mb->pub[k == ENTITY_COMPANY] : -1;
}

size_t mtlm_drain_dirty(mts_model *m, entity_kind k, int64_t *ids, size_t max)
{
    if (pub_of(m, k) < 0)
        return 0;
    id_map *im = &m->mb->ids[k == ENTITY_COMPANY];
    size_t got = 0;
    while (got < max && im->qhead < im->qlen) {
        int64_t id = im->queue[im->qhead++];
        uint32_t h = map_find(im, id);
        im->state[h] = 1;
        ids[got++] = id;
    }
    if (im->qhead == im->qlen)
        im->qhead = im->qlen = 0;
    return got;
}

int mtlm_mark_dirty(mts_model *m, entity_kind k, int64_t id)
{
    int p = pub_of(m, k);
    if (p < 0 || !mtl_publish_embed_exists(m->net, p, id))
        return -1;
    id_map *im = &m->mb->ids[k == ENTITY_COMPANY];
    map_queue(im, map_get(im, id));
    return 0;
}

void mtlm_mark_all_dirty(mts_model *m, entity_kind k)
{
    int p = pub_of(m, k);
    if (p < 0)
        return;
    size_t n = mtl_publish_count(m->net, p);
    int64_t *ids = xmalloc((n ? n : 1) * sizeof(int64_t));
    n = mtl_publish_ids(m->net, p, ids, n);
    id_map *im = &m->mb->ids[k == ENTITY_COMPANY];
    for (size_t i = 0; i < n; i++)
        map_queue(im, map_get(im, ids[i]));
    free(ids);
}

int mtlm_embedding(const mts_model *m, entity_kind k, int64_t id, float *out, uint64_t *events_seen)
{
    int p = pub_of(m, k);
    if (p < 0 || mtl_publish_embed(m->net, p, id, out) < 0)
        return -1;
    if (events_seen) {
        const id_map *im = &m->mb->ids[k == ENTITY_COMPANY];
        uint32_t h = im->nslots ? map_find(im, id) : 0;
        *events_seen = im->nslots && im->state[h] ? im->events[h] : 0;
    }
    return 0;
}

size_t mtlm_entity_ids(const mts_model *m, entity_kind k, int64_t *ids, size_t max)
{
    int p = pub_of(m, k);
    return p < 0 ? 0 : mtl_publish_ids(m->net, p, ids, max);
}

size_t mtlm_entity_count(const mts_model *m, entity_kind k)
{
    int p = pub_of(m, k);
    return p < 0 ? 0 : mtl_publish_count(m->net, p);
}

uint64_t mtlm_entities_refused(const mts_model *m, entity_kind k)
{
    int p = pub_of(m, k);
    return p < 0 ? 0 : mtl_publish_refused(m->net, p);
}

/* ---- checkpoints ---- */

void mtlm_save(const mts_model *m, mts_buf *b)
{
    mts_buf net;
    buf_init(&net);
    mtl_state_save(m->net, &net);
    uint64_t len = net.len;
    buf_append(b, &len, 8);
    buf_append(b, net.data, net.len);
    buf_free(&net);
    for (int q = 0; q < 2; q++) {
        const id_map *im = &m->mb->ids[q];
        uint64_t cnt = im->n, queued = im->qlen - im->qhead;
        buf_append(b, &cnt, 8);
        for (uint32_t h = 0; h < im->nslots; h++)
            if (im->state[h]) {
                buf_append(b, &im->keys[h], 8);
                buf_append(b, &im->events[h], 8);
            }
        buf_append(b, &queued, 8);
        buf_append(b, im->queue + im->qhead, queued * sizeof(int64_t));
    }
}

int mtlm_load(mts_model *m, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    uint64_t nl;
    if (len < 8)
        FAIL("declared network section truncated");
    memcpy(&nl, p, 8);
    if (nl > len - 8)
        FAIL("declared network state claims %llu bytes, %zu left", (unsigned long long)nl, len - 8);
    if (mtl_state_load(m->net, p + 8, (size_t)nl, err, errlen))
        return -1;
    size_t pos = 8 + (size_t)nl;
    for (int q = 0; q < 2; q++) {
        id_map *im = &m->mb->ids[q];
        uint64_t cnt;
        if (len - pos < 8)
            FAIL("entity map truncated");
        memcpy(&cnt, p + pos, 8);
        pos += 8;
        if (cnt > (len - pos) / 16)
            FAIL("entity map claims %llu ids, the section is shorter", (unsigned long long)cnt);
        for (uint64_t i = 0; i < cnt; i++) {
            int64_t id;
            uint64_t ev;
            memcpy(&id, p + pos, 8);
            memcpy(&ev, p + pos + 8, 8);
            pos += 16;
            uint32_t before = im->n;
            uint32_t h = map_get(im, id);
            if (im->n == before)
                FAIL("entity map lists id %lld twice", (long long)id);
            im->events[h] = ev;
        }
        uint64_t queued;
        if (len - pos < 8)
            FAIL("dirty queue truncated");
        memcpy(&queued, p + pos, 8);
        pos += 8;
        if (queued > (len - pos) / 8 || queued > im->n)
            FAIL("dirty queue claims %llu ids", (unsigned long long)queued);
        for (uint64_t i = 0; i < queued; i++) {
            int64_t id;
            memcpy(&id, p + pos, 8);
            pos += 8;
            uint32_t h = map_find(im, id);
            if (!im->state[h] || im->state[h] == 2)
                FAIL("dirty queue names an unknown or repeated id %lld", (long long)id);
            map_queue(im, h);
        }
    }
    if (pos != len)
        FAIL("declared network section has %zu trailing bytes", len - pos);
    return 0;
}
