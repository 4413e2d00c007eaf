/* publish.c - see publish.h.
 *
 * Encoding is written out field by field (no generic encoder on this path);
 * publisher_new checks that the configured schema is the layout this code
 * writes, so a changed schema file fails at start-up, not on the wire. */
#include "producer/publish.h"

#include "common/avro.h"
#include "common/log.h"
#include "common/util.h"
#include "consumer/framing.h"
#include "producer/producer.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct publisher {
    rd_kafka_t *rk;
    const char *topics[2];  /* member, company (the configuration's strings) */
    uint64_t failures_seen; /* embedding delivery failures already handled */
    int schema_id;
    char *model_version;
    int64_t *ids; /* (id_cap) scratch for drained ids */
    size_t id_cap;
    float *vec;  /* (vec_cap) */
    int vec_cap; /* floats in vec; grows to the model's width (a declared
                    network's published width is not the config's dim) */
    mts_buf buf;
    publish_stats stats;
};

static int check_schema(const av_schema *s, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        av_type type;
    } want[] = {{"entity_type", AV_ENUM},     {"entity_id", AV_LONG},   {"vector", AV_ARRAY},
                {"model_version", AV_STRING}, {"events_seen", AV_LONG}, {"updated_at", AV_LONG}};
    if (s->type != AV_RECORD || s->n_fields != (int)ARRAY_LEN(want))
        goto bad;
    for (size_t i = 0; i < ARRAY_LEN(want); i++)
        if (strcmp(s->fields[i].name, want[i].name) || s->fields[i].type->type != want[i].type)
            goto bad;
    if (s->fields[2].type->items->type != AV_FLOAT || s->fields[0].type->n_symbols != 2)
        goto bad;
    return 0;
bad:
    snprintf(err, errlen,
             "output.schema: expected the record of schemas/embedding.avsc (entity_type, "
             "entity_id, vector, model_version, events_seen, updated_at)");
    return -1;
}

publisher *publisher_new(const mts_config *c, rd_kafka_t *producer, const char *model_version,
                         char *err, size_t errlen)
{
    char e[512];
    av_schema *s = av_schema_parse_file(c->output_schema_file, e, sizeof(e));
    if (!s) {
        snprintf(err, errlen, "output.schema %s", e);
        return NULL;
    }
    int bad = check_schema(s, err, errlen);
    av_schema_free(s);
    if (bad)
        return NULL;
    publisher *p = xcalloc(1, sizeof(*p));
    p->rk = producer;
    p->schema_id = c->output_schema_id;
    p->model_version = xstrdup(model_version);
    p->topics[ENTITY_MEMBER] = c->member_topic;
    p->topics[ENTITY_COMPANY] = c->company_topic;
    p->id_cap = 4096;
    p->ids = xmalloc(p->id_cap * sizeof(int64_t));
    p->vec_cap = c->dim > 0 ? c->dim : 1;
    p->vec = xmalloc((size_t)p->vec_cap * sizeof(float));
    buf_init(&p->buf);
    return p;
}

void publisher_free(publisher *p)
{
    if (!p)
        return;
    free(p->model_version);
    free(p->ids);
    free(p->vec);
    buf_free(&p->buf);
    free(p);
}

void publisher_encode(const publisher *p, entity_kind k, int64_t id, const float *vec, int dim,
                      uint64_t events_seen, int64_t updated_ms, mts_buf *out)
{
    framing_write_header(FRAMING_CONFLUENT, (uint64_t)p->schema_id, out);
    av_write_long(out, k == ENTITY_MEMBER ? 0 : 1);
    av_write_long(out, id);
    if (dim > 0) {
        av_write_long(out, dim); /* one block of dim floats, then the end marker */
        for (int i = 0; i < dim; i++)
            av_write_float(out, vec[i]);
    }
    av_write_long(out, 0);
    av_write_bytes(out, p->model_version, strlen(p->model_version));
    av_write_long(out, (int64_t)events_seen);
    av_write_long(out, updated_ms);
}

/* 1 produced, 0 nothing to publish (evicted), -1 the producer refused it. */
static int produce_one(publisher *p, mts_model *m, entity_kind k, int64_t id, int64_t now,
                       int64_t deadline_ms)
{
    uint64_t seen = 0;
    if (model_dim(m) > p->vec_cap) {
        p->vec_cap = model_dim(m);
        p->vec = xrealloc(p->vec, (size_t)p->vec_cap * sizeof(float));
    }
    if (model_embedding(m, k, id, p->vec, &seen))
        return 0;
    buf_reset(&p->buf);
    publisher_encode(p, k, id, p->vec, model_dim(m), seen, now, &p->buf);
    char key[24], err[256];
    int klen = snprintf(key, sizeof(key), "%" PRId64, id);
    if (producer_send(p->rk, p->topics[k], key, (size_t)klen, p->buf.data, p->buf.len, NULL,
                      PRODUCE_EMBEDDING, deadline_ms, err, sizeof(err))) {
        p->stats.produce_errors++;
        log_err_limited("embedding %" PRId64 " not published: %s; it stays due", id, err);
        return -1;
    }
    p->stats.produced[k]++;
    return 1;
}

static int publish(publisher *p, mts_model *m, int budget, int64_t deadline_ms)
{
    /* A failed delivery report does not say which entity it was: publish
     * everything again, which is rare and keeps no vector stale. */
    uint64_t failed = producer_get_stats()->failed[PRODUCE_EMBEDDING];
    if (failed > p->failures_seen) {
        log_warn("%" PRIu64 " embedding deliveries failed: publishing a full snapshot again",
                 failed - p->failures_seen);
        p->failures_seen = failed;
        model_mark_all_dirty(m, ENTITY_MEMBER);
        model_mark_all_dirty(m, ENTITY_COMPANY);
    }
    int done = 0;
    int64_t now = now_ms();
    for (int k = 0; k < 2 && done < budget; k++) {
        for (;;) {
            size_t want = (size_t)(budget - done) < p->id_cap ? (size_t)(budget - done) : p->id_cap;
            if (!want)
                break;
            size_t n = model_drain_dirty(m, (entity_kind)k, p->ids, want);
            for (size_t i = 0; i < n; i++) {
                int r = produce_one(p, m, (entity_kind)k, p->ids[i], now, deadline_ms);
                if (r < 0) { /* the rest of this chunk stays due, for the next round */
                    for (; i < n; i++)
                        model_mark_dirty(m, (entity_kind)k, p->ids[i]);
                    return done;
                }
                done += r;
            }
            rd_kafka_poll(p->rk, 0);
            if (n < want)
                break;
        }
    }
    return done;
}

int publisher_publish_dirty(publisher *p, mts_model *m, int budget, int64_t deadline_ms)
{
    return publish(p, m, budget, deadline_ms);
}

int publisher_publish_all_dirty(publisher *p, mts_model *m, int64_t deadline_ms)
{
    return publish(p, m, INT_MAX, deadline_ms);
}

int publisher_publish_snapshot(publisher *p, mts_model *m, int64_t deadline_ms)
{
    model_mark_all_dirty(m, ENTITY_MEMBER);
    model_mark_all_dirty(m, ENTITY_COMPANY);
    return publish(p, m, INT_MAX, deadline_ms);
}

const publish_stats *publisher_get_stats(const publisher *p)
{
    return &p->stats;
}
