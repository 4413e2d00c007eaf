/* resume.c - see resume.h. */
#include "cli/resume.h"

#include "cli/cli.h"
#include "cli/ops.h"

/* Start-up time systemd should allow for loading a checkpoint. */
#define CHECKPOINT_LOAD_ALLOWANCE_USEC (120ULL * 1000000)

#include "common/avro.h"
#include "common/log.h"
#include "consumer/intake.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int resume_expect(const mts_config *c, ckpt_meta *expect, char *err, size_t errlen)
{
    ckpt_meta_init(expect);
    expect->n_tasks = c->n_tasks;
    av_schema *readers[CFG_MAX_TASKS];
    if (intake_task_schemas(c, readers, err, errlen))
        return -1;
    for (int t = 0; t < c->n_tasks; t++) {
        expect->schema_fp[t] = av_fingerprint(readers[t]);
        av_schema_free(readers[t]);
    }
    return 0;
}

int resume_state_dir(const mts_config *c)
{
    struct stat st;
    if (stat(c->state_dir, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        fprintf(stderr, "mtlstream: service.state_dir %s is not a directory\n", c->state_dir);
        return EXIT_CONFIG;
    }
    if (mkdir(c->state_dir, 0700) < 0) {
        fprintf(stderr, "mtlstream: service.state_dir %s: cannot create it: %s\n", c->state_dir,
                strerror(errno));
        return EXIT_CONFIG;
    }
    return 0;
}

int resume_load(const mts_config *c, const char *file, const mts_layout *layout, mts_model **model,
                ckpt_meta *meta)
{
    char err[2048];
    model_config mc;
    cli_model_config(c, &mc);
    ckpt_meta expect;
    if (resume_expect(c, &expect, err, sizeof(err))) {
        fprintf(stderr, "mtlstream: configuration error: %s\n", err);
        return EXIT_CONFIG;
    }
    char used[4096] = "";
    ckpt_status st;
    /* Loading a large checkpoint can take a while: tell systemd (EXTEND_TIMEOUT_USEC). */
    ops_startup_progress(CHECKPOINT_LOAD_ALLOWANCE_USEC);
    if (file) {
        st = checkpoint_load_file(file, &mc, layout, &expect, model, meta, err, sizeof(err));
        snprintf(used, sizeof(used), "%s", file);
    } else {
        st = checkpoint_load_latest(c->state_dir, &mc, layout, &expect, model, meta, used,
                                    sizeof(used), err, sizeof(err));
    }
    int rc = 0;
    if (st == CKPT_OK) {
        if (err[0])
            log_warn("checkpoint: %s", err);
        uint64_t learned = 0, dead = 0;
        for (int i = 0; i < meta->n_parts; i++) {
            learned += meta->parts[i].learned;
            dead += meta->parts[i].dead_lettered;
        }
        log_notice("resuming from checkpoint %s (number %" PRIu64 ", %d partitions, %" PRIu64
                   " events learned, %" PRIu64 " dead-lettered)",
                   used, meta->sequence, meta->n_parts, learned, dead);
    } else if (st == CKPT_NONE && !file) {
        log_notice("no checkpoint in %s: starting a new model", c->state_dir);
        ckpt_meta_init(meta);
        *model = model_new(&mc, layout, err, sizeof(err));
        if (!*model) {
            fprintf(stderr, "mtlstream: configuration error: model: %s\n", err);
            rc = EXIT_CONFIG;
        }
    } else {
        fprintf(stderr, "mtlstream: checkpoint refused: %s\n", err);
        fprintf(stderr, "mtlstream: not starting (nothing was loaded). %s\n",
                st == CKPT_MISMATCH
                    ? "Restore the configuration the checkpoint was written with, or move the "
                      "checkpoint files away to start a new model."
                    : "Move the damaged checkpoint files away to start a new model from the "
                      "group's committed offsets.");
        rc = st == CKPT_NONE ? EXIT_NOINPUT : EXIT_CONFIG;
    }
    if (rc == 0) {
        meta->n_tasks = expect.n_tasks;
        memcpy(meta->schema_fp, expect.schema_fp, sizeof(meta->schema_fp));
    }
    ckpt_meta_free(&expect);
    return rc;
}

uint64_t resume_fold(ckpt_meta *meta, const mts_config *c, const intake_progress *p, int n)
{
    uint64_t events = 0;
    for (int i = 0; i < n; i++) {
        ckpt_partition *cp = ckpt_meta_part(meta, p[i].topic, p[i].partition, 1);
        if (!cp)
            continue; /* a topic name longer than a checkpoint holds: refused by config checks in
                         practice */
        cp->next_offset = p[i].next_offset;
        cp->learned += p[i].rows;
        cp->dead_lettered += p[i].dead;
        int t = config_task_by_topic(c, p[i].topic);
        if (t >= 0 && t < MODEL_MAX_TASKS) {
            meta->task_learned[t] += p[i].rows;
            meta->task_dead[t] += p[i].dead;
        }
        events += (uint64_t)p[i].rows + p[i].dead;
    }
    return events;
}

int resume_commit(rd_kafka_t *consumer, const ckpt_meta *meta, int async, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *assigned = NULL;
    rd_kafka_resp_err_t e = rd_kafka_assignment(consumer, &assigned);
    if (e) {
        snprintf(err, errlen, "reading the assignment: %s", rd_kafka_err2str(e));
        return -1;
    }
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new(assigned->cnt > 0 ? assigned->cnt : 1);
    for (int i = 0; i < assigned->cnt; i++) {
        const rd_kafka_topic_partition_t *a = &assigned->elems[i];
        const ckpt_partition *cp = ckpt_meta_part((ckpt_meta *)meta, a->topic, a->partition, 0);
        if (cp && cp->next_offset >= 0)
            rd_kafka_topic_partition_list_add(l, a->topic, a->partition)->offset = cp->next_offset;
    }
    rd_kafka_topic_partition_list_destroy(assigned);
    int n = l->cnt;
    if (n > 0) {
        e = rd_kafka_commit(consumer, l, async);
        if (!e && !async)
            for (int i = 0; i < l->cnt; i++)
                if (l->elems[i].err && !e)
                    e = l->elems[i].err;
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        snprintf(err, errlen, "commit: %s", rd_kafka_err2str(e));
        return -1;
    }
    return n;
}
