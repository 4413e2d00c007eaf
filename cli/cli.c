/* cli.c - helpers shared by the subcommands. */
#include "cli/cli.h"

#include "common/log.h"
#include "model/mtl.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cli_sub_args(int argc, char **argv, const char *cmd, const char *sub, const char *help,
                 const char **cfg_path)
{
    const char *got = argc > 1 ? argv[1] : NULL;
    *cfg_path = NULL;
    for (int i = 2; i < argc; i++) {
        if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc)
            *cfg_path = argv[++i];
        else {
            fprintf(stderr, "mtlstream %s: unexpected argument \"%s\"\n", cmd, argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!got || !strcmp(got, "--help") || !strcmp(got, "-h")) {
        fputs(help, stdout);
        return got ? EXIT_OK : EXIT_USAGE;
    }
    if (strcmp(got, sub)) {
        fprintf(stderr, "mtlstream %s: unknown subcommand \"%s\" (try %s)\n", cmd, got, sub);
        return EXIT_USAGE;
    }
    return -1;
}

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
    int rc = config_load(path, c, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "mtlstream: configuration error: %s\n", err);
        config_free(c);
        return rc == -2 ? EXIT_NOINPUT : EXIT_CONFIG;
    }
    if (c->has_multitask) { /* the declared network: build it once so an impossible one stops
                               start-up here */
        mtl_net *net = mtl_new_from_file(path, err, sizeof(err));
        if (!net) {
            fprintf(stderr, "mtlstream: configuration error: %s: %s\n", path, err);
            config_free(c);
            return EXIT_CONFIG;
        }
        for (int t = 0; t < c->n_tasks; t++)
            if (mtl_task_index(net, c->tasks[t].name) < 0) {
                fprintf(
                    stderr,
                    "mtlstream: configuration error: %s: task %s has no model in multitask.tasks\n",
                    path, c->tasks[t].name);
                mtl_free(net);
                config_free(c);
                return EXIT_CONFIG;
            }
        if (mtl_n_tasks(net) != c->n_tasks) {
            fprintf(stderr,
                    "mtlstream: configuration error: %s: multitask.tasks declares %d tasks, tasks "
                    "lists %d (each "
                    "declared task needs its topic and schema under tasks)\n",
                    path, mtl_n_tasks(net), c->n_tasks);
            mtl_free(net);
            config_free(c);
            return EXIT_CONFIG;
        }
        mtl_free(net);
    }
    log_set_level(log_level_from_name(c->log_level));
    return 0;
}

/* The model's settings and tasks from the configuration. */
void cli_model_config(const mts_config *c, model_config *mc)
{
    model_config_defaults(mc);
    mc->dim = c->dim;
    mc->id_dim = c->id_dim;
    mc->hidden = c->hidden;
    mc->table_capacity = c->table_capacity;
    mc->lr_dense = (float)c->lr_dense;
    mc->lr_table = (float)c->lr_table;
    mc->seed = (uint64_t)c->seed;
    mc->skill_dim = c->skill_dim;
    mc->ngram_buckets = c->ngram_buckets;
    mc->n_tasks = c->n_tasks;
    for (int t = 0; t < c->n_tasks; t++) {
        const cfg_task *ct = &c->tasks[t];
        model_task_config *mt = &mc->tasks[t];
        snprintf(mt->name, sizeof(mt->name), "%s", ct->name);
        mt->kind = strcmp(ct->kind, "skill") ? TASK_AFFINITY : TASK_SKILL;
        snprintf(mt->label_field, sizeof(mt->label_field), "%s", ct->label);
        snprintf(mt->member_field, sizeof(mt->member_field), "%s", ct->member);
        snprintf(mt->company_field, sizeof(mt->company_field), "%s", ct->company);
        mt->loss_weight = (float)ct->loss_weight;
        mt->pos_weight = (float)ct->pos_weight;
    }
    if (c->has_multitask) /* the network is declared in the same file */
        snprintf(mc->mtl_file, sizeof(mc->mtl_file), "%s", c->path);
}
