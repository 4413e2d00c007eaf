/* model_cmd.c - `mtlstream model describe`: the declared multitask model.
 *
 * Builds the network from the file's multitask section exactly as training
 * would (so every check that refuses a configuration at start-up runs here
 * too) and prints its split into shared and task-specific components, their
 * parameter counts and the tasks that use each. */
#include "cli/cli.h"

#include "model/mtl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int model_main(int argc, char **argv)
{
    const char *cfg_path;
    int rc = cli_sub_args(
        argc, argv, "model", "describe",
        "usage: mtlstream model describe -c FILE\n"
        "\n"
        "Build the multitask model declared in FILE's multitask section (see\n"
        "conf/multitask-example.conf) and print its shared and task-specific components,\n"
        "their parameter counts and which tasks use each. A configuration training would\n"
        "refuse is refused here with the same message (exit code 78).\n",
        &cfg_path);
    if (rc >= 0)
        return rc;
    if (!cfg_path) {
        fprintf(stderr, "mtlstream model describe: -c FILE is required\n");
        return EXIT_USAGE;
    }
    FILE *f = fopen(cfg_path, "r");
    if (!f) {
        fprintf(stderr, "mtlstream: %s: cannot open\n", cfg_path);
        return EXIT_NOINPUT;
    }
    fclose(f);
    char err[1024];
    mtl_net *net = mtl_new_from_file(cfg_path, err, sizeof(err));
    if (!net) {
        fprintf(stderr, "mtlstream: %s: %s\n", cfg_path, err);
        return EXIT_CONFIG;
    }
    size_t need = mtl_describe(net, NULL, 0) + 1;
    char *buf = malloc(need);
    if (!buf) {
        mtl_free(net);
        return EXIT_SOFTWARE;
    }
    mtl_describe(net, buf, need);
    fputs(buf, stdout);
    free(buf);
    mtl_free(net);
    return EXIT_OK;
}
