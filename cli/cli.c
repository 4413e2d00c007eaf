/* cli.c - helpers shared by the subcommands. */
#include "cli/cli.h"

#include "common/log.h"

#include <stdio.h>
#include <unistd.h>

int cli_load_config(const char *path, mts_config *c)
{
    if (!path) {
        fprintf(stderr, "mtlstream: -c FILE is required\n");
        return EXIT_USAGE;
    }
    if (access(path, R_OK)) {
        fprintf(stderr, "mtlstream: %s: cannot read the configuration file\n", path);
        return EXIT_NOINPUT;
    }
    char err[1024];
    if (config_load(path, c, err, sizeof(err))) {
        fprintf(stderr, "mtlstream: configuration error: %s\n", err);
        config_free(c);
        return EXIT_CONFIG;
    }
    log_set_level(log_level_from_name(c->log_level));
    return 0;
}
