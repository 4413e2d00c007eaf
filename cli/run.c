/* run.c - `mtlstream run`: the service.
 *
 * One thread runs the loop; librdkafka has its own threads for I/O.
 *   poll input -> batch full or old enough -> model step (progressive
 *   validation, then learning) -> fold the batch's offsets into the
 *   checkpoint state -> every publish interval, publish changed embeddings
 *   within the rate bound -> every checkpoint interval (or N events), write a
 *   checkpoint and then commit exactly its offsets.
 * Start-up resumes from the latest checkpoint in service.state_dir; each
 * assigned partition starts at the checkpoint's offset, or at the group's
 * committed one when that is further (another instance moved it on).
 * SIGTERM/SIGINT end the loop; the pending batch is learned, a final
 * checkpoint written, every changed embedding published, the producer
 * flushed within output.flush_timeout_ms, and only if everything was
 * delivered are the final checkpoint's offsets committed; exit 0. */
#include "cli/cli.h"
#include "cli/ops.h"

#include "common/kafka.h"
#include "common/log.h"
#include "common/util.h"
#include "cli/resume.h"
#include "consumer/intake.h"
#include "model/checkpoint.h"
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
    /* checkpoints (issue 5) */
    ckpt_meta meta;       /* input position of everything learned so far */
    uint64_t since_ckpt;  /* events folded into meta since the last checkpoint */
    int64_t last_ckpt_ms; /* monotonic time of the last checkpoint attempt */
    uint64_t ckpt_written, ckpt_failed;
    int stopping; /* shutdown under way: revocations do nothing more */
} service;

/* Learn from the pending batch and fold its progress into the checkpoint state. */
static void learn_batch(service *s)
{
    int n;
    const mts_row *rows = intake_batch(s->in, &n);
    if (n > 0) {
        char err[256];
        if (model_train_batch(s->model, rows, n, err, sizeof(err)))
            log_err_limited("training step failed: %s", err);
        s->steps++;
    }
    int np;
    const intake_progress *p = intake_batch_progress(s->in, &np);
    for (int i = 0; i < np;
         i++) /* messages, each once (a topic read by two tasks gives two rows) */
        s->learned += p[i].rows;
    s->since_ckpt += resume_fold(&s->meta, s->cfg, p, np);
    intake_batch_done(s->in);
}

/* Write a checkpoint, then commit its offsets (commit: 0 no, 1 async, 2 sync).
 * 0, or -1 if the checkpoint could not be written (nothing committed). */
static int checkpoint(service *s, const char *why, int commit)
{
    char err[1024];
    int64_t t0 = mono_ms();
    s->last_ckpt_ms = t0;
    s->meta.created_ms = now_ms();
    s->meta.sequence++;
    if (checkpoint_save(s->cfg->state_dir, s->model, &s->meta, err, sizeof(err))) {
        s->meta.sequence--;
        s->ckpt_failed++;
        log_err("checkpoint (%s) failed: %s; the previous checkpoint is kept and no offsets are "
                "committed",
                why, err);
        return -1;
    }
    s->ckpt_written++;
    s->since_ckpt = 0;
    log_info("checkpoint %" PRIu64 " (%s) written in %" PRId64 " ms", s->meta.sequence, why,
             mono_ms() - t0);
    ops_checkpoint_done(now_ms(), (mono_ms() - t0) / 1000.0);
    if (commit) {
        int n = resume_commit(intake_consumer(s->in), &s->meta, commit == 1, err, sizeof(err));
        if (n < 0)
            log_warn_limited("checkpoint %" PRIu64 ": %s (the next checkpoint commits again)",
                             s->meta.sequence, err);
    }
    return 0;
}

static void on_revoke(void *opaque, const rd_kafka_topic_partition_list_t *parts, int lost)
{
    service *s = opaque;
    if (s->stopping)
        return; /* the shutdown path checkpoints and commits on its own terms */
    learn_batch(s);
    /* A lost assignment belongs to another member already: no commit. */
    checkpoint(s, "revocation", lost ? 0 : 2);
}

/* Start each new partition at the checkpoint's offset, unless the group's
 * committed offset is further on (another instance has moved it since). */
