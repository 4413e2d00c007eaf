/* row.h - the unified input row: one layout for every task's records.
 *
 * Unification (consumer/unify.c) reads all tasks' reader schemas and builds
 * one mts_layout: a flat list of fields (nested records flattened with
 * dotted names), each with a kind, the set of tasks that have it, and the
 * default used for tasks that do not. Decoding (consumer/plan.c) fills an
 * mts_row: one mts_value per layout field. The model binds to fields by name
 * once at start-up (layout_find) and then reads slots by index.
 *
 * Strings and arrays in a row point into the batch's arena; they live until
 * the batch is reset. */
#ifndef MTS_ROW_H
#define MTS_ROW_H

#include <stdint.h>

/* What a unified field holds. Avro types map onto these:
 * boolean, int, long, date, time-*, timestamp-* -> FK_LONG;
 * float, double, decimal -> FK_DOUBLE; string, bytes, fixed, enum (symbol)
 * -> FK_STRING; arrays of those -> the *_ARRAY kinds. */
typedef enum {
    FK_LONG,
    FK_DOUBLE,
    FK_STRING,
    FK_LONG_ARRAY,
    FK_DOUBLE_ARRAY,
    FK_STRING_ARRAY,
} field_kind;

const char *field_kind_name(field_kind k);

typedef struct {
    const char *p; /* not NUL-terminated in general */
    uint32_t len;
} mts_str;

typedef struct {
    uint8_t present; /* 1: the record supplied it; 0: the default was used */
    uint8_t is_null; /* the null branch of a union, or a null default */
    uint32_t n;      /* string length or array element count */
    union {
        int64_t l;
        double d;
        const char *s;
        const int64_t *la; /* (n) */
        const double *da;  /* (n) */
        const mts_str *sa; /* (n) */
    } u;
} mts_value;

typedef struct {
    char *name; /* dotted path for nested fields, e.g. "context.device" */
    field_kind kind;
    uint64_t task_mask; /* bit t set: task t's schema has this field */
    mts_value dflt;     /* used when absent; arrays/strings point into the layout */
    char *dflt_text;    /* the default as text, for `schema unify` */
    char *type_text;    /* the Avro type as text, for `schema unify` */
} mts_field;

typedef struct {
    int n_fields;
    mts_field *fields; /* (n_fields) */
    int n_tasks;
    char **task_names; /* (n_tasks) */
    void *owner;       /* private: storage for defaults */
} mts_layout;

/* Slot index of a field by name, or -1. */
int layout_find(const mts_layout *l, const char *name);

typedef struct {
    int task;  /* task whose record this is */
    int topic; /* index of the source topic in the configuration */
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /* Kafka message timestamp */
    mts_value *v;         /* (n_fields) in layout order */
} mts_row;

/* Numeric view of a scalar slot of kind k (FK_LONG or FK_DOUBLE); 0 when null. */
static inline double value_num(const mts_value *v, field_kind k)
{
    if (v->is_null)
        return 0.0;
    return k == FK_LONG ? (double)v->u.l : k == FK_DOUBLE ? v->u.d : 0.0;
}

#endif
