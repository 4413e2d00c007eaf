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

#include "common/kafka.h"
#include "common/log.h"
#include "common/util.h"
#include "consumer/intake.h"
#include "model/model.h"
#include "producer/producer.h"
#include "producer/publish.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

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
    sd_notifyf(0, "STATUS=learned %" PRIu64 " events, rejected %" PRIu64, s->learned, is->rejected_total);
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
               "flushed, offsets committed). Exit codes: see `mtlstream --help`.\n");
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

    service s = {.cfg = &cfg};
    char err[1024];
    rc = EXIT_OK;
    s.producer = producer_new(&cfg, err, sizeof(err));
    if (!s.producer) {
        fprintf(stderr, "mtlstream: %s\n", err);
        config_free(&cfg);
        return EXIT_CONFIG;
    }
    s.in = intake_new(&cfg, s.producer, err, sizeof(err));
    if (!s.in) {
        fprintf(stderr, "mtlstream: configuration error: %s\n", err);
        rc = EXIT_CONFIG;
        goto out;
    }
    model_config mc;
    cli_model_config(&cfg, &mc);
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
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    signal(SIGHUP, SIG_IGN);
    sd_notify(0, "READY=1");
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
            int budget = (int)((int64_t)cfg.publish_max_per_s * cfg.publish_interval_ms / 1000);
            publisher_publish_dirty(s.pub, s.model, budget > 0 ? budget : 1);
            next_publish = now + cfg.publish_interval_ms;
        }
        rd_kafka_poll(s.producer, 0);
        if (now >= next_status) {
            print_status(&s, NULL, 0);
            next_status = now + cfg.status_interval_s * 1000LL;
        }
        sd_notify(0, "WATCHDOG=1");
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
    sd_notify(0, "STOPPING=1");
    log_notice("stopping: learning the pending batch, publishing, flushing");
    learn_batch(&s);
    publisher_publish_all_dirty(s.pub, s.model);
    int left = producer_flush(s.producer, cfg.flush_timeout_ms);
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
    publisher_free(s.pub);
    model_free(s.model);
    intake_free(s.in);
    if (s.producer)
        rd_kafka_destroy(s.producer);
    config_free(&cfg);
    return rc;
}
