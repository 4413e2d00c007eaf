/* run.c - `mtlstream run`: the service.
 *
 * One thread runs the loop; librdkafka has its own threads for I/O.
 *   poll input -> batch full or old enough -> model step (progressive
 *   validation, then learning) -> store the batch's offsets -> every
 *   publish interval, publish changed embeddings within the rate bound.
 * SIGTERM/SIGINT end the loop; the pending batch is learned, every changed
 * embedding published, the producer flushed within output.flush_timeout_ms,
 * offsets committed, and the process exits 0. */
#include "cli/cli.h"
#include "cli/ops.h"

#include "common/kafka.h"
#include "common/log.h"
#include "common/util.h"
#include "consumer/intake.h"
#include "model/model.h"
#include "producer/producer.h"
#include "producer/publish.h"

#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A publication round waits at most this long for room in the producer
 * queue, so a broker outage never starves the loop and its watchdog. */
enum { PUBLISH_ROUND_BOUND_MS = 1000 };

static volatile sig_atomic_t run = 1;

static void on_stop(int sig)
{
    (void)sig;
    run = 0;
}

typedef struct {
    const mts_config *cfg;
    intake *in;
    mts_model *model;
    publisher *pub;
    rd_kafka_t *producer;
    uint64_t steps;
    uint64_t learned;
} service;

/* Learn from the pending batch and store its offsets. */
static void learn_batch(service *s)
{
    int n;
    const mts_row *rows = intake_batch(s->in, &n);
    if (n > 0) {
        char err[256];
        if (model_train_batch(s->model, rows, n, err, sizeof(err)))
            log_err_limited("training step failed: %s", err);
        s->steps++;
        s->learned += (uint64_t)n;
    }
    intake_batch_done(s->in);
}

static void on_revoke(void *opaque)
{
    learn_batch(opaque);
}

static void print_status(const service *s, FILE *f, int final)
{
    const intake_stats *is = intake_get_stats(s->in);
    const publish_stats *ps = publisher_get_stats(s->pub);
    char line[2048];
    int n = snprintf(line, sizeof(line), "%s: learned %" PRIu64 " events in %" PRIu64 " steps; rejected %" PRIu64
                     "; published %" PRIu64 " member and %" PRIu64 " company embeddings",
                     final ? "final" : "status", s->learned, s->steps, is->rejected_total, ps->produced[0],
                     ps->produced[1]);
    for (int t = 0; t < s->cfg->n_tasks && n < (int)sizeof(line) - 128; t++) {
        task_metrics tm;
        model_task_metrics(s->model, t, &tm);
        n += snprintf(line + n, sizeof(line) - n, "; %s: %" PRIu64 " events, AUC %.4f (recent %.4f), log-loss %.4f",
                      s->cfg->tasks[t].name, tm.events, tm.auc, tm.auc_recent, tm.logloss);
    }
    if (f)
        fprintf(f, "%s\n", line);
    else
        log_notice("%s", line);
}

