/* intake.c - see intake.h.
 *
 * Writer schemas: every schema listed under input.schemas is parsed once and
 * known by its Confluent id and by its CRC-64-AVRO fingerprint. For each
 * (task, writer schema) pair a decode plan is compiled at start-up; a pair
 * that does not resolve (another record type) has no plan, and a message
 * that needs it is dead-lettered as unknown_schema. With plain framing the
 * task's own reader schema is the writer schema. */
#include "consumer/intake.h"

#include "common/avro.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/util.h"
#include "consumer/deadletter.h"
#include "consumer/framing.h"
#include "consumer/unify.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int id;               /* Confluent id */
    uint64_t fingerprint; /* CRC-64-AVRO of the canonical form */
    av_schema *schema;
} writer_schema;

typedef struct {
    int task;        /* whose rows these are */
    int id_slots[2]; /* slots that must be present (ids), -1 unused */
    int label_slot;
} task_binding;

struct intake {
    const mts_config *cfg;
    rd_kafka_t *consumer;
    rd_kafka_t *dlq;
    framing_kind framing;

    av_schema *readers[CFG_MAX_TASKS]; /* (n_tasks) reader schemas */
    writer_schema *writers;            /* (n_writers) */
    int n_writers;
    mts_plan **plans; /* (n_tasks, n_writers + 1); last: plain framing */
    mts_layout *layout;
    task_binding bind[CFG_MAX_TASKS];

    /* current batch */
    mts_row *rows;     /* (batch_size) */
    mts_value *values; /* (batch_size, n_fields) */
    int n_rows;
    mts_arena arena;
    intake_progress *progress; /* (n_progress) per partition: what the batch covers */
    int n_progress, cap_progress;
    intake_progress *stops; /* (n_stops) replay: next_offset = first offset not read */
    int n_stops;
    int64_t batch_started_ms;

    intake_revoke_fn on_revoke;
    void *on_revoke_opaque;
    intake_assign_fn on_assign;
    void *on_assign_opaque;
    intake_stats stats;
};

/* How long start-up waits for the broker's metadata of each input topic. */
enum { SUBSCRIBE_CHECK_MS = 15000 };

static int plan_index(const intake *in, int task, int writer)
{
    return task * (in->n_writers + 1) + writer;
}

int intake_task_schemas(const mts_config *c, av_schema **out, char *err, size_t errlen)
{
    for (int t = 0; t < c->n_tasks; t++)
        out[t] = NULL;
    for (int t = 0; t < c->n_tasks; t++) {
        char e[512];
        out[t] = av_schema_parse_file(c->tasks[t].schema_file, e, sizeof(e));
        if (!out[t]) {
            snprintf(err, errlen, "task %s: schema %s", c->tasks[t].name, e);
            for (int u = 0; u < t; u++) {
                av_schema_free(out[u]);
                out[u] = NULL;
            }
            return -1;
        }
    }
    return 0;
}

static mts_layout *unify_tasks(const mts_config *c, av_schema *const *readers, char *err,
                               size_t errlen)
{
    const char *names[CFG_MAX_TASKS];
    for (int t = 0; t < c->n_tasks; t++)
        names[t] = c->tasks[t].name;
    return layout_unify(readers, names, c->n_tasks, err, errlen);
}

mts_layout *intake_config_layout(const mts_config *c, char *err, size_t errlen)
{
    av_schema *readers[CFG_MAX_TASKS];
    if (intake_task_schemas(c, readers, err, errlen))
        return NULL;
    mts_layout *l = unify_tasks(c, readers, err, errlen);
    for (int t = 0; t < c->n_tasks; t++)
        av_schema_free(readers[t]);
    return l;
}

static int load_schemas(intake *in, char *err, size_t errlen)
{
    const mts_config *c = in->cfg;
    char e[512];
    if (intake_task_schemas(c, in->readers, err, errlen))
        return -1;
    in->n_writers = c->n_schema_ids;
    in->writers = xcalloc(in->n_writers ? in->n_writers : 1, sizeof(writer_schema));
    for (int i = 0; i < c->n_schema_ids; i++) {
        writer_schema *w = &in->writers[i];
        w->id = c->schema_ids[i].id;
        w->schema = av_schema_parse_file(c->schema_ids[i].file, e, sizeof(e));
        if (!w->schema) {
            snprintf(err, errlen, "input.schemas id %d: %s", w->id, e);
            return -1;
        }
        w->fingerprint = av_fingerprint(w->schema);
    }
    return 0;
}

