/* tail.c - `mtlstream tail`: a downstream subscriber of the embedding topics.
 *
 * Reads the member and company embedding topics (or those named) from a
 * chosen offset without joining a consumer group (assign, no commits), and
 * prints one JSON object a line: topic, partition, offset, key and the
 * decoded Embedding record. It decodes with the generic Avro codec and the
 * schema file, as any downstream client with any Avro library would.
 * --dlq reads the dead-letter topic instead and prints each message's
 * headers (reason, error, original topic, partition, offset) as JSON. */
#include "cli/cli.h"

#include "common/avro.h"
#include "common/kafka.h"
#include "common/util.h"
#include "consumer/framing.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t run = 1;
static void on_stop(int sig)
{
    (void)sig;
    run = 0;
}

static void usage(FILE *f)
{
    fprintf(
        f, "usage: mtlstream tail -c FILE [options]\n"
           "\n"
           "Print the embeddings on the output topics, one JSON object a line.\n"
           "\n"
           "  -c, --config FILE   configuration (bootstrap servers, output topics and schema)\n"
           "  -t, --topic NAME    read this topic instead (repeatable)\n"
           "  -o, --from WHERE    beginning (default), end, or an offset number\n"
           "  -e, --exit-at-end   stop at the end offsets seen at start\n"
           "  -n, --max N         stop after N embeddings\n"
           "      --timeout SEC   stop after SEC seconds without a message (default: never)\n"
           "      --dlq           read the dead-letter topic instead: print each message's topic,\n"
           "                      partition, offset, key, headers and value length (no decoding)\n"
           "  -h, --help          this text\n");
}

/* Where a message is and its key: "key" as text, or "key_hex" when the key
 * is not UTF-8 (dead letters keep whatever key the producer sent). */
static json_t *message_head(const rd_kafka_message_t *m, const char *topic)
{
    json_t *out = json_pack("{s:s, s:i, s:I}", "topic", topic, "partition", (int)m->partition,
                            "offset", (json_int_t)m->offset);
    json_t *key = json_stringn(m->key ? (const char *)m->key : "", m->key ? m->key_len : 0);
    if (key) {
        json_object_set_new(out, "key", key);
    } else {
        char *hex = xmalloc(2 * m->key_len + 1);
        for (size_t i = 0; i < m->key_len; i++)
            sprintf(hex + 2 * i, "%02x", ((const unsigned char *)m->key)[i]);
        json_object_set_new(out, "key_hex", json_string(hex));
        free(hex);
    }
    return out;
}

/* One dead-lettered message as JSON: where it is, its key, its headers
 * (name -> value text) and the length of the original value. */
static void print_dead_letter(rd_kafka_message_t *m, const char *topic)
{
    json_t *out = message_head(m, topic);
    json_object_set_new(out, "value_len", json_integer((json_int_t)m->len));
    json_t *hj = json_object();
    rd_kafka_headers_t *h = NULL;
    if (!rd_kafka_message_headers(m, &h)) {
        const char *name;
        const void *val;
        size_t size;
        for (size_t i = 0; !rd_kafka_header_get_all(h, i, &name, &val, &size); i++) {
            json_t *v = val ? json_stringn(val, size) : json_null();
            json_object_set_new(hj, name, v ? v : json_string("(not UTF-8)"));
        }
    }
    json_object_set_new(out, "headers", hj);
    char *s = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    puts(s);
    free(s);
    json_decref(out);
}