/* The model's settings and tasks from the configuration. */
static void model_config_from(const mts_config *c, model_config *mc)
{
    model_config_defaults(mc);
    mc->dim = c->dim;
    mc->id_dim = c->id_dim;
    mc->hidden = c->hidden;
    mc->table_capacity = c->table_capacity;
    mc->lr_dense = (float)c->lr_dense;
    mc->lr_table = (float)c->lr_table;
    mc->seed = (uint64_t)c->seed;
    mc->skill_dim = c->skill_dim;
    mc->ngram_buckets = c->ngram_buckets;
    mc->n_tasks = c->n_tasks;
    for (int t = 0; t < c->n_tasks; t++) {
        const cfg_task *ct = &c->tasks[t];
        model_task_config *mt = &mc->tasks[t];
        snprintf(mt->name, sizeof(mt->name), "%s", ct->name);
        mt->kind = strcmp(ct->kind, "skill") ? TASK_AFFINITY : TASK_SKILL;
        snprintf(mt->label_field, sizeof(mt->label_field), "%s", ct->label);
        snprintf(mt->member_field, sizeof(mt->member_field), "%s", ct->member);
        snprintf(mt->company_field, sizeof(mt->company_field), "%s", ct->company);
        mt->loss_weight = (float)ct->loss_weight;
        mt->pos_weight = (float)ct->pos_weight;
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: mtlstream run -c FILE [--idle-exit SECONDS] [--log-level LEVEL]\n"
               "\n"
               "Consume the configured input topics in the consumer group, learn the multitask model online\n"
               "and publish changed member and company embeddings.\n"
               "\n"
               "  -c, --config FILE      configuration (see conf/mtlstream.conf for every setting)\n"
               "      --idle-exit SEC    stop cleanly after SEC seconds without input once input was seen\n"
               "                         (demo and tests; the service runs until SIGTERM otherwise)\n"
               "      --log-level LEVEL  override service.log_level (err, warning, notice, info, debug)\n"
               "  -h, --help             this text\n"
               "\n"
               "Signals: SIGTERM/SIGINT stop cleanly (final batch learned, embeddings published and\n"
               "flushed, offsets committed). SIGHUP re-reads the configuration: log level, status\n"
               "interval, batch latency, publish interval and rate bound, flush bound and task loss\n"
               "weights change at once; any other change is refused with a log line (restart for it).\n"
               "\n"
               "Under systemd (Type=notify): READY=1 after configuration, schemas, model and\n"
               "subscription; STATUS= with throughput and lag; WATCHDOG=1 at least every WatchdogSec/2;\n"
               "STOPPING=1 at shutdown. service.metrics_listen serves /metrics (Prometheus) and\n"
               "/healthz (JSON; 200 when ready, 503 otherwise).\n"
               "\n"
               "Exit codes: 0 clean stop, 1 runtime failure (or embeddings still queued after the\n"
               "final flush), 64 bad command line, 66 configuration file missing, 69 broker\n"
               "unavailable at start-up, 70 internal error, 78 configuration error.\n");
}

