/* ops.c - see ops.h.
 *
 * Pacing: ops_tick() runs every loop turn (tens of ms). It pings the
 * watchdog through notify_watchdog() (which paces itself), renders a metrics
 * snapshot once a second and sends a STATUS= line every
 * service.status_interval_s. Rendering reads only counters the loop owns,
 * plus librdkafka's cached watermarks and positions (no broker round trip),
 * so a tick never blocks the loop.
 *
 * Reload: the SIGHUP handler only sets a flag; ops_reload() runs in the
 * loop, between batches, loads the file again into a fresh configuration
 * and lets config_reload() copy what may change. The consumer is never
 * touched, so the group membership survives a reload.
 *
 * Loss weights: the model keeps its own copy of the configuration, so a
 * changed weight is passed on with model_set_loss_weight(). */
#include "cli/ops.h"

#include "common/log.h"
#include "common/metrics_http.h"
#include "common/notify.h"
#include "common/prom.h"
#include "common/util.h"
#include "producer/producer.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Set the weight of task's loss in the combined loss; 0 or -1 (bad task or
 * weight). Not yet in model/model.h: see the comment at the top. */

enum { SNAPSHOT_MS = 1000, HEALTH_STALE_MS = 30000 };

static volatile sig_atomic_t reload_flag;
static metrics_http *http;
static int is_ready;
static int64_t next_snapshot_ms, next_status_ms;
static int64_t status_mark_ms;       /* start of the current throughput window */
static uint64_t status_mark_learned; /* rows learned at status_mark_ms */
static int64_t start_wall_ms;
static int64_t checkpoint_wall_ms; /* 0: no checkpoint yet */
static double checkpoint_duration_s;
static uint64_t checkpoints;
static uint64_t reloads, reloads_refused;
static int64_t total_lag = -1; /* sum over assigned partitions; -1 unknown */
static int n_assigned;

static void on_sighup(int sig)
{
    (void)sig;
    reload_flag = 1;
}

