/* main.c - mtlstream: dispatch to a subcommand. */
#include "cli/cli.h"
#include "common/config.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(
        f,
        "mtlstream %s - online multitask learning of member and company embeddings from Kafka\n"
        "\n"
        "usage: mtlstream COMMAND [options]\n"
        "\n"
        "commands:\n"
        "  run      the service: consume events, train, publish embeddings\n"
        "  replay   backfill: learn from the beginning or a time up to the end offsets, "
        "checkpoint, exit\n"
        "  gen      write synthetic and real skill events to the input topics\n"
        "  tail     read the embedding topics and print one JSON object per embedding\n"
        "  schema   show the unified input layout of the configured tasks (schema unify)\n"
        "  score    print skill confidences for <skill entity, sentence> pairs from a checkpoint\n"
        "  config   print every setting with its type, bounds and default\n"
        "  model    describe the declared multitask model (shared and task-specific parts)\n"
        "  checkpoint show FILE   verify a checkpoint and print its offsets and counters as JSON\n"
        "\n"
        "`mtlstream COMMAND --help` describes each command.\n"
        "\n"
        "exit codes: 0 ok, 1 runtime failure, 64 bad command line, 65 damaged checkpoint "
        "(checkpoint\n"
        "            show), 66 missing input file (the configuration or a file it names), 69 "
        "broker\n"
        "            unavailable, 70 internal error, 78 configuration error\n",
        MTS_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run"))
        return run_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "gen"))
        return gen_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "tail"))
        return tail_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "replay"))
        return replay_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "checkpoint"))
        return checkpoint_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "schema"))
        return schema_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "model"))
        return model_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "score"))
        return score_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "config")) {
        if (argc > 2) {
            printf("usage: mtlstream config\n\nPrint every scalar setting with its type, bounds, "
                   "default and whether "
                   "SIGHUP\nreloads it. The kafka section, tasks and input.schemas lists are "
                   "documented in\n"
                   "conf/mtlstream.conf; a declared multitask model in "
                   "conf/multitask-example.conf.\n");
            return strcmp(argv[2], "--help") && strcmp(argv[2], "-h") ? EXIT_USAGE : EXIT_OK;
        }
        config_print_defaults();
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("mtlstream %s\n", MTS_VERSION);
        return EXIT_OK;
    }
    fprintf(stderr, "mtlstream: unknown command \"%s\"\n\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
