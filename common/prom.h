/* prom.h - writing the Prometheus text exposition format (version 0.0.4).
 *
 * A family is announced once with prom_family() (# HELP and # TYPE lines),
 * then each sample is one prom_sample() line. Label values are escaped here
 * (backslash, double quote, newline), so topic names and task names from
 * the configuration can be passed as they are. */
#ifndef MTS_PROM_H
#define MTS_PROM_H

#include "util.h"

/* type: "counter" or "gauge". */
void prom_family(mts_buf *b, const char *name, const char *type, const char *help);
/* labels: n_labels (key, value) pairs, e.g. prom_sample(b, "x_total", v, 1, "task", "job_view").
 * NaN is written as NaN, infinities as +Inf / -Inf. */
void prom_sample(mts_buf *b, const char *name, double value, int n_labels, ...);

#endif
