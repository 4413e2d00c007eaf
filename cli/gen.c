/* gen.c - `mtlstream gen`: write events to the input topics.
 *
 * Synthetic job-view, job-apply and InMail events come from a planted world
 * (gen/world.c: known member and company factors, so tests can check what
 * the model recovers); skill-annotation events come from the real annotated
 * job postings in the skills data folder (gen/skills.c). Each event is
 * encoded with the task's schema in the configured framing, keyed by member
 * id (skill events: by document id), at an optional rate bound.
 * --bad N also writes N malformed messages of assorted kinds (truncation,
 * trailing garbage, framing errors, unknown or missing schema ids, random
 * bytes, a 1 GiB length claim, NaN), keyed "bad-<n>" and spread over the
 * input topics, to exercise the dead-letter path. */
#include "cli/cli.h"

#include "common/avro.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/util.h"
#include "consumer/framing.h"
#include "gen/skills.h"
#include "gen/world.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *topic;
    av_schema *schema;
    uint64_t key; /* Confluent id or fingerprint */
    rd_kafka_topic_t *rkt;
    uint64_t written;
} gen_target;

enum { T_VIEW, T_APPLY, T_INMAIL, T_SKILL, T__COUNT };
static const char *const task_kind_names[T__COUNT] = {"JobView", "JobApply", "InMailResponse",
                                                      "SkillAnnotation"};

static volatile sig_atomic_t run = 1;
static void on_stop(int sig)
{
    (void)sig;
    run = 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mtlstream gen -c FILE [options]\n"
            "\n"
            "Write synthetic job-view/apply/InMail events from a planted world, and real "
            "skill-annotation\n"
            "events from the annotated job postings, to the input topics of the configuration.\n"
            "\n"
            "  -c, --config FILE     configuration: topics, schemas, framing, kafka properties\n"
            "  -n, --views N         job-view events to write (default 100000); applies and "
            "InMails follow\n"
            "                        at their shares of views (about 1/10 and 3/100)\n"
            "      --members N       members in the world (default 2000)\n"
            "      --companies N     companies in the world (default 300)\n"
            "      --seed S          world seed (default 1); the same seed gives the same stream\n"
            "      --rate R          at most R events per second (default 0: as fast as possible)\n"
            "      --skills-dir DIR  annotated postings (default ../shared/data/skills from the "
            "repository root)\n"
            "      --no-skills       write no skill events\n"
            "      --bad N           also write N malformed messages (dead-letter tests)\n"
            "  -h, --help            this text\n");
}

static int resolve_target(const mts_config *c, framing_kind fk, int kind, gen_target *t, char *err,
                          size_t errlen)
{
    for (int i = 0; i < c->n_tasks; i++) {
        char e[512];
        av_schema *s = av_schema_parse_file(c->tasks[i].schema_file, e, sizeof(e));
        if (!s) {
            snprintf(err, errlen, "%s", e);
            return -1;
        }
        const char *dot = s->name ? strrchr(s->name, '.') : NULL;
        const char *short_name = dot ? dot + 1 : s->name ? s->name : "";
        if (strcmp(short_name, task_kind_names[kind])) {
            av_schema_free(s);
            continue;
        }
        t->topic = c->tasks[i].topic;
        t->schema = s;
        uint64_t fp = av_fingerprint(s);
        if (fk == FRAMING_SINGLE_OBJECT) {
            t->key = fp;
            return 0;
        }
        if (fk == FRAMING_PLAIN)
            return 0;
        for (int j = 0; j < c->n_schema_ids; j++) {
            av_schema *w = av_schema_parse_file(c->schema_ids[j].file, e, sizeof(e));
            int same = w && av_fingerprint(w) == fp;
            av_schema_free(w);
            if (same) {
                t->key = (uint64_t)c->schema_ids[j].id;
                return 0;
            }
        }
        snprintf(err, errlen, "no input.schemas id is registered for %s", c->tasks[i].schema_file);
        return -1;
    }
    t->topic = NULL; /* no task of this kind configured: nothing to write */
    return 0;
}

static uint64_t delivery_failures;

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    if (m->err && delivery_failures++ < 5)
        fprintf(stderr, "mtlstream gen: delivery to %s failed: %s\n", rd_kafka_topic_name(m->rkt),
                rd_kafka_err2str(m->err));
}

/* Enqueue one message; the Kafka timestamp is the time of production. */
static int produce(rd_kafka_t *rk, gen_target *t, const char *key, size_t klen, const mts_buf *b)
{
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_RKT(t->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE(b->data, b->len), RD_KAFKA_V_END);
        if (!e)
            return 0;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || !run) {
            fprintf(stderr, "mtlstream gen: produce to %s: %s\n", t->topic, rd_kafka_err2str(e));
            return -1;
        }
        rd_kafka_poll(rk, 100); /* queue full: let deliveries drain (a stop signal ends the wait) */
    }
}