static void on_assign(void *opaque, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    service *s = opaque;
    rd_kafka_topic_partition_list_t *committed = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, committed, 10000);
    if (e)
        log_warn("reading the group's committed offsets: %s (using the checkpoint's)",
                 rd_kafka_err2str(e));
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *p = &parts->elems[i];
        int64_t c = e ? RD_KAFKA_OFFSET_INVALID : committed->elems[i].offset;
        ckpt_partition *cp = ckpt_meta_part(&s->meta, p->topic, p->partition, 0);
        if (cp && cp->next_offset >= 0 && !(c >= 0 && c > cp->next_offset)) {
            p->offset = cp->next_offset;
            log_info("%s [%" PRId32 "]: starting at the checkpoint's offset %" PRId64
                     " (committed %" PRId64 ")",
                     p->topic, p->partition, cp->next_offset, c);
        } else if (cp && cp->next_offset >= 0) {
            log_notice("%s [%" PRId32 "]: the group's committed offset %" PRId64
                       " is ahead of the checkpoint's %" PRId64
                       ": another instance consumed it since; starting at %" PRId64,
                       p->topic, p->partition, c, cp->next_offset, c);
            p->offset = c;
            cp->next_offset = c;
        } else {
            if (c >= 0)
                log_info(
                    "%s [%" PRId32
                    "]: not in the checkpoint; starting at the group's committed offset %" PRId64,
                    p->topic, p->partition, c);
            else
                log_info("%s [%" PRId32
                         "]: not in the checkpoint and nothing committed: starting at the earliest",
                         p->topic, p->partition);
        }
    }
    rd_kafka_topic_partition_list_destroy(committed);
}

static void print_status(const service *s, FILE *f, int final)
{
    const intake_stats *is = intake_get_stats(s->in);
    const publish_stats *ps = publisher_get_stats(s->pub);
    char line[2048];
    int n = snprintf(line, sizeof(line),
                     "%s: learned %" PRIu64 " events in %" PRIu64 " steps; rejected %" PRIu64
                     "; published %" PRIu64 " member and %" PRIu64 " company embeddings",
                     final ? "final" : "status", s->learned, s->steps, is->rejected_total,
                     ps->produced[0], ps->produced[1]);
    for (int t = 0; t < s->cfg->n_tasks && n < (int)sizeof(line) - 128; t++) {
        task_metrics tm;
        model_task_metrics(s->model, t, &tm);
        n += snprintf(line + n, sizeof(line) - n,
                      "; %s: %" PRIu64 " events, AUC %.4f (recent %.4f), log-loss %.4f",
                      s->cfg->tasks[t].name, tm.events, tm.auc, tm.auc_recent, tm.logloss);
    }
    if (f)
        fprintf(f, "%s\n", line);
    else
        log_notice("%s", line);
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: mtlstream run -c FILE [--idle-exit SECONDS] [--log-level LEVEL] [--from-checkpoint "
        "F]\n"
        "\n"
        "Consume the configured input topics in the consumer group, learn the multitask model "
        "online\n"
        "and publish changed member and company embeddings.\n"
        "\n"
        "  -c, --config FILE      configuration (see conf/mtlstream.conf for every setting)\n"
        "      --idle-exit SEC    stop cleanly after SEC seconds without input once input was "
        "seen\n"
        "                         (demo and tests; the service runs until SIGTERM otherwise)\n"
        "      --log-level LEVEL  override service.log_level (err, warning, notice, info, debug)\n"
        "      --from-checkpoint F  start from checkpoint file F (e.g. written by `mtlstream "
        "replay`)\n"
        "                         instead of the latest in service.state_dir\n"
        "  -h, --help             this text\n"
        "\n"
        "Checkpoints go to service.state_dir; offsets are committed only after a checkpoint\n"
        "holding them is on disk. A checkpoint written for another model configuration or\n"
        "schema is refused (exit 78).\n"
        "\n"
        "Signals: SIGTERM/SIGINT stop cleanly (final batch learned, final checkpoint, embeddings\n"
        "published and flushed, offsets committed if all was delivered). SIGHUP re-reads the\n"
        "configuration: log level, status interval, batch latency, publish interval and rate\n"
        "bound, flush bound and task loss weights change at once; any other change is refused\n"
        "with a log line (restart for it).\n"
        "\n"
        "Under systemd (Type=notify): READY=1 after configuration, schemas, model and\n"
        "subscription; STATUS= with throughput and lag; WATCHDOG=1 at least every WatchdogSec/2;\n"
        "STOPPING=1 at shutdown. service.metrics_listen serves /metrics (Prometheus) and\n"
        "/healthz (JSON; 200 when ready, 503 otherwise).\n"
        "\n"
        "Exit codes: 0 clean stop, 1 runtime failure (or embeddings still queued after the\n"
        "final flush, or no final checkpoint), 64 bad command line, 66 configuration file\n"
        "missing, 69 broker unavailable at start-up, 70 internal error, 78 configuration error.\n");
}

