/* ops.h - what makes `mtlstream run` an operable service: service-manager
 * notifications, SIGHUP reload, the metrics and health endpoint, file
 * permissions. cli/run.c calls these hooks at fixed points of its life:
 *
 *   ops_start()     right after the configuration is loaded
 *   ops_ready()     after schemas, model (checkpoint) and subscription
 *   ops_tick()      every turn of the loop (cheap: paced internally)
 *   ops_reload_pending() / ops_reload()   in the loop, after a SIGHUP
 *   ops_stopping()  when the loop ends
 *   ops_stop()      last, on every exit path
 *
 * The loop is single-threaded; the only other thread here is
 * libmicrohttpd's, which sees nothing but the snapshot published to it. */
#ifndef MTS_OPS_H
#define MTS_OPS_H

#include "common/config.h"
#include "consumer/intake.h"
#include "model/model.h"
#include "producer/publish.h"

#include <librdkafka/rdkafka.h>
#include <stdint.h>

/* The running service as the hooks see it (all borrowed). */
typedef struct {
    mts_config *cfg; /* the live configuration; ops_reload changes reloadable fields */
    intake *in;
    mts_model *model;
    publisher *pub;
    rd_kafka_t *producer;
    const uint64_t *steps;   /* training steps so far */
    const uint64_t *learned; /* rows learned so far */
} ops_service;

/* Owner-only file mode (umask 077) for checkpoints and state, watchdog set-up,
 * SIGHUP handler, metrics endpoint. Returns 0 or an exit code after printing
 * the error (EXIT_CONFIG for a bad or refused metrics_listen). */
int ops_start(const mts_config *cfg);
void ops_ready(const ops_service *s);
void ops_tick(const ops_service *s);
int ops_reload_pending(void);
/* Re-read s->cfg->path; apply what can change live, refuse and log the
 * rest. A file that does not load is refused as a whole. */
void ops_reload(const ops_service *s);
void ops_stopping(const ops_service *s);
void ops_stop(void);

/* Hook for the checkpoint writer: a checkpoint finished at wall time
 * wall_ms after duration_s seconds. Shown in /metrics and /healthz. */
void ops_checkpoint_done(int64_t wall_ms, double duration_s);
/* Hook for long start-up work (checkpoint load): call at least every few
 * seconds with the time still needed, so systemd extends its start timeout. */
void ops_startup_progress(uint64_t more_usec);

#endif
