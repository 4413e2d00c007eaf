/* group_offsets.c - per input partition: low and high watermark and the
 * consumer group's committed offset (-1 if none), one line each:
 *   TOPIC PARTITION LOW HIGH COMMITTED
 * usage: group_offsets CONFIG [GROUP]   (GROUP defaults to input.group_id)
 * For the checkpoint tests: end - start per partition, and "no committed
 * offset ahead of a checkpoint". Reads only: never joins or commits. */
#include "common/config.h"
#include "common/kafka.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: group_offsets CONFIG [GROUP]\n");
        return 64;
    }
    mts_config c;
    char err[1024];
    if (config_load(argv[1], &c, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return 78;
    }
    const char *group = argc > 2 ? argv[2] : c.group_id;
    const char *const forced[] = {"enable.auto.commit", "false", "group.id", group, NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(&c, NULL, forced, err, sizeof(err));
    if (!conf) {
        fprintf(stderr, "%s\n", err);
        return 78;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int t = 0; t < c.n_tasks; t++) {
        int n = kafka_partition_count(rk, c.tasks[t].topic, 15000, err, sizeof(err));
        if (n < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        for (int p = 0; p < n; p++)
            rd_kafka_topic_partition_list_add(l, c.tasks[t].topic, p);
    }
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, l, 15000);
    if (e) {
        fprintf(stderr, "committed: %s\n", rd_kafka_err2str(e));
        return 1;
    }
    for (int i = 0; i < l->cnt; i++) {
        int64_t lo, hi;
        e = rd_kafka_query_watermark_offsets(rk, l->elems[i].topic, l->elems[i].partition, &lo, &hi,
                                             15000);
        if (e) {
            fprintf(stderr, "watermarks: %s\n", rd_kafka_err2str(e));
            return 1;
        }
        printf("%s %d %lld %lld %lld\n", l->elems[i].topic, (int)l->elems[i].partition,
               (long long)lo, (long long)hi,
               (long long)(l->elems[i].offset >= 0 ? l->elems[i].offset : -1));
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    config_free(&c);
    return 0;
}
