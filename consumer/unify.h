/* unify.h - one row layout for all tasks' reader schemas (see common/row.h).
 *
 * layout_unify flattens each task's record (nested records become dotted
 * names), matches fields across tasks by name or alias, checks that matched
 * fields have compatible kinds (long and double unify to double), and keeps
 * the default each field takes for a task that lacks it. Map fields are not
 * part of the layout. The layout owns everything it points to. */
#ifndef MTS_UNIFY_H
#define MTS_UNIFY_H

#include "common/avro.h"
#include "common/row.h"
#include "common/util.h"

#include <stdio.h>

mts_layout *layout_unify(av_schema *const *task_schemas, const char *const *task_names, int n_tasks,
                         char *err, size_t errlen);
void layout_free(mts_layout *l);
/* One line per field: name, kind, tasks, default, Avro type. */
void layout_print(const mts_layout *l, FILE *f);

/* Helpers shared with consumer/plan.c. */

/* The type a (reader) field holds once a ["null", T] union is stripped:
 * T, with *nullable set; t itself otherwise. */
const av_schema *unify_strip_null(const av_schema *t, int *nullable);

/* Kind of a scalar or array type (unions whose non-null branches agree are
 * allowed). 0, or -1 with a message for types a row cannot hold. */
int unify_kind(const av_schema *t, field_kind *kind, char *err, size_t errlen);

/* Convert a JSON default (NULL: the implied zero / empty value) of Avro type t
 * into a slot value of kind k; strings and arrays go into store. present is
 * set to 0. 0, or -1 with a message. */
int unify_default_value(const av_schema *t, const json_t *dflt, field_kind k, mts_arena *store,
                        mts_value *out, char *err, size_t errlen);

/* A decimal's unscaled big-endian two's complement bytes, divided by
 * 10^scale. Exact up to 8 bytes, approximate beyond. */
double unify_decimal_value(const uint8_t *b, size_t n, int scale);

#endif