int ops_start(const mts_config *cfg)
{
    /* Checkpoints and every other file the service writes: owner-only. */
    umask(077);
    notify_init();
    /* Schemas, model tables and (soon) the checkpoint load come next. */
    notify_extend_timeout(90ULL * 1000000);
    struct sigaction sa = {.sa_handler = on_sighup, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    start_wall_ms = now_ms();
    if (cfg->metrics_listen[0]) {
        char err[512];
        http = metrics_http_start(cfg->metrics_listen, cfg->metrics_allow_remote, HEALTH_STALE_MS,
                                  err, sizeof(err));
        if (!http) {
            fprintf(stderr, "mtlstream: configuration error: %s\n", err);
            return EXIT_CONFIG;
        }
        log_notice("metrics on http://%s/metrics (port %d), health on /healthz",
                   cfg->metrics_listen, metrics_http_port(http));
    }
    return 0;
}

void ops_startup_progress(uint64_t more_usec)
{
    notify_extend_timeout(more_usec);
}

void ops_checkpoint_done(int64_t wall_ms, double duration_s)
{
    checkpoint_wall_ms = wall_ms;
    checkpoint_duration_s = duration_s;
    checkpoints++;
}

/* Lag per assigned partition from the cached high watermark and the
 * consumer position; written as samples when b is not NULL. */
static void lag_samples(const ops_service *s, mts_buf *b)
{
    rd_kafka_t *rk = intake_consumer(s->in);
    rd_kafka_topic_partition_list_t *parts = NULL;
    total_lag = -1;
    n_assigned = 0;
    if (!rk || rd_kafka_assignment(rk, &parts) || !parts)
        return;
    n_assigned = parts->cnt;
    rd_kafka_position(rk, parts);
    int64_t sum = 0;
    int known = 0;
    for (int i = 0; i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &parts->elems[i];
        int64_t lo = -1, hi = -1;
        if (rd_kafka_get_watermark_offsets(rk, p->topic, p->partition, &lo, &hi) || hi < 0)
            continue;
        /* Before the first fetch the position is unknown: count from the low mark. */
        int64_t pos = p->offset >= 0 ? p->offset : lo;
        if (pos < 0)
            continue;
        int64_t lag = hi > pos ? hi - pos : 0;
        sum += lag;
        known++;
        if (b) {
            char part[16];
            snprintf(part, sizeof(part), "%" PRId32, p->partition);
            prom_sample(b, "mtlstream_consumer_lag", (double)lag, 2, "topic", p->topic, "partition",
                        part);
        }
    }
    if (known)
        total_lag = sum;
    rd_kafka_topic_partition_list_destroy(parts);
}

static const char *entity_name(int k)
{
    return k == ENTITY_MEMBER ? "member" : "company";
}

static void render(const ops_service *s, mts_buf *b)
{
    const mts_config *c = s->cfg;
    const intake_stats *is = intake_get_stats(s->in);
    const producer_stats *ps = producer_get_stats();
    const publish_stats *pub = publisher_get_stats(s->pub);

    prom_family(b, "mtlstream_ready", "gauge",
                "1 once configuration, schemas, model and subscription are in place");
    prom_sample(b, "mtlstream_ready", is_ready, 0);
    prom_family(b, "mtlstream_start_time_seconds", "gauge",
                "start time of the process since the epoch");
    prom_sample(b, "mtlstream_start_time_seconds", start_wall_ms / 1000.0, 0);

    prom_family(b, "mtlstream_events_consumed_total", "counter",
                "input messages read, per task and topic");
    for (int t = 0; t < c->n_tasks; t++)
        prom_sample(b, "mtlstream_events_consumed_total", (double)is->consumed[t], 2, "task",
                    c->tasks[t].name, "topic", c->tasks[t].topic);
    prom_family(b, "mtlstream_events_decoded_total", "counter",
                "input messages decoded into rows (not dead-lettered), per task and topic");
    for (int t = 0; t < c->n_tasks; t++)
        prom_sample(b, "mtlstream_events_decoded_total", (double)is->rows[t], 2, "task",
                    c->tasks[t].name, "topic", c->tasks[t].topic);

    task_metrics tm[CFG_MAX_TASKS];
    for (int t = 0; t < c->n_tasks; t++)
        model_task_metrics(s->model, t, &tm[t]);
    prom_family(b, "mtlstream_events_learned_total", "counter",
                "rows scored (progressive validation) and learned from, per task and topic");
    for (int t = 0; t < c->n_tasks; t++)
        prom_sample(b, "mtlstream_events_learned_total", (double)tm[t].events, 2, "task",
                    c->tasks[t].name, "topic", c->tasks[t].topic);
    prom_family(b, "mtlstream_events_skipped_total", "counter",
                "rows the model could not use, per task");
    for (int t = 0; t < c->n_tasks; t++)
        prom_sample(b, "mtlstream_events_skipped_total", (double)tm[t].skipped, 1, "task",
                    c->tasks[t].name);
    prom_family(b, "mtlstream_auc", "gauge", "progressive-validation AUC since start, per task");
    for (int t = 0; t < c->n_tasks; t++)
        prom_sample(b, "mtlstream_auc", tm[t].auc, 1, "task", c->tasks[t].name);
    prom_family(b, "mtlstream_auc_recent", "gauge",
                "progressive-validation AUC over the recent window, per task");
    for (int t = 0; t < c->n_tasks; t++)
        prom_sample(b, "mtlstream_auc_recent", tm[t].auc_recent, 1, "task", c->tasks[t].name);
    prom_family(b, "mtlstream_logloss", "gauge",
                "progressive-validation mean log-loss since start, per task");
    for (int t = 0; t < c->n_tasks; t++)
        prom_sample(b, "mtlstream_logloss", tm[t].logloss, 1, "task", c->tasks[t].name);
    prom_family(b, "mtlstream_logloss_recent", "gauge",
                "progressive-validation log-loss over the recent window");
    for (int t = 0; t < c->n_tasks; t++)
        prom_sample(b, "mtlstream_logloss_recent", tm[t].logloss_recent, 1, "task",
                    c->tasks[t].name);
    prom_family(b, "mtlstream_loss_weight", "gauge",
                "weight of the task's loss in the combined loss");
    for (int t = 0; t < c->n_tasks; t++)
        prom_sample(b, "mtlstream_loss_weight", tm[t].loss_weight, 1, "task", c->tasks[t].name);
    prom_family(b, "mtlstream_training_steps_total", "counter",
                "joint training steps (one per batch)");
    prom_sample(b, "mtlstream_training_steps_total", (double)*s->steps, 0);

    prom_family(b, "mtlstream_dead_lettered_total", "counter",
                "input messages rejected (decode or validation error) and sent to the dead-letter "
                "topic, per reason");
    for (int r = 1; r < DR__COUNT; r++)
        prom_sample(b, "mtlstream_dead_lettered_total", (double)is->rejected[r], 1, "reason",
                    decode_reason_name((decode_reason)r));
    prom_family(b, "mtlstream_dead_letter_deliveries_total", "counter",
                "dead-letter produce results");
    prom_sample(b, "mtlstream_dead_letter_deliveries_total", (double)ps->delivered[PRODUCE_DLQ], 1,
                "result", "delivered");
    prom_sample(b, "mtlstream_dead_letter_deliveries_total", (double)ps->failed[PRODUCE_DLQ], 1,
                "result", "failed");
    prom_family(b, "mtlstream_consumer_errors_total", "counter",
                "consumer errors reported by librdkafka");
    prom_sample(b, "mtlstream_consumer_errors_total", (double)is->kafka_errors, 0);

    prom_family(b, "mtlstream_consumer_lag", "gauge",
                "messages behind the high watermark, per assigned partition (cached watermarks)");
    lag_samples(s, b);
    prom_family(b, "mtlstream_assigned_partitions", "gauge",
                "partitions assigned to this consumer");
    prom_sample(b, "mtlstream_assigned_partitions", n_assigned, 0);

    prom_family(b, "mtlstream_embeddings_published_total", "counter",
                "embeddings handed to the producer, per entity");
    for (int k = 0; k < 2; k++)
        prom_sample(b, "mtlstream_embeddings_published_total", (double)pub->produced[k], 1,
                    "entity", entity_name(k));
    prom_family(b, "mtlstream_embedding_deliveries_total", "counter", "embedding produce results");
    prom_sample(b, "mtlstream_embedding_deliveries_total", (double)ps->delivered[PRODUCE_EMBEDDING],
                1, "result", "delivered");
    prom_sample(b, "mtlstream_embedding_deliveries_total",
                (double)(ps->failed[PRODUCE_EMBEDDING] + pub->produce_errors), 1, "result",
                "failed");
    prom_family(b, "mtlstream_embedding_table_rows", "gauge", "rows in the entity embedding table");
    for (int k = 0; k < 2; k++)
        prom_sample(b, "mtlstream_embedding_table_rows",
                    (double)model_entity_count(s->model, (entity_kind)k), 1, "entity",
                    entity_name(k));
    prom_family(b, "mtlstream_embedding_table_refused_total", "counter",
                "new ids turned away because the table was full (the table never evicts)");
    for (int k = 0; k < 2; k++)
        prom_sample(b, "mtlstream_embedding_table_refused_total",
                    (double)model_entities_refused(s->model, (entity_kind)k), 1, "entity",
                    entity_name(k));

    prom_family(b, "mtlstream_publish_interval_seconds", "gauge",
                "output.publish_interval_ms in effect");
    prom_sample(b, "mtlstream_publish_interval_seconds", c->publish_interval_ms / 1000.0, 0);
    prom_family(b, "mtlstream_reloads_total", "counter", "SIGHUP reloads, by result");
    prom_sample(b, "mtlstream_reloads_total", (double)(reloads - reloads_refused), 1, "result",
                "clean");
    prom_sample(b, "mtlstream_reloads_total", (double)reloads_refused, 1, "result",
                "with_refusals");
    prom_family(b, "mtlstream_checkpoints_total", "counter", "checkpoints written");
    prom_sample(b, "mtlstream_checkpoints_total", (double)checkpoints, 0);
    if (checkpoint_wall_ms) {
        prom_family(b, "mtlstream_checkpoint_age_seconds", "gauge",
                    "seconds since the last checkpoint finished");
        prom_sample(b, "mtlstream_checkpoint_age_seconds", (now_ms() - checkpoint_wall_ms) / 1000.0,
                    0);
        prom_family(b, "mtlstream_checkpoint_duration_seconds", "gauge",
                    "how long the last checkpoint took");
        prom_sample(b, "mtlstream_checkpoint_duration_seconds", checkpoint_duration_s, 0);
    }
}

static void publish_snapshot(const ops_service *s)
{
    mts_buf b;
    buf_init(&b);
    render(s, &b); /* also refreshes n_assigned and total_lag */
    if (http) {
        const intake_stats *is = intake_get_stats(s->in);
        char ckpt[32] = "null", last_msg[32] = "null";
        if (checkpoint_wall_ms)
            snprintf(ckpt, sizeof(ckpt), "%.3f", (now_ms() - checkpoint_wall_ms) / 1000.0);
        if (is->last_message_ms)
            snprintf(last_msg, sizeof(last_msg), "%.3f",
                     (mono_ms() - is->last_message_ms) / 1000.0);
        char health[512];
        snprintf(
            health, sizeof(health),
            "{\"ready\":%s,\"consuming\":%s,\"assigned_partitions\":%d,\"consumer_lag\":%" PRId64
            ",\"last_message_age_s\":%s,\"last_checkpoint_age_s\":%s}",
            is_ready ? "true" : "false", n_assigned > 0 ? "true" : "false", n_assigned, total_lag,
            last_msg, ckpt);
        metrics_http_publish(http, (const char *)b.data, b.len, health, is_ready);
    }
    buf_free(&b);
}

static void send_status(const ops_service *s, int64_t now)
{
    double secs = (now - status_mark_ms) / 1000.0;
    double rate = secs > 0 ? (double)(*s->learned - status_mark_learned) / secs : 0;
    status_mark_ms = now;
    status_mark_learned = *s->learned;
    char lag[32] = "unknown";
    if (total_lag >= 0)
        snprintf(lag, sizeof(lag), "%" PRId64, total_lag);
    notify_status("learning: %.0f events/s, %" PRIu64 " learned, %" PRIu64
                  " rejected, lag %s on %d partition(s)",
                  rate, *s->learned, intake_get_stats(s->in)->rejected_total, lag, n_assigned);
}

void ops_ready(const ops_service *s)
{
    is_ready = 1;
    int64_t now = mono_ms();
    status_mark_ms = now;
    status_mark_learned = *s->learned;
    next_snapshot_ms = now + SNAPSHOT_MS;
    next_status_ms = now + s->cfg->status_interval_s * 1000LL;
    publish_snapshot(s);
    char status[256];
    snprintf(status, sizeof(status), "subscribed to %d topic(s) in group %s", s->cfg->n_tasks,
             s->cfg->group_id);
    notify_ready(status);
}

void ops_tick(const ops_service *s)
{
    notify_watchdog();
    int64_t now = mono_ms();
    if (now >= next_snapshot_ms) {
        publish_snapshot(s);
        next_snapshot_ms = now + SNAPSHOT_MS;
    }
    if (now >= next_status_ms) {
        send_status(s, now);
        next_status_ms = now + s->cfg->status_interval_s * 1000LL;
    }
}

int ops_reload_pending(void)
{
    return reload_flag;
}

void ops_reload(const ops_service *s)
{
    reload_flag = 0;
    reloads++;
    notify_reloading();
    mts_config fresh;
    char err[1024];
    log_notice("reload: reading %s (SIGHUP)", s->cfg->path);
    if (config_load(s->cfg->path, &fresh, err, sizeof(err))) {
        log_err("reload: refused: the configuration does not load, nothing changed: %s", err);
        config_free(&fresh);
        reloads_refused++;
        notify_ready("reload refused: configuration error (running on the previous configuration)");
        return;
    }
    config_reload_result r;
    config_reload(s->cfg, &fresh, &r);
    config_free(&fresh);
    log_set_level(log_level_from_name(s->cfg->log_level));
    for (int t = 0; t < s->cfg->n_tasks; t++) {
        if (!(r.loss_weights_changed & (1u << t)))
            continue;
        float w = (float)s->cfg->tasks[t].loss_weight;
        if (model_set_loss_weight(s->model, t, w)) {
            task_metrics tm;
            model_task_metrics(s->model, t, &tm);
            log_warn("reload: refused: tasks[%s].loss_weight: this model cannot change it while "
                     "running (kept %g)",
                     s->cfg->tasks[t].name, tm.loss_weight);
            s->cfg->tasks[t].loss_weight =
                tm.loss_weight; /* the live value stays the running one */
            r.applied--;
            r.refused++;
        }
    }
    if (r.refused)
        reloads_refused++;
    log_notice("reload: done: %d change(s) applied, %d refused", r.applied, r.refused);
    /* Pick up the new status interval now rather than after the old one. */
    next_status_ms = mono_ms() + s->cfg->status_interval_s * 1000LL;
    next_snapshot_ms = 0;
    char status[128];
    snprintf(status, sizeof(status), "reloaded: %d change(s) applied, %d refused", r.applied,
             r.refused);
    notify_ready(status);
}

void ops_stopping(const ops_service *s)
{
    notify_stopping();
    /* The final batch, publish and a flush bounded by output.flush_timeout_ms. */
    notify_extend_timeout(((uint64_t)s->cfg->flush_timeout_ms + 30000) * 1000);
    is_ready = 0;
    publish_snapshot(s);
}

void ops_stop(void)
{
    metrics_http_stop(http);
    http = NULL;
}
