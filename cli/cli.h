/* cli.h - the subcommands of the mtlstream binary, one *_main per mode. */
#ifndef MTS_CLI_H
#define MTS_CLI_H

int run_main(int argc, char **argv);
int gen_main(int argc, char **argv);
int tail_main(int argc, char **argv);
int schema_main(int argc, char **argv);
int model_main(int argc, char **argv); /* model describe: the declared multitask model */
int checkpoint_main(int argc, char **argv);
int replay_main(int argc, char **argv);
int score_main(int argc, char **argv);

#include "common/config.h"
#include "model/model.h"

/* The arguments of "mtlstream CMD SUB -c FILE": argv[1] is SUB (no
 * subcommand, --help or -h print help), then only -c/--config FILE.
 * Returns -1 to go on, with *cfg_path set (NULL when not given), or the exit
 * code to return after the message it printed. */
int cli_sub_args(int argc, char **argv, const char *cmd, const char *sub, const char *help,
                 const char **cfg_path);
/* Load the configuration: 0, or an exit code after printing the error. */
int cli_load_config(const char *path, mts_config *c);
/* The model's settings and tasks from the configuration. */
void cli_model_config(const mts_config *c, model_config *mc);

#define MTS_VERSION "0.1.0"

#endif