int run_main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"idle-exit", required_argument, 0, 'i'},
                                         {"log-level", required_argument, 0, 'l'},
                                         {"from-checkpoint", required_argument, 0, 'F'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cfg_path = NULL, *level = NULL, *from_ckpt = NULL;
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
        case 'F':
            from_ckpt = optarg;
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
    if ((rc = resume_state_dir(&cfg)) ||
        (rc = resume_load(&cfg, from_ckpt, intake_layout(s.in), &s.model, &s.meta)))
        goto out;
    char version[64];
    snprintf(version, sizeof(version), "mtlstream-%s-seed%d-%" PRId64, MTS_VERSION, cfg.seed,
             now_ms());
    s.pub = publisher_new(&cfg, s.producer, version, err, sizeof(err));
    if (!s.pub) {
        fprintf(stderr, "mtlstream: configuration error: %s\n", err);
        rc = EXIT_CONFIG;
        goto out;
    }
    intake_on_revoke(s.in, on_revoke, &s);
    intake_on_assign(s.in, on_assign, &s);
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
    log_notice("running: %d task(s), group %s, batches of %d", cfg.n_tasks, cfg.group_id,
               cfg.batch_size);
    if (cfg.has_multitask)
        log_notice("model: the declared multitask network of %s (mtlstream model describe -c %s)",
                   cfg.path, cfg.path);

    int64_t next_publish = mono_ms() + cfg.publish_interval_ms;
    int64_t next_status = mono_ms() + cfg.status_interval_s * 1000LL;
    int64_t started = mono_ms();
    s.last_ckpt_ms = started;
    int64_t last_snapshot = started;
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
        if (cfg.snapshot_interval_s > 0 &&
            now - last_snapshot >= cfg.snapshot_interval_s * 1000LL) {
            /* every entity due again: the next rounds publish them within the rate bound */
            model_mark_all_dirty(s.model, ENTITY_MEMBER);
            model_mark_all_dirty(s.model, ENTITY_COMPANY);
            last_snapshot = now;
            log_info("snapshot: every embedding is due for publication again");
        }
        if (kafka_fatal_error(err, sizeof(err))) {
            log_err("fatal Kafka client error, stopping: %s", err);
            rc = EXIT_RUNTIME;
            break;
        }
        rd_kafka_poll(s.producer, 0);
        if (s.since_ckpt > 0 &&
            (now - s.last_ckpt_ms >= cfg.checkpoint_interval_s * 1000LL ||
             (cfg.checkpoint_events > 0 && s.since_ckpt >= (uint64_t)cfg.checkpoint_events)))
            checkpoint(&s, "periodic", 1);
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
    log_notice("stopping: learning the pending batch, checkpointing, publishing, flushing");
    learn_batch(&s);
    s.stopping = 1;
    int ckpt_ok = checkpoint(&s, "shutdown", 0) == 0;
    /* One bound for the final publication and the flush together. */
    int64_t flush_deadline = mono_ms() + cfg.flush_timeout_ms;
    publisher_publish_all_dirty(s.pub, s.model, flush_deadline);
    int64_t flush_left = flush_deadline - mono_ms();
    int left = producer_flush(s.producer, flush_left > 0 ? (int)flush_left : 0);
    /* Inputs are committed only when their outputs (embeddings, dead letters)
     * are delivered; otherwise the next start re-reads them from the
     * checkpoint's position and republishes its dirty embeddings. */
    if (ckpt_ok && left == 0) {
        int n = resume_commit(intake_consumer(s.in), &s.meta, 0, err, sizeof(err));
        if (n < 0)
            log_err("final commit failed: %s (the next start resumes from the checkpoint)", err);
        else
            log_notice("final checkpoint %" PRIu64 " written, offsets of %d partition(s) committed",
                       s.meta.sequence, n);
    } else {
        log_err("final commit skipped: %s; the next start resumes from the checkpoint's offsets",
                ckpt_ok ? "not every output was delivered"
                        : "the final checkpoint could not be written");
    }
    intake_close(s.in);
    print_status(&s, stdout, 1);
    const producer_stats *ps = producer_get_stats();
    printf("delivered %" PRIu64 " embeddings (%" PRIu64 " failed), %" PRIu64
           " dead-lettered messages (%" PRIu64 " failed), %d still queued\n",
           ps->delivered[PRODUCE_EMBEDDING], ps->failed[PRODUCE_EMBEDDING],
           ps->delivered[PRODUCE_DLQ], ps->failed[PRODUCE_DLQ], left);
    const intake_stats *is = intake_get_stats(s.in);
    for (int r = 1; r < DR__COUNT; r++)
        if (is->rejected[r])
            printf("rejected %s: %" PRIu64 "\n", decode_reason_name(r), is->rejected[r]);
    if (is->first_message_ms) {
        double secs = (is->last_message_ms - is->first_message_ms) / 1000.0;
        printf("throughput: %" PRIu64
               " events learned in %.2f s from first to last message (%.0f events/s)\n",
               s.learned, secs, secs > 0 ? s.learned / secs : 0.0);
    }
    printf("checkpoints: %" PRIu64 " written, %" PRIu64 " failed; last number %" PRIu64 " in %s\n",
           s.ckpt_written, s.ckpt_failed, s.meta.sequence, cfg.state_dir);
    if (left > 0 || !ckpt_ok)
        rc = EXIT_RUNTIME;
out:
    ops_stop();
    ckpt_meta_free(&s.meta);
    publisher_free(s.pub);
    model_free(s.model);
    intake_free(s.in);
    if (s.producer)
        rd_kafka_destroy(s.producer);
    config_free(&cfg);
    return rc;
}