static int encode(framing_kind fk, gen_target *t, json_t *v, mts_buf *b)
{
    char e[256];
    buf_reset(b);
    framing_write_header(fk, t->key, b);
    if (av_encode_json(t->schema, v, b, e, sizeof(e))) {
        fprintf(stderr, "mtlstream gen: encoding for %s: %s\n", t->topic, e);
        return -1;
    }
    return 0;
}

/* Kinds of damage of malformed messages, in the order they cycle. */
enum {
    BAD_TRUNCATED,   /* the record cut short */
    BAD_TRAILING,    /* two garbage bytes after the record */
    BAD_MAGIC,       /* wrong framing magic byte */
    BAD_UNKNOWN_ID,  /* schema id / fingerprint nobody registered */
    BAD_RANDOM,      /* random bytes (framing broken on purpose where it has magic) */
    BAD_HUGE_LENGTH, /* the first string claims 1 GiB and nothing follows */
    BAD_NAN,         /* NaN in the float search_intent (topics whose schema has it) */
    BAD_MISSING_ID,  /* header cut inside the schema id / an empty message */
    BAD__COUNT
};

/* Offset of the bytes of float value f written as union branch 1 (zig-zag 0x02)
 * in b after the header, or -1. */
static long find_float(const mts_buf *b, size_t from, float f)
{
    uint8_t pat[5] = {0x02};
    memcpy(pat + 1, &f, 4); /* little-endian, as Avro writes floats */
    for (size_t i = from; i + 5 <= b->len; i++)
        if (!memcmp(b->data + i, pat, 5))
            return (long)i + 1;
    return -1;
}

/* Malformed message number i, cycling through kinds of damage. Every one of
 * them must be rejected by the intake (tests/e2e/test_deadletter.sh counts
 * them on the dead-letter topic). */
static void make_bad(uint64_t i, framing_kind fk, gen_target *t, json_t *good, mts_buf *b,
                     mts_rng *rng)
{
    size_t head = fk == FRAMING_CONFLUENT ? 5 : fk == FRAMING_SINGLE_OBJECT ? 10 : 0;
    int kind = (int)(i % BAD__COUNT);
    long at = -1;
    if (kind == BAD_NAN) {
        json_t *marked = json_deep_copy(good);
        json_object_set_new(marked, "search_intent", json_real(0.6875)); /* exact in binary */
        encode(fk, t, marked, b);
        json_decref(marked);
        at = find_float(b, head, 0.6875f);
        if (at >= 0) {
            float nan = __builtin_nanf("");
            memcpy(b->data + at, &nan, 4);
            return;
        }
        kind = BAD_TRAILING; /* this topic's schema has no search_intent */
    }
    encode(fk, t, good, b);
    switch (kind) {
    case BAD_TRUNCATED:
        b->len = b->len > head + 1 ? head + rng_below(rng, b->len - head) : head;
        break;
    case BAD_TRAILING:
        buf_putc(b, 0x42);
        buf_putc(b, 0x17);
        break;
    case BAD_MAGIC:
        if (fk == FRAMING_PLAIN) /* no magic: make the first long overlong instead */
            memset(b->data, 0xff, b->len < 11 ? b->len : 11);
        else
            b->data[0] = 0x7f;
        break;
    case BAD_UNKNOWN_ID:
        if (fk == FRAMING_PLAIN) {
            buf_putc(b, 0x01); /* nothing to mislabel: trailing byte */
        } else if (fk == FRAMING_SINGLE_OBJECT) {
            for (int k = 0; k < 4; k++) { /* the fingerprint with its bytes reversed */
                uint8_t x = b->data[2 + k];
                b->data[2 + k] = b->data[9 - k];
                b->data[9 - k] = x;
            }
        } else {
            b->data[1] ^= 0x5a, b->data[4] ^= 0x33;
        }
        break;
    case BAD_RANDOM:
        for (size_t k = 0; k < b->len; k++)
            b->data[k] = (uint8_t)rng_next(rng);
        if (fk != FRAMING_PLAIN)
            b->data[0] = 0x80 | b->data[0]; /* neither 0x00 nor 0xC3 0x01 */
        if (fk == FRAMING_SINGLE_OBJECT && b->data[0] == 0xC3)
            b->data[0] = 0xC4;
        break;
    case BAD_HUGE_LENGTH:
        /* every input schema starts with 4 longs, a boolean, an int and a string */
        b->len = head;
        for (int k = 0; k < 4; k++)
            av_write_long(b, 1);
        buf_putc(b, 0);
        av_write_long(b, 0);
        av_write_long(b, (int64_t)1 << 30);
        break;
    default: /* BAD_MISSING_ID */
        /* every other one: an empty message, or a header cut inside the id */
        b->len = fk == FRAMING_PLAIN ? 0 : (i / BAD__COUNT) % 2 ? 0 : 3;
        break;
    }
}