static int compile_plans(intake *in, char *err, size_t errlen)
{
    const mts_config *c = in->cfg;
    in->layout = unify_tasks(c, in->readers, err, errlen);
    if (!in->layout)
        return -1;
    in->plans = xcalloc((size_t)c->n_tasks * (in->n_writers + 1), sizeof(mts_plan *));
    for (int t = 0; t < c->n_tasks; t++) {
        int usable = 0;
        char e[512];
        for (int w = 0; w < in->n_writers; w++) {
            mts_plan *p =
                plan_compile(in->writers[w].schema, in->readers[t], in->layout, t, e, sizeof(e));
            if (p)
                usable++;
            else
                log_debug("task %s cannot read schema id %d: %s", c->tasks[t].name,
                          in->writers[w].id, e);
            in->plans[plan_index(in, t, w)] = p;
        }
        mts_plan *self = plan_compile(in->readers[t], in->readers[t], in->layout, t, e, sizeof(e));
        if (!self) {
            snprintf(err, errlen, "task %s: schema %s: %s", c->tasks[t].name,
                     c->tasks[t].schema_file, e);
            return -1;
        }
        in->plans[plan_index(in, t, in->n_writers)] = self;
        if (in->framing != FRAMING_PLAIN && !usable) {
            snprintf(err, errlen,
                     "task %s: none of the schemas under input.schemas resolves into its schema %s",
                     c->tasks[t].name, c->tasks[t].schema_file);
            return -1;
        }
    }
    return 0;
}

static int bind_fields(intake *in, char *err, size_t errlen)
{
    const mts_config *c = in->cfg;
    for (int t = 0; t < c->n_tasks; t++) {
        const cfg_task *ct = &c->tasks[t];
        task_binding *b = &in->bind[t];
        b->task = t;
        b->id_slots[0] = b->id_slots[1] = -1;
        const char *ids[2] = {NULL, NULL};
        if (!strcmp(ct->kind, "affinity")) {
            ids[0] = ct->member;
            ids[1] = ct->company;
        } else {
            ids[0] = "entity_id";
        }
        for (int k = 0; k < 2; k++) {
            if (!ids[k])
                continue;
            b->id_slots[k] = layout_find(in->layout, ids[k]);
            if (b->id_slots[k] < 0 ||
                !(in->layout->fields[b->id_slots[k]].task_mask & (1ULL << t))) {
                snprintf(err, errlen, "task %s: id field \"%s\" is not in its schema %s", ct->name,
                         ids[k], ct->schema_file);
                return -1;
            }
        }
        b->label_slot = layout_find(in->layout, ct->label);
        if (b->label_slot < 0 || !(in->layout->fields[b->label_slot].task_mask & (1ULL << t))) {
            snprintf(err, errlen, "task %s: label field \"%s\" is not in its schema %s", ct->name,
                     ct->label, ct->schema_file);
            return -1;
        }
    }
    return 0;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    intake *in = opaque;
    int cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        log_notice("assigned %d partition(s)%s", parts->cnt, cooperative ? " (incremental)" : "");
        if (in->on_assign)
            in->on_assign(in->on_assign_opaque, rk, parts); /* start offsets from the checkpoint */
        rd_kafka_error_t *error = NULL;
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        if (error) {
            log_err("incremental assign: %s", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
        return;
    }
    if (e == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        int lost = rd_kafka_assignment_lost(rk);
        if (lost)
            log_warn("assignment lost: %d partition(s) taken without a clean revoke", parts->cnt);
        if (in->on_revoke)
            in->on_revoke(in->on_revoke_opaque, parts, lost); /* learn, checkpoint, commit */
        log_notice("revoked %d partition(s)", parts->cnt);
        if (cooperative) {
            rd_kafka_error_t *error = rd_kafka_incremental_unassign(rk, parts);
            if (error) {
                log_err("incremental unassign: %s", rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
            }
        } else {
            rd_kafka_assign(rk, NULL);
        }
        return;
    }
    log_err("rebalance failed: %s", rd_kafka_err2str(e));
    rd_kafka_assign(rk, NULL);
}

intake *intake_new(const mts_config *c, rd_kafka_t *dlq_producer, char *err, size_t errlen)
{
    intake *in = xcalloc(1, sizeof(*in));
    in->cfg = c;
    in->dlq = dlq_producer;
    arena_init(&in->arena, 1 << 20);
    if (framing_from_name(c->framing, &in->framing)) {
        snprintf(err, errlen,
                 "%s: input.framing: \"%s\" is not one of confluent, single-object, plain", c->path,
                 c->framing);
        goto fail;
    }
    if (load_schemas(in, err, errlen) || compile_plans(in, err, errlen) ||
        bind_fields(in, err, errlen))
        goto fail;
    /* one message gives a row per task reading its topic: room for a full batch plus one message */
    in->rows = xcalloc((size_t)c->batch_size + c->n_tasks, sizeof(mts_row));
    in->values =
        xcalloc(((size_t)c->batch_size + c->n_tasks) * in->layout->n_fields, sizeof(mts_value));

    /* Offsets are committed by the caller after a checkpoint only, and the
     * rebalance callback is written for these protocols: not the user's to
     * change. */
    static const char *const defaults[] = {"auto.offset.reset", "earliest", NULL};
    const char *const forced[] = {"enable.auto.offset.store",
                                  "false",
                                  "enable.auto.commit",
                                  "false",
                                  "partition.assignment.strategy",
                                  "cooperative-sticky",
                                  "enable.partition.eof",
                                  "false",
                                  "group.id",
                                  c->group_id,
                                  NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(c, defaults, forced, err, errlen);
    if (!conf)
        goto fail;
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, in);
    char kerr[512];
    in->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, kerr, sizeof(kerr));
    if (!in->consumer) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "consumer: %s", kerr);
        goto fail;
    }
    /* conf is owned by the consumer now */
    rd_kafka_poll_set_consumer(in->consumer);
    return in;
