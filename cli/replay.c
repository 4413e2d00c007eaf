/* replay.c - `mtlstream replay`: backfill from the topics' history.
 *
 * Reads every partition of the configured input topics WITHOUT joining the
 * consumer group (assign, under the group id "<input.group_id>.replay", and
 * never a commit), so the live group's committed offsets are untouched.
 * Start per partition: the earliest offset (--from-beginning, the default),
 * the first offset at or after a time (--from-time, offsets_for_times), or
 * the offset of --checkpoint-in. End per partition: the high watermark seen
 * at start, or the first offset at or after --to-time. Every event in between
 * is learned exactly as the service learns it; then a checkpoint is written
 * (--checkpoint-out, which `mtlstream run --from-checkpoint` starts from: its
 * offsets are the end offsets), a full snapshot of the embeddings published,
 * the producer flushed and a summary printed. */
#include "cli/cli.h"

#include "cli/resume.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/notify.h"
#include "common/util.h"
#include "consumer/intake.h"
#include "model/checkpoint.h"
#include "producer/producer.h"
#include "producer/publish.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The full snapshot of embeddings must be queued within this long. */
enum { SNAPSHOT_BOUND_MS = 600000 };

static volatile sig_atomic_t run = 1;
static void on_stop(int sig)
{
    (void)sig;
    run = 0;
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: mtlstream replay -c FILE [--from-beginning | --from-time T] [--to-time T]\n"
        "                        [--checkpoint-in F] [--checkpoint-out F]\n"
        "\n"
        "Backfill: learn from the input topics' history up to the end offsets seen at start (or\n"
        "--to-time), without joining or committing to the live consumer group; write a checkpoint\n"
        "that `mtlstream run --from-checkpoint F` continues from; publish every embedding; exit "
        "0.\n"
        "\n"
        "  -c, --config FILE      configuration\n"
        "      --from-beginning   start at each partition's earliest offset (default without\n"
        "                         --checkpoint-in)\n"
        "      --from-time T      start at the first event at or after T\n"
        "      --to-time T        stop before the first event at or after T\n"
        "      --checkpoint-in F  start from checkpoint F (model, and offsets unless --from-*)\n"
        "      --checkpoint-out F write the result here (default: "
        "<service.state_dir>/checkpoint.replay)\n"
        "      --log-level LEVEL  override service.log_level\n"
        "  -h, --help             this text\n"
        "\n"
        "T is ISO 8601 (2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00, fractions allowed) or\n"
        "milliseconds since the epoch.\n");
}

/* ISO 8601 or epoch milliseconds -> ms; -1 if unreadable. */
static int64_t parse_time(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*end && !errno && end != s)
        return v >= 0 ? (int64_t)v : -1;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    int64_t ms = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
        for (; digits < 3; digits++)
            ms *= 10;
    }
    int64_t off = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
            return -1;
        off = (hh * 60 + mm) * 60 * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return -1; /* a time without a zone is ambiguous */
    }
    if (*p)
        return -1;
    time_t t = timegm(&tm);
    return ((int64_t)t - off) * 1000 + ms;
}

typedef struct {
    char topic[CKPT_MAX_TOPIC];
    int32_t partition;
    int64_t start, end;
} range;

