/* ckpt.c - `mtlstream checkpoint show FILE`: a checkpoint's position as JSON.
 *
 * Verifies the whole file (every checksum) and prints its number, time,
 * configuration text, per-task counters and per-partition next offset,
 * learned and dead-lettered counts: what an operator (or a test) needs to
 * see where a service or a replay stands, without a configuration. */
#include "cli/cli.h"

#include "model/checkpoint.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int checkpoint_main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        strcmp(argv[1], "show") || argc != 3) {
        FILE *f =
            argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? stdout : stderr;
        fprintf(
            f,
            "usage: mtlstream checkpoint show FILE\n"
            "\n"
            "Verify checkpoint FILE (every checksum) and print its position as one JSON object:\n"
            "number, time, per-partition next offset, events learned and dead-lettered, per-task\n"
            "counters, entity counts. Exit 0, or 65 if the file is damaged, 66 if missing.\n");
        return f == stdout ? EXIT_OK : EXIT_USAGE;
    }
    ckpt_meta m;
    uint64_t ent[2] = {0, 0};
    char err[1024];
    ckpt_status st = checkpoint_read_meta(argv[2], &m, ent, err, sizeof(err));
    if (st != CKPT_OK) {
        fprintf(stderr, "mtlstream checkpoint: %s\n", err);
        return st == CKPT_NONE    ? EXIT_NOINPUT
               : st == CKPT_IOERR ? EXIT_RUNTIME
                                  : 65 /* EX_DATAERR */;
    }
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(argv[2]));
    json_object_set_new(o, "number", json_integer((json_int_t)m.sequence));
    json_object_set_new(o, "created_ms", json_integer(m.created_ms));
    json_object_set_new(o, "config", json_string(m.config_text));
    json_object_set_new(o, "members", json_integer((json_int_t)ent[0]));
    json_object_set_new(o, "companies", json_integer((json_int_t)ent[1]));
    json_t *tasks = json_array();
    for (int t = 0; t < m.n_tasks; t++) {
        json_t *x = json_object();
        char fp[17];
        snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)m.schema_fp[t]);
        json_object_set_new(x, "schema_fingerprint", json_string(fp));
        json_object_set_new(x, "learned", json_integer((json_int_t)m.task_learned[t]));
        json_object_set_new(x, "dead_lettered", json_integer((json_int_t)m.task_dead[t]));
        json_array_append_new(tasks, x);
    }
    json_object_set_new(o, "tasks", tasks);
    json_t *parts = json_array();
    uint64_t learned = 0, dead = 0;
    for (int i = 0; i < m.n_parts; i++) {
        const ckpt_partition *p = &m.parts[i];
        json_t *x = json_object();
        json_object_set_new(x, "topic", json_string(p->topic));
        json_object_set_new(x, "partition", json_integer(p->partition));
        json_object_set_new(x, "next_offset", json_integer(p->next_offset));
        json_object_set_new(x, "learned", json_integer((json_int_t)p->learned));
        json_object_set_new(x, "dead_lettered", json_integer((json_int_t)p->dead_lettered));
        json_array_append_new(parts, x);
        learned += p->learned;
        dead += p->dead_lettered;
    }
    json_object_set_new(o, "partitions", parts);
    json_object_set_new(o, "learned", json_integer((json_int_t)learned));
    json_object_set_new(o, "dead_lettered", json_integer((json_int_t)dead));
    char *text = json_dumps(o, JSON_COMPACT);
    printf("%s\n", text);
    free(text);
    json_decref(o);
    ckpt_meta_free(&m);
    return EXIT_OK;
}