fail:
    intake_free(in);
    return NULL;
}

void intake_free(intake *in)
{
    if (!in)
        return;
    if (in->consumer)
        rd_kafka_destroy(in->consumer);
    if (in->plans)
        for (int i = 0; i < in->cfg->n_tasks * (in->n_writers + 1); i++)
            plan_free(in->plans[i]);
    free(in->plans);
    for (int w = 0; w < in->n_writers; w++)
        av_schema_free(in->writers[w].schema);
    free(in->writers);
    for (int t = 0; t < CFG_MAX_TASKS; t++)
        av_schema_free(in->readers[t]);
    if (in->layout)
        layout_free(in->layout);
    free(in->rows);
    free(in->values);
    arena_free(&in->arena);
    free(in->progress);
    free(in->stops);
    free(in);
}

void intake_on_revoke(intake *in, intake_revoke_fn fn, void *opaque)
{
    in->on_revoke = fn;
    in->on_revoke_opaque = opaque;
}

void intake_on_assign(intake *in, intake_assign_fn fn, void *opaque)
{
    in->on_assign = fn;
    in->on_assign_opaque = opaque;
}

rd_kafka_t *intake_consumer(const intake *in)
{
    return in->consumer;
}

static intake_progress *find_progress(intake_progress *v, int n, const char *topic,
                                      int32_t partition)
{
    for (int i = 0; i < n; i++)
        if (v[i].partition == partition && !strcmp(v[i].topic, topic))
            return &v[i];
    return NULL;
}

void intake_set_stop(intake *in, const char *topic, int32_t partition, int64_t offset)
{
    int task = config_task_by_topic(in->cfg, topic);
    if (task < 0)
        return;
    intake_progress *p = find_progress(in->stops, in->n_stops, topic, partition);
    if (!p) {
        in->stops = xrealloc(in->stops, (size_t)(in->n_stops + 1) * sizeof(intake_progress));
        p = &in->stops[in->n_stops++];
        memset(p, 0, sizeof(*p));
        p->topic = in->cfg->tasks[task].topic;
        p->partition = partition;
    }
    p->next_offset = offset;
}

const mts_layout *intake_layout(const intake *in)
{
    return in->layout;
}