int tail_main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"topic", required_argument, 0, 't'},
                                         {"from", required_argument, 0, 'o'},
                                         {"exit-at-end", no_argument, 0, 'e'},
                                         {"max", required_argument, 0, 'n'},
                                         {"timeout", required_argument, 0, 'T'},
                                         {"dlq", no_argument, 0, 'D'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cfg_path = NULL, *from = "beginning";
    const char *topics[8];
    int n_topics = 0, exit_at_end = 0, timeout_s = 0, dlq = 0;
    long max = 0;
    int o;
    while ((o = getopt_long(argc, argv, "c:t:o:en:h", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            cfg_path = optarg;
            break;
        case 't':
            if (n_topics == 8) {
                fprintf(stderr, "mtlstream tail: at most 8 topics\n");
                return EXIT_USAGE;
            }
            topics[n_topics++] = optarg;
            break;
        case 'o':
            from = optarg;
            break;
        case 'e':
            exit_at_end = 1;
            break;
        case 'n':
            max = atol(optarg);
            break;
        case 'T':
            timeout_s = atoi(optarg);
            break;
        case 'D':
            dlq = 1;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    int64_t start;
    if (!strcmp(from, "beginning"))
        start = RD_KAFKA_OFFSET_BEGINNING;
    else if (!strcmp(from, "end"))
        start = RD_KAFKA_OFFSET_END;
    else {
        char *end;
        start = strtoll(from, &end, 10);
        if (*end || start < 0) {
            fprintf(stderr, "mtlstream tail: --from takes beginning, end or an offset\n");
            return EXIT_USAGE;
        }
    }
    mts_config cfg;
    int rc = cli_load_config(cfg_path, &cfg);
    if (rc)
        return rc;
    if (!n_topics && dlq) {
        topics[n_topics++] = cfg.dead_letter_topic;
    } else if (!n_topics) {
        topics[n_topics++] = cfg.member_topic;
        topics[n_topics++] = cfg.company_topic;
    }
    char err[1024];
    av_schema *schema = av_schema_parse_file(cfg.output_schema_file, err, sizeof(err));
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_partition_list_t *assign = rd_kafka_topic_partition_list_new(16);
    int64_t *high = NULL;
    if (!schema) {
        fprintf(stderr, "mtlstream tail: output.schema %s\n", err);
        rc = EXIT_CONFIG;
        goto out;
    }
    char group[64];
    snprintf(group, sizeof(group), "mtlstream-tail-%d", (int)getpid());
    /* tail never joins the service's group nor commits: forced */
    const char *const forced[] = {
        "enable.auto.commit", "false", "enable.partition.eof", "true", "group.id", group, NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(&cfg, NULL, forced, err, sizeof(err));
    if (!conf) {
        fprintf(stderr, "mtlstream tail: %s\n", err);
        rc = EXIT_CONFIG;
        goto out;
    }
    char kerr[512];
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, kerr, sizeof(kerr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fprintf(stderr, "mtlstream tail: %s\n", kerr);
        rc = EXIT_CONFIG;
        goto out;
    }
    /* conf is owned by rk now */
    for (int i = 0; i < n_topics; i++) {
        int np = kafka_partition_count(rk, topics[i], 10000, err, sizeof(err));
        if (np < 0) {
            fprintf(stderr, "mtlstream tail: %s\n", err);
            rc = EXIT_UNAVAILABLE;
            goto out;
        }
        for (int p = 0; p < np; p++)
            rd_kafka_topic_partition_list_add(assign, topics[i], p)->offset = start;
    }
    int remaining = assign->cnt;
    high = xcalloc(assign->cnt ? assign->cnt : 1, sizeof(int64_t));
    if (exit_at_end) {
        remaining = 0;
        for (int i = 0; i < assign->cnt; i++) {
            int64_t lo, hi;
            rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
                rk, assign->elems[i].topic, assign->elems[i].partition, &lo, &hi, 10000);
            if (e) {
                fprintf(stderr, "mtlstream tail: watermarks of %s [%d]: %s\n",
                        assign->elems[i].topic, assign->elems[i].partition, rd_kafka_err2str(e));
                rc = EXIT_UNAVAILABLE;
                goto out;
            }
            int64_t first = start == RD_KAFKA_OFFSET_BEGINNING ? lo
                            : start == RD_KAFKA_OFFSET_END     ? hi
                                                               : start;
            high[i] = hi;
            if (first < hi)
                remaining++;
            else
                high[i] = -1; /* nothing to read here */
        }
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, assign);
    if (e) {
        fprintf(stderr, "mtlstream tail: assign: %s\n", rd_kafka_err2str(e));
        rc = EXIT_RUNTIME;
        goto out;
    }
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    long printed = 0, bad = 0;
    int64_t last = mono_ms();
    while (run && (!exit_at_end || remaining > 0) && (!max || printed < max)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m) {
            if (timeout_s && mono_ms() - last > timeout_s * 1000LL)
                break;
            continue;
        }
        last = mono_ms();
        int idx = -1;
        const char *tn = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
        for (int i = 0; i < assign->cnt; i++)
            if (assign->elems[i].partition == m->partition && !strcmp(assign->elems[i].topic, tn))
                idx = i;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (exit_at_end && idx >= 0 && high[idx] >= 0 && m->offset >= high[idx]) {
                high[idx] = -1;
                remaining--;
            }
        } else if (m->err) {
            fprintf(stderr, "mtlstream tail: %s\n", rd_kafka_message_errstr(m));
        } else if (dlq) {
            print_dead_letter(m, tn);
            printed++;
            if (exit_at_end && idx >= 0 && high[idx] >= 0 && m->offset + 1 >= high[idx]) {
                high[idx] = -1;
                remaining--;
            }
        } else {
            uint64_t id;
            const uint8_t *body;
            size_t body_len, used;
            json_t *rec = NULL;
            if (!framing_parse(FRAMING_CONFLUENT, m->payload, m->len, &id, &body, &body_len, err,
                               sizeof(err)))
                rec = av_decode_json(schema, body, body_len, &used, err, sizeof(err));
            if (rec && used != body_len) {
                json_decref(rec);
                rec = NULL;
                snprintf(err, sizeof(err), "%zu trailing bytes", body_len - used);
            }
            if (!rec) {
                bad++;
                fprintf(stderr, "mtlstream tail: %s [%d] @%" PRId64 ": %s\n", tn, m->partition,
                        m->offset, err);
            } else {
                json_t *out = message_head(m, tn);
                json_object_update(out, rec);
                char *s = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
                puts(s);
                free(s);
                json_decref(out);
                json_decref(rec);
                printed++;
            }
            if (exit_at_end && idx >= 0 && high[idx] >= 0 && m->offset + 1 >= high[idx]) {
                high[idx] = -1;
                remaining--;
            }
        }
        rd_kafka_message_destroy(m);
    }
    fflush(stdout);
    fprintf(stderr, "mtlstream tail: %ld %s printed, %ld undecodable\n", printed,
            dlq ? "dead letters" : "embeddings", bad);
    if (bad)
        rc = EXIT_RUNTIME;
out:
    free(high);
    rd_kafka_topic_partition_list_destroy(assign);
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    av_schema_free(schema);
    config_free(&cfg);
    return rc;
}
