/* schema.c - `mtlstream schema unify`: the unified input layout.
 *
 * Loads every task's reader schema, unifies them exactly as the service
 * does at start-up, and prints each field: kind, Avro type, which tasks
 * have it and the default used for the others. A conflict (same name,
 * incompatible types) is reported with both schemas and exit code 78. */
#include "cli/cli.h"

#include "consumer/intake.h"
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
    char err[1024];
    mts_layout *l = intake_config_layout(&cfg, err, sizeof(err));
    if (l) {
        layout_print(l, stdout);
        layout_free(l);
    } else
        fprintf(stderr, "mtlstream: %s\n", err);
    config_free(&cfg);
    return l ? EXIT_OK : EXIT_CONFIG;
}