int run_main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"idle-exit", required_argument, 0, 'i'},
                                         {"log-level", required_argument, 0, 'l'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cfg_path = NULL, *level = NULL;
    int idle_exit_s = 0;
    int o;
    while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            cfg_path = optarg;
            break;
        case 'i':
            idle_exit_s = atoi(optarg);
            if (idle_exit_s <= 0) {
                fprintf(stderr, "mtlstream run: --idle-exit needs a positive number of seconds\n");
                return EXIT_USAGE;
            }
            break;
        case 'l':
            level = optarg;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    setvbuf(stderr, NULL, _IOLBF, 0);
    mts_config cfg;
    int rc = cli_load_config(cfg_path, &cfg);
    if (rc)
        return rc;
    if (level) {
        if (log_level_from_name(level) < 0) {
            fprintf(stderr, "mtlstream run: unknown log level \"%s\"\n", level);
            config_free(&cfg);
            return EXIT_USAGE;
        }
        log_set_level(log_level_from_name(level));
    }
    rc = ops_start(&cfg);
    if (rc) {
        config_free(&cfg);
        return rc;
    }

    service s = {.cfg = &cfg};
    char err[1024];
    rc = EXIT_OK;
    /* From here a stop signal ends start-up or the loop; the shutdown path
     * below runs either way. */
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    s.producer = producer_new(&cfg, err, sizeof(err));
    if (!s.producer) {
        fprintf(stderr, "mtlstream: %s\n", err);
        rc = EXIT_CONFIG;
        goto out;
    }
    s.in = intake_new(&cfg, s.producer, err, sizeof(err));
    if (!s.in) {
        fprintf(stderr, "mtlstream: configuration error: %s\n", err);
        rc = EXIT_CONFIG;
        goto out;
    }
    model_config mc;
    model_config_from(&cfg, &mc);
    s.model = model_new(&mc, intake_layout(s.in), err, sizeof(err));
    if (!s.model) {
        fprintf(stderr, "mtlstream: configuration error: model: %s\n", err);
        rc = EXIT_CONFIG;
        goto out;
    }
    char version[64];
    snprintf(version, sizeof(version), "mtlstream-%s-seed%d-%" PRId64, MTS_VERSION, cfg.seed, now_ms());
    s.pub = publisher_new(&cfg, s.producer, version, err, sizeof(err));
    if (!s.pub) {
        fprintf(stderr, "mtlstream: configuration error: %s\n", err);
        rc = EXIT_CONFIG;
        goto out;
    }
    intake_on_revoke(s.in, on_revoke, &s);
    if (intake_subscribe(s.in, err, sizeof(err))) {
        fprintf(stderr, "mtlstream: %s\n", err);
        rc = EXIT_UNAVAILABLE;
        goto out;
    }
    ops_service ops = {.cfg = &cfg,
                       .in = s.in,
                       .model = s.model,
                       .pub = s.pub,
                       .producer = s.producer,
                       .steps = &s.steps,
                       .learned = &s.learned};
    ops_ready(&ops);
    log_notice("running: %d task(s), group %s, batches of %d", cfg.n_tasks, cfg.group_id, cfg.batch_size);

    int64_t next_publish = mono_ms() + cfg.publish_interval_ms;
    int64_t next_status = mono_ms() + cfg.status_interval_s * 1000LL;
    int64_t started = mono_ms();
    while (run) {
        intake_poll(s.in, 50);
        if (intake_batch_ready(s.in))
            learn_batch(&s);
        int64_t now = mono_ms();
        if (now >= next_publish) {
            int64_t budget = (int64_t)cfg.publish_max_per_s * cfg.publish_interval_ms / 1000;
            budget = budget < 1 ? 1 : budget > INT_MAX ? INT_MAX : budget;
            publisher_publish_dirty(s.pub, s.model, (int)budget, now + PUBLISH_ROUND_BOUND_MS);
            next_publish = now + cfg.publish_interval_ms;
        }
        if (kafka_fatal_error(err, sizeof(err))) {
            log_err("fatal Kafka client error, stopping: %s", err);
            rc = EXIT_RUNTIME;
            break;
        }
        rd_kafka_poll(s.producer, 0);
        if (now >= next_status) {
            print_status(&s, NULL, 0);
            next_status = now + cfg.status_interval_s * 1000LL;
        }
        ops_tick(&ops);
        if (ops_reload_pending()) {
            ops_reload(&ops);
            next_publish = mono_ms() + cfg.publish_interval_ms;
        }
        if (idle_exit_s) {
            int64_t last = intake_get_stats(s.in)->last_message_ms;
            if (last && now - last > idle_exit_s * 1000LL) {
                log_notice("no input for %d s: stopping (--idle-exit)", idle_exit_s);
                break;
            }
            if (!last && now - started > 300000) {
                log_err("no input at all within 300 s: stopping (--idle-exit)");
                rc = EXIT_RUNTIME;
                break;
            }
        }
    }
    ops_stopping(&ops);
    log_notice("stopping: learning the pending batch, publishing, flushing");
    learn_batch(&s);
    /* One bound for the final publication and the flush together. */
    int64_t flush_deadline = mono_ms() + cfg.flush_timeout_ms;
    publisher_publish_all_dirty(s.pub, s.model, flush_deadline);
    int64_t flush_left = flush_deadline - mono_ms();
    int left = producer_flush(s.producer, flush_left > 0 ? (int)flush_left : 0);
    intake_close(s.in);
    print_status(&s, stdout, 1);
    const producer_stats *ps = producer_get_stats();
    printf("delivered %" PRIu64 " embeddings (%" PRIu64 " failed), %" PRIu64 " dead-lettered messages (%" PRIu64
           " failed), %d still queued\n",
           ps->delivered[PRODUCE_EMBEDDING], ps->failed[PRODUCE_EMBEDDING], ps->delivered[PRODUCE_DLQ],
           ps->failed[PRODUCE_DLQ], left);
    const intake_stats *is = intake_get_stats(s.in);
    for (int r = 1; r < DR__COUNT; r++)
        if (is->rejected[r])
            printf("rejected %s: %" PRIu64 "\n", decode_reason_name(r), is->rejected[r]);
    if (is->first_message_ms) {
        double secs = (is->last_message_ms - is->first_message_ms) / 1000.0;
        printf("throughput: %" PRIu64 " events learned in %.2f s from first to last message (%.0f events/s)\n",
               s.learned, secs, secs > 0 ? s.learned / secs : 0.0);
    }
    if (left > 0)
        rc = EXIT_RUNTIME;
out:
    ops_stop();
    publisher_free(s.pub);
    model_free(s.model);
    intake_free(s.in);
    if (s.producer)
        rd_kafka_destroy(s.producer);
    config_free(&cfg);
    return rc;
}