/* First offset at or after ts in every partition of l (in place); -1 where none. */
static int offsets_at(rd_kafka_t *rk, range *r, int n, int64_t ts, int64_t *out, char *err,
                      size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n > 0 ? n : 1);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, r[i].topic, r[i].partition)->offset = ts;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, l, 15000);
    for (int i = 0; !e && i < n; i++) {
        if (l->elems[i].err)
            e = l->elems[i].err;
        out[i] = l->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        snprintf(err, errlen, "offsets_for_times: %s", rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

int replay_main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"from-beginning", no_argument, 0, 'b'},
                                         {"from-time", required_argument, 0, 'f'},
                                         {"to-time", required_argument, 0, 't'},
                                         {"checkpoint-in", required_argument, 0, 'i'},
                                         {"checkpoint-out", required_argument, 0, 'o'},
                                         {"log-level", required_argument, 0, 'l'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cfg_path = NULL, *ckpt_in = NULL, *ckpt_out = NULL, *level = NULL, *from_s = NULL,
               *to_s = NULL;
    int from_beginning = 0;
    int o;
    while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            cfg_path = optarg;
            break;
        case 'b':
            from_beginning = 1;
            break;
        case 'f':
            from_s = optarg;
            break;
        case 't':
            to_s = optarg;
            break;
        case 'i':
            ckpt_in = optarg;
            break;
        case 'o':
            ckpt_out = optarg;
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
    int64_t from_ms = -1, to_ms = -1;
    if ((from_s && (from_ms = parse_time(from_s)) < 0) ||
        (to_s && (to_ms = parse_time(to_s)) < 0)) {
        fprintf(
            stderr,
            "mtlstream replay: cannot read the time \"%s\" (ISO 8601 with a zone, or epoch ms)\n",
            from_s && from_ms < 0 ? from_s : to_s);
        return EXIT_USAGE;
    }
    if (from_beginning && from_s) {
        fprintf(stderr, "mtlstream replay: --from-beginning and --from-time exclude each other\n");
        return EXIT_USAGE;
    }
    if (from_ms >= 0 && to_ms >= 0 && to_ms <= from_ms) {
        fprintf(stderr, "mtlstream replay: --to-time must be after --from-time\n");
        return EXIT_USAGE;
    }
    setvbuf(stderr, NULL, _IOLBF, 0);
    mts_config cfg;
    int rc = cli_load_config(cfg_path, &cfg);
    if (rc)
        return rc;
    if (level && log_level_from_name(level) >= 0)
        log_set_level(log_level_from_name(level));
    { /* never the live group: assign only, no commits, and another name anyway */
        char g[512];
        snprintf(g, sizeof(g), "%s.replay", cfg.group_id);
        free(cfg.group_id);
        cfg.group_id = xstrdup(g);
    }
    char out_path[4096], tmp_path[4200];
    if (ckpt_out)
        snprintf(out_path, sizeof(out_path), "%s", ckpt_out);
    else
        snprintf(out_path, sizeof(out_path), "%s/checkpoint.replay", cfg.state_dir);
    snprintf(tmp_path, sizeof(tmp_path), "%s.tmp", out_path);

    char err[1024] = "";
    rd_kafka_t *producer = NULL;
    intake *in = NULL;
    mts_model *model = NULL;
    publisher *pub = NULL;
    range *rg = NULL;
    int64_t *at = NULL;
    ckpt_meta meta;
    ckpt_meta_init(&meta);
    double t0 = mono_sec();

    producer = producer_new(&cfg, err, sizeof(err));
    if (!producer) {
        fprintf(stderr, "mtlstream: %s\n", err);
        rc = EXIT_CONFIG;
        goto out;
    }
    in = intake_new(&cfg, producer, err, sizeof(err));
    if (!in) {
        fprintf(stderr, "mtlstream: configuration error: %s\n", err);
        rc = EXIT_CONFIG;
        goto out;
    }
    if (ckpt_in) {
        if ((rc = resume_load(&cfg, ckpt_in, intake_layout(in), &model, &meta)))
            goto out;
    } else {
        model_config mc;
        cli_model_config(&cfg, &mc);
        if (resume_expect(&cfg, &meta, err, sizeof(err)) ||
            !(model = model_new(&mc, intake_layout(in), err, sizeof(err)))) {
            fprintf(stderr, "mtlstream: configuration error: %s\n", err);
            rc = EXIT_CONFIG;
            goto out;
        }
    }
    char version[64];
    snprintf(version, sizeof(version), "mtlstream-%s-seed%d-replay-%" PRId64, MTS_VERSION, cfg.seed,
             now_ms());
    pub = publisher_new(&cfg, producer, version, err, sizeof(err));
    if (!pub) {
        fprintf(stderr, "mtlstream: configuration error: %s\n", err);
        rc = EXIT_CONFIG;
        goto out;
    }

    /* Partitions and their ranges, fixed now: later writes are not read. */
    rd_kafka_t *rk = intake_consumer(in);
    int n = 0, cap = 0;
    for (int t = 0; t < cfg.n_tasks; t++) {
        if (config_task_by_topic(&cfg, cfg.tasks[t].topic) != t)
            continue; /* a topic read by several tasks is one range */
        int np = kafka_partition_count(rk, cfg.tasks[t].topic, 15000, err, sizeof(err));
        if (np < 0) {
            fprintf(stderr, "mtlstream replay: %s\n", err);
            rc = EXIT_UNAVAILABLE;
            goto out;
        }
        for (int p = 0; p < np; p++) {
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                rg = xrealloc(rg, (size_t)cap * sizeof(range));
            }
            range *r = &rg[n++];
            snprintf(r->topic, sizeof(r->topic), "%s", cfg.tasks[t].topic);
            r->partition = p;
            int64_t lo, hi;
            rd_kafka_resp_err_t e =
                rd_kafka_query_watermark_offsets(rk, r->topic, p, &lo, &hi, 15000);
            if (e) {
                fprintf(stderr, "mtlstream replay: %s [%d]: watermarks: %s\n", r->topic, p,
                        rd_kafka_err2str(e));
                rc = EXIT_UNAVAILABLE;
                goto out;
            }
            r->start = lo;
            r->end = hi;
            const ckpt_partition *cp = ckpt_meta_part(&meta, r->topic, p, 0);
            if (ckpt_in && !from_beginning && !from_s && cp && cp->next_offset > lo)
                r->start = cp->next_offset;
        }
    }
    at = xmalloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
    if (from_s || to_s) {
        if (from_s && offsets_at(rk, rg, n, from_ms, at, err, sizeof(err)) == 0)
            for (int i = 0; i < n; i++)
                rg[i].start =
                    at[i] >= 0 ? at[i] : rg[i].end; /* none at or after: nothing to read */
        if (!err[0] && to_s && offsets_at(rk, rg, n, to_ms, at, err, sizeof(err)) == 0)
            for (int i = 0; i < n; i++)
                if (at[i] >= 0 && at[i] < rg[i].end)
                    rg[i].end = at[i];
        if (err[0] && strstr(err, "offsets_for_times")) {
            fprintf(stderr, "mtlstream replay: %s\n", err);
            rc = EXIT_UNAVAILABLE;
            goto out;
        }
    }
    rd_kafka_topic_partition_list_t *assign = rd_kafka_topic_partition_list_new(n > 0 ? n : 1);
    uint64_t to_read = 0;
    for (int i = 0; i < n; i++) {
        range *r = &rg[i];
        if (r->start >= r->end)
            continue;
        rd_kafka_topic_partition_list_add(assign, r->topic, r->partition)->offset = r->start;
        intake_set_stop(in, r->topic, r->partition, r->end);
        to_read += (uint64_t)(r->end - r->start);
        log_info("replay %s [%d]: offsets %" PRId64 " to %" PRId64, r->topic, r->partition,
                 r->start, r->end);
    }
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    /* Under mtlstream-replay@.service (Type=notify): started once the ranges are known. */
    notify_ready("replaying up to the end offsets seen at start");
    uint64_t learned = 0, dead = 0, steps = 0;
    if (assign->cnt == 0) {
        printf("replay: nothing to read: %s\n",
               from_s ? "no event at or after the --from-time in any partition (up to the end "
                        "offsets seen at start)"
                      : "the partitions hold no events before their end offsets");
    } else {
        rd_kafka_resp_err_t e = rd_kafka_assign(rk, assign);
        if (e) {
            fprintf(stderr, "mtlstream replay: assign: %s\n", rd_kafka_err2str(e));
            rd_kafka_topic_partition_list_destroy(assign);
            rc = EXIT_RUNTIME;
            goto out;
        }
        double last_progress = mono_sec();
        int64_t next_status = mono_ms() + cfg.status_interval_s * 1000LL;
        for (int done = 0; !done && run;) {
            int got = intake_poll(in, 100);
            int np;
            const intake_progress *pp = intake_batch_progress(in, &np);
            done = 1; /* every partition read up to its end, counting the unlearned batch */
            for (int i = 0; i < n && done; i++) {
                if (rg[i].start >= rg[i].end)
                    continue;
                int64_t reached = -1;
                const ckpt_partition *cp = ckpt_meta_part(&meta, rg[i].topic, rg[i].partition, 0);
                if (cp && cp->next_offset > reached)
                    reached = cp->next_offset;
                for (int k = 0; k < np; k++)
                    if (pp[k].partition == rg[i].partition && !strcmp(pp[k].topic, rg[i].topic) &&
                        pp[k].next_offset > reached)
                        reached = pp[k].next_offset;
                if (reached < rg[i].end)
                    done = 0;
            }
            if (done || intake_batch_ready(in)) {
                int nrows;
                const mts_row *rows = intake_batch(in, &nrows);
                if (nrows > 0) {
                    if (model_train_batch(model, rows, nrows, err, sizeof(err)))
                        log_err_limited("training step failed: %s", err);
                    steps++;
                }
                for (int k = 0; k < np; k++) {
                    learned += pp[k].rows;
                    dead += pp[k].dead;
                }
                resume_fold(&meta, &cfg, pp, np);
                intake_batch_done(in);
            }
            rd_kafka_poll(producer, 0);
            if (got > 0)
                last_progress = mono_sec();
            else if (mono_sec() - last_progress > 120) {
                fprintf(stderr,
                        "mtlstream replay: no message for 120 s before reaching the end offsets\n");
                rc = EXIT_RUNTIME;
                break;
            }
            if (mono_ms() >= next_status) {
                log_notice("replay: %" PRIu64 " of %" PRIu64 " events read", learned + dead,
                           to_read);
                notify_status("replay: %" PRIu64 " of %" PRIu64 " events read", learned + dead,
                              to_read);
                next_status = mono_ms() + cfg.status_interval_s * 1000LL;
            }
        }
    }
    rd_kafka_topic_partition_list_destroy(assign);
    if (!run) {
        fprintf(stderr, "mtlstream replay: interrupted; no checkpoint written\n");
        rc = EXIT_RUNTIME;
    }
    if (rc)
        goto out;
    for (int i = 0; i < n; i++) { /* the checkpoint stands at the end offsets */
        ckpt_partition *cp = ckpt_meta_part(&meta, rg[i].topic, rg[i].partition, 1);
        if (cp && cp->next_offset < rg[i].end)
            cp->next_offset = rg[i].end;
    }
    meta.created_ms = now_ms();
    meta.sequence++;
    if (checkpoint_write_file(tmp_path, model, &meta, err, sizeof(err)) ||
        rename(tmp_path, out_path)) {
        if (!err[0] || !strstr(err, tmp_path))
            snprintf(err, sizeof(err), "renaming %.900s: %s", tmp_path, strerror(errno));
        fprintf(stderr, "mtlstream replay: checkpoint not written: %s\n", err);
        rc = EXIT_RUNTIME;
        goto out;
    }
    /* A snapshot can be large: a generous bound, only reached if the broker
     * stops taking messages. */
    int published = publisher_publish_snapshot(pub, model, mono_ms() + SNAPSHOT_BOUND_MS);
    int left = producer_flush(producer, cfg.flush_timeout_ms);
    printf("replay: read %" PRIu64 " events (learned %" PRIu64 ", dead-lettered %" PRIu64
           ") in %" PRIu64 " steps from %d partition(s), up to the end offsets seen at start%s\n",
           learned + dead, learned, dead, steps, n, to_s ? " or --to-time" : "");
    printf("replay: checkpoint %s written (number %" PRIu64
           "); published a snapshot of %d embeddings "
           "(%zu members, %zu companies), %d still queued; %.1f s\n",
           out_path, meta.sequence, published, model_entity_count(model, ENTITY_MEMBER),
           model_entity_count(model, ENTITY_COMPANY), left, mono_sec() - t0);
    if (left > 0)
        rc = EXIT_RUNTIME;
out:
    free(rg);
    free(at);
    ckpt_meta_free(&meta);
    publisher_free(pub);
    model_free(model);
    if (in) {
        intake_close(in);
        intake_free(in);
    }
    if (producer)
        rd_kafka_destroy(producer);
    config_free(&cfg);
    return rc;
}
