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
    const char *cfg_path;
    int rc = cli_sub_args(
        argc, argv, "schema", "unify",
        "usage: mtlstream schema unify -c FILE\n"
        "\n"
        "Print the unified input layout of the configured tasks: every field, its kind and "
        "Avro\n"
        "type, the tasks whose schema has it, and the default used for the tasks that do "
        "not.\n",
        &cfg_path);
    if (rc >= 0)
        return rc;
    mts_config cfg;
    if ((rc = cli_load_config(cfg_path, &cfg)))
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