int gen_main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"views", required_argument, 0, 'n'},
                                         {"members", required_argument, 0, 'm'},
                                         {"companies", required_argument, 0, 'C'},
                                         {"seed", required_argument, 0, 's'},
                                         {"rate", required_argument, 0, 'r'},
                                         {"skills-dir", required_argument, 0, 'd'},
                                         {"no-skills", no_argument, 0, 'N'},
                                         {"bad", required_argument, 0, 'b'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cfg_path = NULL, *skills_dir = "../shared/data/skills";
    long views = 100000, bad = 0;
    double rate = 0;
    int no_skills = 0;
    world_config wc;
    world_config_defaults(&wc);
    /* Event times start now: events dated years back look stale to consumers. */
    wc.start_ms = now_ms();
    int o;
    while ((o = getopt_long(argc, argv, "c:n:h", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            cfg_path = optarg;
            break;
        case 'n':
            views = atol(optarg);
            break;
        case 'm':
            wc.n_members = atoi(optarg);
            break;
        case 'C':
            wc.n_companies = atoi(optarg);
            break;
        case 's':
            wc.seed = strtoull(optarg, NULL, 10);
            break;
        case 'r':
            rate = atof(optarg);
            break;
        case 'd':
            skills_dir = optarg;
            break;
        case 'N':
            no_skills = 1;
            break;
        case 'b':
            bad = atol(optarg);
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (views < 0 || bad < 0 || rate < 0 || wc.n_members < 1 || wc.n_companies < 1) {
        fprintf(stderr, "mtlstream gen: counts and rates must be positive\n");
        return EXIT_USAGE;
    }
    mts_config cfg;
    int rc = cli_load_config(cfg_path, &cfg);
    if (rc)
        return rc;
    framing_kind fk;
    char err[1024];
    gen_target targets[T__COUNT] = {0};
    rd_kafka_t *rk = NULL;
    gen_world *w = NULL;
    skill_corpus corpus = {0};
    int have_corpus = 0;
    mts_buf b;
    buf_init(&b);
    if (framing_from_name(cfg.framing, &fk)) {
        fprintf(stderr, "mtlstream gen: input.framing \"%s\" unknown\n", cfg.framing);
        rc = EXIT_CONFIG;
        goto out;
    }
    for (int k = 0; k < T__COUNT; k++)
        if (resolve_target(&cfg, fk, k, &targets[k], err, sizeof(err))) {
            fprintf(stderr, "mtlstream gen: %s\n", err);
            rc = EXIT_CONFIG;
            goto out;
        }
    if (!no_skills && targets[T_SKILL].topic) {
        if (access(skills_dir, R_OK)) {
            fprintf(stderr,
                    "mtlstream gen: the skills data folder %s is absent: writing no skill events "
                    "(point --skills-dir at it, or pass --no-skills)\n",
                    skills_dir);
        } else if (skills_load(skills_dir, 1, &corpus, err, sizeof(err))) {
            fprintf(stderr, "mtlstream gen: %s\n", err);
            rc = EXIT_NOINPUT;
            goto out;
        } else {
            have_corpus = 1;
        }
    }
    static const char *const defaults[] = {"linger.ms",
                                           "50",
                                           "batch.num.messages",
                                           "10000",
                                           "queue.buffering.max.messages",
                                           "500000",
                                           "compression.codec",
                                           "lz4",
                                           NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(&cfg, defaults, NULL, err, sizeof(err));
    if (!conf) {
        fprintf(stderr, "mtlstream gen: %s\n", err);
        rc = EXIT_CONFIG;
        goto out;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    char kerr[512];
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof(kerr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fprintf(stderr, "mtlstream gen: %s\n", kerr);
        rc = EXIT_CONFIG;
        goto out;
    }
    /* conf is owned by rk now */
    for (int k = 0; k < T__COUNT; k++)
        if (targets[k].topic)
            targets[k].rkt = rd_kafka_topic_new(rk, targets[k].topic, NULL);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);

    w = world_new(&wc);
    mts_rng rng;
    rng_seed(&rng, wc.seed ^ 0xbadULL);
    size_t skill_next = 0;
    long views_written = 0;
    uint64_t total = 0, bad_written = 0;
    double t0 = mono_sec();
    /* Skill events and malformed messages are spread evenly over the view stream. */
    double skill_every = have_corpus && views ? (double)views / (double)corpus.n : 0;
    double bad_every = bad && views ? (double)views / (double)bad : 0;
    gen_event ev;
    while (run && views_written < views) {
        world_next_event(w, &ev);
        int kind = ev.kind == EV_JOB_VIEW ? T_VIEW : ev.kind == EV_JOB_APPLY ? T_APPLY : T_INMAIL;
        if (ev.kind == EV_JOB_VIEW)
            views_written++;
        gen_target *t = &targets[kind];
        if (t->topic) {
            json_t *v = gen_event_to_json(&ev);
            char key[24];
            int klen = snprintf(key, sizeof(key), "%" PRId64, ev.member_id);
            /* a malformed copy of this event goes first when one is due */
            if (bad_every > 0 && bad_written < (uint64_t)bad &&
                views_written >= (long)((bad_written + 1) * bad_every)) {
                make_bad(bad_written, fk, t, v, &b, &rng);
                char bad_key[32];
                int bklen = snprintf(bad_key, sizeof(bad_key), "bad-%" PRIu64, bad_written);
                if (produce(rk, t, bad_key, (size_t)bklen, &b))
                    run = 0;
                bad_written++;
            }
            if (encode(fk, t, v, &b) || produce(rk, t, key, (size_t)klen, &b))
                run = 0;
            t->written++;
            json_decref(v);
            total++;
        }
        while (have_corpus && skill_next < corpus.n &&
               views_written >= (long)((skill_next + 1) * skill_every)) {
            const skill_event *se = &corpus.events[skill_next++];
            json_t *v = skill_event_to_json(se, ev.timestamp_ms);
            if (encode(fk, &targets[T_SKILL], v, &b) ||
                produce(rk, &targets[T_SKILL], se->doc_id, strlen(se->doc_id), &b))
                run = 0;
            targets[T_SKILL].written++;
            json_decref(v);
            total++;
        }
        rd_kafka_poll(rk, 0);
        if (rate > 0) {
            double ahead = total / rate - (mono_sec() - t0);
            if (ahead > 0.001)
                usleep((useconds_t)(ahead * 1e6));
        }
    }
    if (bad_written < (uint64_t)bad && !targets[T_VIEW].topic && !targets[T_APPLY].topic &&
        !targets[T_INMAIL].topic) {
        fprintf(
            stderr,
            "mtlstream gen: --bad needs a job view, apply or InMail task in the configuration\n");
        bad = (long)bad_written;
        rc = EXIT_USAGE;
    }
    while (bad_written < (uint64_t)bad && run) { /* --bad with no views left */
        world_next_event(w, &ev);
        gen_target *t = &targets[ev.kind == EV_JOB_VIEW    ? T_VIEW
                                 : ev.kind == EV_JOB_APPLY ? T_APPLY
                                                           : T_INMAIL];
        if (!t->topic)
            continue;
        json_t *v = gen_event_to_json(&ev);
        make_bad(bad_written, fk, t, v, &b, &rng);
        json_decref(v);
        char bad_key[32];
        int bklen = snprintf(bad_key, sizeof(bad_key), "bad-%" PRIu64, bad_written);
        if (produce(rk, t, bad_key, (size_t)bklen, &b))
            break;
        bad_written++;
    }
    rd_kafka_flush(rk, 60000);
    int left = rd_kafka_outq_len(rk);
    double secs = mono_sec() - t0;
    printf("wrote %" PRIu64 " job views, %" PRIu64 " job applies, %" PRIu64
           " InMail responses, %" PRIu64 " skill annotations, %" PRIu64
           " malformed in %.1f s (%.0f events/s)%s\n",
           targets[T_VIEW].written, targets[T_APPLY].written, targets[T_INMAIL].written,
           targets[T_SKILL].written, bad_written, secs, secs > 0 ? (double)total / secs : 0.0,
           left ? " -- NOT ALL DELIVERED" : "");
    if (left || delivery_failures) {
        fprintf(stderr,
                "mtlstream gen: %d messages not delivered within 60 s, %" PRIu64 " failed\n", left,
                delivery_failures);
        rc = EXIT_RUNTIME;
    }
out:
    for (int k = 0; k < T__COUNT; k++) {
        if (targets[k].rkt)
            rd_kafka_topic_destroy(targets[k].rkt);
        av_schema_free(targets[k].schema);
    }
    if (rk)
        rd_kafka_destroy(rk);
    if (w)
        world_free(w);
    if (have_corpus)
        skills_free(&corpus);
    buf_free(&b);
    config_free(&cfg);
    return rc;
}
