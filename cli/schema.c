/* schema.c - `mtlstream schema unify`: the unified input layout.
 *
 * Loads every task's reader schema, unifies them exactly as the service
 * does at start-up, and prints each field: kind, Avro type, which tasks
 * have it and the default used for the others. A conflict (same name,
 * incompatible types) is reported with both schemas and exit code 78. */
#include "cli/cli.h"

#include "common/avro.h"
#include "consumer/unify.h"

#include <stdio.h>
#include <string.h>

int schema_main(int argc, char **argv)
{
    const char *cfg_path = NULL;
    const char *sub = argc > 1 ? argv[1] : NULL;
    for (int i = 2; i < argc; i++) {
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc)
            cfg_path = argv[++i];
        else {
            fprintf(stderr, "mtlstream schema: unexpected argument \"%s\"\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        printf("usage: mtlstream schema unify -c FILE\n"
               "\n"
               "Print the unified input layout of the configured tasks: every field, its kind and "
               "Avro\n"
               "type, the tasks whose schema has it, and the default used for the tasks that do "
               "not.\n");
        return sub ? EXIT_OK : EXIT_USAGE;
    }
    if (strcmp(sub, "unify")) {
        fprintf(stderr, "mtlstream schema: unknown subcommand \"%s\" (try unify)\n", sub);
        return EXIT_USAGE;
    }
    mts_config cfg;
    int rc = cli_load_config(cfg_path, &cfg);
    if (rc)
        return rc;
    av_schema *schemas[CFG_MAX_TASKS] = {0};
    const char *names[CFG_MAX_TASKS];
    char err[1024];
    rc = EXIT_OK;
    for (int t = 0; t < cfg.n_tasks; t++) {
        names[t] = cfg.tasks[t].name;
        schemas[t] = av_schema_parse_file(cfg.tasks[t].schema_file, err, sizeof(err));
        if (!schemas[t]) {
            fprintf(stderr, "mtlstream: task %s: schema %s\n", names[t], err);
            rc = EXIT_CONFIG;
            goto out;
        }
    }
    mts_layout *l = layout_unify(schemas, names, cfg.n_tasks, err, sizeof(err));
    if (!l) {
        fprintf(stderr, "mtlstream: %s\n", err);
        rc = EXIT_CONFIG;
        goto out;
    }
    layout_print(l, stdout);
    layout_free(l);
out:
    for (int t = 0; t < cfg.n_tasks; t++)
        av_schema_free(schemas[t]);
    config_free(&cfg);
    return rc;
}