int intake_subscribe(intake *in, char *err, size_t errlen)
{
    /* subscribe() does not talk to the broker: ask for every topic's
     * metadata first, so an unreachable broker or a missing topic is a clear
     * start-up error (exit 69) rather than a service that waits silently. */
    for (int t = 0; t < in->cfg->n_tasks; t++)
        if (kafka_partition_count(in->consumer, in->cfg->tasks[t].topic, SUBSCRIBE_CHECK_MS, err,
                                  errlen) < 0)
            return -1;
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(in->cfg->n_tasks);
    for (int t = 0; t < in->cfg->n_tasks; t++)
        if (config_task_by_topic(in->cfg, in->cfg->tasks[t].topic) == t) /* each topic once */
            rd_kafka_topic_partition_list_add(topics, in->cfg->tasks[t].topic,
                                              RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(in->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
        snprintf(err, errlen, "subscribe: %s", rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

static const mts_plan *find_plan(intake *in, int task, uint64_t key)
{
    if (in->framing == FRAMING_PLAIN)
        return in->plans[plan_index(in, task, in->n_writers)];
    for (int w = 0; w < in->n_writers; w++) {
        const writer_schema *ws = &in->writers[w];
        if (in->framing == FRAMING_CONFLUENT ? (uint64_t)ws->id == key : ws->fingerprint == key)
            return in->plans[plan_index(in, task, w)];
    }
    return NULL;
}

decode_reason intake_decode(intake *in, int task, const uint8_t *msg, size_t len, mts_row *row,
                            mts_arena *arena, char *err, size_t errlen)
{
    uint64_t key = 0;
    const uint8_t *body;
    size_t body_len;
    if (framing_parse(in->framing, msg, len, &key, &body, &body_len, err, errlen))
        return DR_FRAMING;
    const mts_plan *p = find_plan(in, task, key);
    if (!p) {
        snprintf(err, errlen, "schema %s %" PRIu64 " is not one task %s can read",
                 in->framing == FRAMING_CONFLUENT ? "id" : "fingerprint", key,
                 in->cfg->tasks[task].name);
        return DR_UNKNOWN_SCHEMA;
    }
    row->task = task;
    decode_reason r = plan_decode(p, body, body_len, row, arena, err, errlen);
    if (r != DR_OK)
        return r;
    const task_binding *b = &in->bind[task];
    for (int k = 0; k < 2; k++) {
        int s = b->id_slots[k];
        if (s >= 0 && (!row->v[s].present || row->v[s].is_null)) {
            snprintf(err, errlen, "id field %s is missing or null", in->layout->fields[s].name);
            return DR_MISSING_FIELD;
        }
    }
    const mts_value *lv = &row->v[b->label_slot];
    if (!lv->present || lv->is_null) {
        snprintf(err, errlen, "label field %s is missing or null",
                 in->layout->fields[b->label_slot].name);
        return DR_MISSING_FIELD;
    }
    return DR_OK;
}

/* Count msg in its partition's progress: the batch now reaches past it. */
static void note_offset(intake *in, int task, const rd_kafka_message_t *m, int dead)
{
    const char *topic = in->cfg->tasks[task].topic;
    intake_progress *p = find_progress(in->progress, in->n_progress, topic, m->partition);
    if (!p) {
        if (in->n_progress == in->cap_progress) {
            in->cap_progress = in->cap_progress ? 2 * in->cap_progress : 16;
            in->progress =
                xrealloc(in->progress, (size_t)in->cap_progress * sizeof(intake_progress));
        }
        p = &in->progress[in->n_progress++];
        memset(p, 0, sizeof(*p));
        p->topic = topic;
        p->partition = m->partition;
    }
    p->next_offset = m->offset + 1;
    if (dead)
        p->dead++;
    else
        p->rows++;
}

/* Rewind a partition to msg so it is read again (its dead letter could not
 * be queued: moving past it would lose it). */
static void rewind_to(intake *in, const rd_kafka_message_t *m)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
        m->offset;
    rd_kafka_error_t *e = rd_kafka_seek_partitions(in->consumer, l, -1);
    if (e) {
        log_err_limited("rewinding %s [%" PRId32 "] to %" PRId64 ": %s",
                        rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                        rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* 0: the message is in the batch or dead-lettered; -1: it could not be
 * dead-lettered now, its partition was rewound to it, stop polling.
 *
 * Every task reading the message's topic decodes it with its own plan and,
 * if usable, gets its own row (row->task). The message counts once in its
 * partition's progress: as rows if any task could use it, else as one dead
 * letter (with the first task's reason). A task that cannot use a message
 * another task used counts it in stats.task_skipped (no dead letter: the
 * message was learned from). */
static int handle_message(intake *in, rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    int first = config_task_by_topic(in->cfg, topic);
    if (first < 0) {
        log_warn_limited("message from unexpected topic %s ignored", topic);
        return 0;
    }
    if (in->n_stops) { /* replay: nothing at or after a partition's stop offset */
        const intake_progress *stop = find_progress(in->stops, in->n_stops, topic, m->partition);
        if (stop && m->offset >= stop->next_offset)
            return 0;
    }
    in->stats.last_message_ms = mono_ms();
    if (!in->stats.first_message_ms)
        in->stats.first_message_ms = in->stats.last_message_ms;
    if (in->n_rows == 0)
        in->batch_started_ms = mono_ms();
    char err[256], first_err[256];
    decode_reason first_r = DR_OK;
    int rows = 0;
    uint64_t failed = 0; /* bit t: task t could not use the message */
    first_err[0] = '\0';
    for (int task = first; task < in->cfg->n_tasks; task++) {
        if (strcmp(in->cfg->tasks[task].topic, topic))
            continue;
        in->stats.consumed[task]++;
        mts_row *row = &in->rows[in->n_rows + rows];
        row->v = in->values + (size_t)(in->n_rows + rows) * in->layout->n_fields;
        row->topic = first;
        row->partition = m->partition;
        row->offset = m->offset;
        row->timestamp_ms = rd_kafka_message_timestamp(m, NULL);
        err[0] = '\0';
        decode_reason r = intake_decode(in, task, m->payload, m->payload ? m->len : 0, row,
                                        &in->arena, err, sizeof(err));
        if (r == DR_OK) {
            rows++;
            continue;
        }
        failed |= 1ULL << task;
        if (first_r == DR_OK) {
            first_r = r;
            snprintf(first_err, sizeof(first_err), "%s", err);
        }
    }
    if (rows > 0) {
        for (int k = 0; k < rows; k++)
            in->stats.rows[in->rows[in->n_rows + k].task]++;
        in->n_rows += rows;
        note_offset(in, first, m, 0);
        for (int t = 0; failed && t < in->cfg->n_tasks; t++)
            if (failed & (1ULL << t)) {
                in->stats.task_skipped[t]++;
                log_debug("%s [%" PRId32 "] @%" PRId64 ": task %s cannot use it (another task did)",
                          topic, m->partition, m->offset, in->cfg->tasks[t].name);
            }
        return 0;
    }
    char dlq_err[256];
    if (deadletter_send(in->dlq, in->cfg->dead_letter_topic, m, decode_reason_name(first_r),
                        first_err, dlq_err, sizeof(dlq_err))) {
        for (int t = 0; t < in->cfg->n_tasks; t++)
            if (failed & (1ULL << t))
                in->stats.consumed[t]--; /* it will be read again */
        in->stats.dlq_failures++;
        log_err_limited("%s [%" PRId32 "] @%" PRId64
                        ": %s, and dead-lettering failed: %s; will retry",
                        topic, m->partition, m->offset, decode_reason_name(first_r), dlq_err);
        rewind_to(in, m);
        return -1;
    }
    note_offset(in, first, m, 1);
    in->stats.rejected[first_r]++;
    in->stats.rejected_total++;
    const char *why = decode_reason_name(first_r);
    int named =
        !strncmp(first_err, why, strlen(why)); /* decode errors start with the reason already */
    log_warn_limited("%s [%" PRId32 "] @%" PRId64 ": %s%s%s (dead-lettered)", topic, m->partition,
                     m->offset, named ? "" : why, named ? "" : ": ", first_err);
    return 0;
}

int intake_handle_message(intake *in, rd_kafka_message_t *m)
{
    return handle_message(in, m);
}

int intake_poll(intake *in, int timeout_ms)
{
    int handled = 0;
    /* Rejected messages do not fill the batch: bound the messages per call
     * too, so a run of bad input cannot starve the loop (and its watchdog). */
    int max_handled = 4 * in->cfg->batch_size;
    int64_t deadline = mono_ms() + timeout_ms;
    while (in->n_rows < in->cfg->batch_size && handled < max_handled) {
        int64_t left = deadline - mono_ms();
        if (left <= 0 && handled > 0)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(in->consumer, left > 0 ? (int)left : 0);
        if (!m)
            break;
        int blocked = 0;
        if (m->err) {
            /* An error event carries a text, not data: never decode it. */
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                in->stats.kafka_errors++;
                log_err_limited("consumer: %s", rd_kafka_message_errstr(m));
            }
        } else {
            blocked = handle_message(in, m) < 0;
            handled++;
        }
        rd_kafka_message_destroy(m);
        if (blocked)
            break;
    }
    return handled;
}

int intake_batch_ready(const intake *in)
{
    if (in->n_rows >= in->cfg->batch_size)
        return 1;
    if (in->n_rows > 0 && mono_ms() - in->batch_started_ms >= in->cfg->batch_latency_ms)
        return 1;
    /* Only rejected messages pending: their progress still needs reporting. */
    return in->n_rows == 0 && in->n_progress > 0;
}

const mts_row *intake_batch(const intake *in, int *n)
{
    *n = in->n_rows;
    return in->rows;
}

const intake_progress *intake_batch_progress(const intake *in, int *n)
{
    *n = in->n_progress;
    return in->progress;
}

void intake_batch_done(intake *in)
{
    in->n_progress = 0;
    in->n_rows = 0;
    arena_reset(&in->arena);
}

const intake_stats *intake_get_stats(const intake *in)
{
    return &in->stats;
}

void intake_close(intake *in)
{
    if (!in->consumer)
        return;
    rd_kafka_consumer_close(in->consumer);
}
