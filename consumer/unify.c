/* unify.c - build the unified row layout from every task's reader schema.
 *
 * How it works. Each task's top-level record is walked depth first; a field
 * whose type (after stripping ["null", T]) is a record is flattened into
 * "parent.child" names, a map field is left out, anything else becomes one
 * candidate slot with a kind (row.h). A candidate joins an existing slot when
 * its name or one of its aliases (at the same dotted prefix) equals one of
 * the names already known for that slot; otherwise it opens a new slot.
 * Joining sets the task's bit in task_mask and checks the kinds: equal kinds
 * join, long with double (and their arrays) widen to double, anything else
 * is an error naming both tasks. The slot's default is the first explicit
 * schema default met in task order (a nested field may also take it from its
 * parent record's default object), else the implied zero / "" / [] value. */
#include "unify.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char **names; /* (n_names) name and aliases seen for this slot */
    int n_names;
    int first_task;         /* task that opened the slot */
    const av_schema *type;  /* Avro type of the first task's field */
    const av_schema *dtype; /* type the default is written in */
    const json_t *dflt;     /* explicit default, or NULL */
    int dflt_null;          /* nullable with a null default (from a parent) */
} slot_info;

typedef struct {
    mts_layout *l;
    slot_info *info; /* (l->n_fields) */
    int cap;
    char *err;
    size_t errlen;
} uctx;

typedef struct {
    mts_arena arena; /* default strings and arrays */
} layout_store;

static void uerr(uctx *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void uerr(uctx *u, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->err, u->errlen, fmt, ap);
    va_end(ap);
}

const av_schema *unify_strip_null(const av_schema *t, int *nullable)
{
    *nullable = 0;
    if (t->type != AV_UNION)
        return t;
    const av_schema *only = NULL;
    int n_nonnull = 0;
    for (int i = 0; i < t->n_branches; i++) {
        if (t->branches[i]->type == AV_NULL)
            *nullable = 1;
        else {
            only = t->branches[i];
            n_nonnull++;
        }
    }
    if (n_nonnull == 1)
        return only;
    return t;
}

static int scalar_kind(const av_schema *t, field_kind *k)
{
    switch (t->type) {
    case AV_BOOLEAN:
    case AV_INT:
    case AV_LONG:
        *k = FK_LONG;
        return 0;
    case AV_FLOAT:
    case AV_DOUBLE:
        *k = FK_DOUBLE;
        return 0;
    case AV_BYTES:
    case AV_FIXED:
        *k = t->logical == AV_LOGICAL_DECIMAL ? FK_DOUBLE : FK_STRING;
        return 0;
    case AV_STRING:
    case AV_ENUM:
        *k = FK_STRING;
        return 0;
    default:
        return -1;
    }
}

int unify_kind(const av_schema *t, field_kind *kind, char *err, size_t errlen)
{
    int nullable;
    t = unify_strip_null(t, &nullable);
    if (t->type == AV_UNION) {
        int have = 0;
        for (int i = 0; i < t->n_branches; i++) {
            field_kind k;
            if (t->branches[i]->type == AV_NULL)
                continue;
            if (scalar_kind(t->branches[i], &k) < 0 || (have && k != *kind)) {
                snprintf(err, errlen, "union branches must all be scalars of one kind");
                return -1;
            }
            *kind = k;
            have = 1;
        }
        return 0;
    }
    if (t->type == AV_ARRAY) {
        field_kind k;
        if (scalar_kind(t->items, &k) < 0) {
            snprintf(err, errlen, "arrays of %s are not supported in a row",
                     av_type_name(t->items->type));
            return -1;
        }
        *kind = k == FK_LONG ? FK_LONG_ARRAY : k == FK_DOUBLE ? FK_DOUBLE_ARRAY : FK_STRING_ARRAY;
        return 0;
    }
    if (scalar_kind(t, kind) < 0) {
        snprintf(err, errlen, "type %s is not supported in a row", av_type_name(t->type));
        return -1;
    }
    return 0;
}

double unify_decimal_value(const uint8_t *b, size_t n, int scale)
{
    double v;
    if (n == 0) {
        v = 0;
    } else if (n <= 8) {
        uint64_t u = (b[0] & 0x80) ? ~(uint64_t)0 : 0;
        for (size_t i = 0; i < n; i++)
            u = (u << 8) | b[i];
        v = (double)(int64_t)u;
    } else {
        v = (b[0] & 0x80) ? -1.0 : 0.0;
        for (size_t i = 0; i < n; i++)
            v = v * 256.0 + b[i];
        if (b[0] & 0x80)
            v += 1.0; /* ~ two's complement for the approximate path */
    }
    return v / pow(10.0, scale);
}

/* JSON string of code points U+0000..U+00FF -> bytes in the arena. */
static const char *latin1_bytes(const json_t *j, mts_arena *a, uint32_t *n)
{
    const char *s = json_string_value(j);
    size_t len = json_string_length(j), k = 0;
    char *out = arena_alloc(a, len + 1);
    for (size_t i = 0; i < len; k++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x80) {
            out[k] = (char)ch;
            i++;
        } else {
            out[k] = (char)(((ch & 0x03) << 6) | ((unsigned char)s[i + 1] & 0x3f));
            i += 2;
        }
    }
    out[k] = '\0';
    *n = (uint32_t)k;
    return out;
}

/* Scalar default of Avro type t (not a union) into kind k. */
static int scalar_default(const av_schema *t, const json_t *j, field_kind k, mts_arena *a,
                          double *num, mts_str *str)
{
    *num = 0;
    str->p = "";
    str->len = 0;
    if (!j)
        return 0;
    switch (t->type) {
    case AV_BOOLEAN:
        *num = json_is_true(j);
        return 0;
    case AV_INT:
    case AV_LONG:
    case AV_FLOAT:
    case AV_DOUBLE:
        *num = json_number_value(j);
        if (k == FK_LONG || k == FK_LONG_ARRAY)
            *num = (double)json_integer_value(j);
        return 0;
    case AV_STRING:
    case AV_ENUM:
        str->len = (uint32_t)json_string_length(j);
        str->p = arena_strndup(a, json_string_value(j), str->len);
        return 0;
    case AV_BYTES:
    case AV_FIXED:
        str->p = latin1_bytes(j, a, &str->len);
        if (t->logical == AV_LOGICAL_DECIMAL)
            *num = unify_decimal_value((const uint8_t *)str->p, str->len, t->scale);
        return 0;
    default:
        return -1;
    }
}

static const av_schema *fitting_branch(const av_schema *t, const json_t *j)
{
    if (t->type != AV_UNION)
        return t;
    for (int i = 0; i < t->n_branches; i++)
        if (av_value_fits(t->branches[i], j))
            return t->branches[i];
    return NULL;
}

int unify_default_value(const av_schema *t, const json_t *dflt, field_kind k, mts_arena *store,
                        mts_value *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    int nullable;
    const av_schema *base = unify_strip_null(t, &nullable);
    if (dflt && json_is_null(dflt)) {
        if (!nullable && t->type != AV_NULL) {
            snprintf(err, errlen, "null default for a type that is not nullable");
            return -1;
        }
        out->is_null = 1;
        return 0;
    }
    if (dflt) {
        base = fitting_branch(t, dflt);
        if (!base) {
            snprintf(err, errlen, "default does not fit the type");
            return -1;
        }
    } else if (base->type == AV_UNION) {
        base = base->branches[base->branches[0]->type == AV_NULL ? 1 : 0];
    }
    double num;
    mts_str str;
    if (k == FK_LONG || k == FK_DOUBLE || k == FK_STRING) {
        if (scalar_default(base, dflt, k, store, &num, &str) < 0) {
            snprintf(err, errlen, "cannot take a default of type %s", av_type_name(base->type));
            return -1;
        }
        if (k == FK_LONG)
            out->u.l = (int64_t)num;
        else if (k == FK_DOUBLE)
            out->u.d = num;
        else {
            out->u.s = str.p;
            out->n = str.len;
        }
        return 0;
    }
    if (base->type != AV_ARRAY) {
        snprintf(err, errlen, "array slot for a %s type", av_type_name(base->type));
        return -1;
    }
    size_t n = dflt ? json_array_size(dflt) : 0;
    size_t el = k == FK_STRING_ARRAY ? sizeof(mts_str) : 8;
    void *arr = n ? arena_alloc(store, n * el) : NULL;
    for (size_t i = 0; i < n; i++) {
        if (scalar_default(base->items, json_array_get(dflt, i), k, store, &num, &str) < 0) {
            snprintf(err, errlen, "cannot take a default array of %s",
                     av_type_name(base->items->type));
            return -1;
        }
        if (k == FK_LONG_ARRAY)
            ((int64_t *)arr)[i] = (int64_t)num;
        else if (k == FK_DOUBLE_ARRAY)
            ((double *)arr)[i] = num;
        else
            ((mts_str *)arr)[i] = str;
    }
    out->n = (uint32_t)n;
    out->u.la = arr; /* the union members share one pointer */
    return 0;
}

static void type_text(const av_schema *t, mts_buf *b)
{
    static const char *logical[] = {
        "",        "date", "time-millis", "time-micros", "timestamp-millis", "timestamp-micros",
        "decimal", "uuid"};
    const char *n = av_type_name(t->type);
    switch (t->type) {
    case AV_RECORD:
    case AV_ENUM:
    case AV_FIXED:
        buf_append(b, n, strlen(n));
        buf_putc(b, ' ');
        buf_append(b, t->name, strlen(t->name));
        break;
    case AV_ARRAY:
    case AV_MAP:
        buf_append(b, n, strlen(n));
        buf_putc(b, '<');
        type_text(t->items, b);
        buf_putc(b, '>');
        break;
    case AV_UNION:
        for (int i = 0; i < t->n_branches; i++) {
            if (i)
                buf_putc(b, '|');
            type_text(t->branches[i], b);
        }
        break;
    default:
        buf_append(b, n, strlen(n));
    }
    if (t->logical != AV_LOGICAL_NONE) {
        char tmp[64];
        if (t->logical == AV_LOGICAL_DECIMAL)
            snprintf(tmp, sizeof(tmp), "(decimal %d,%d)", t->precision, t->scale);
        else
            snprintf(tmp, sizeof(tmp), "(%s)", logical[t->logical]);
        buf_append(b, tmp, strlen(tmp));
    }
}

static char *join_path(const char *prefix, const char *name)
{
    size_t n = strlen(prefix) + strlen(name) + 1;
    char *s = xmalloc(n);
    snprintf(s, n, "%s%s", prefix, name);
    return s;
}

static int find_slot(uctx *u, const char *name)
{
    for (int i = 0; i < u->l->n_fields; i++)
        for (int k = 0; k < u->info[i].n_names; k++)
            if (!strcmp(u->info[i].names[k], name))
                return i;
    return -1;
}

static void add_name(slot_info *si, const char *name)
{
    for (int k = 0; k < si->n_names; k++)
        if (!strcmp(si->names[k], name))
            return;
    si->names = xrealloc(si->names, (size_t)(si->n_names + 1) * sizeof(char *));
    si->names[si->n_names++] = xstrdup(name);
}

static int add_field(uctx *u, int task, const char *prefix, const av_field *f, const json_t *dflt,
                     int dflt_null)
{
    mts_layout *l = u->l;
    char sub[256];
    field_kind kind;
    char *path = join_path(prefix, f->name);
    if (unify_kind(f->type, &kind, sub, sizeof(sub)) < 0) {
        uerr(u, "task %s: field %s: %s", l->task_names[task], path, sub);
        free(path);
        return -1;
    }
    int slot = find_slot(u, path);
    for (int a = 0; slot < 0 && a < f->n_aliases; a++) {
        char *ap = join_path(prefix, f->aliases[a]);
        slot = find_slot(u, ap);
        free(ap);
    }
    if (slot < 0) {
        if (l->n_fields == u->cap) {
            u->cap = u->cap ? 2 * u->cap : 16;
            l->fields = xrealloc(l->fields, (size_t)u->cap * sizeof(*l->fields));
            u->info = xrealloc(u->info, (size_t)u->cap * sizeof(*u->info));
        }
        slot = l->n_fields++;
        mts_field *mf = &l->fields[slot];
        memset(mf, 0, sizeof(*mf));
        mf->name = xstrdup(path);
        mf->kind = kind;
        slot_info *si = &u->info[slot];
        memset(si, 0, sizeof(*si));
        si->first_task = task;
        si->type = f->type;
        mts_buf tb;
        buf_init(&tb);
        type_text(f->type, &tb);
        buf_putc(&tb, '\0');
        mf->type_text = (char *)tb.data;
    } else {
        mts_field *mf = &l->fields[slot];
        slot_info *si = &u->info[slot];
        if (mf->task_mask & ((uint64_t)1 << task)) {
            uerr(u, "task %s: fields %s and %s both match layout field %s (by name or alias)",
                 l->task_names[task], mf->name, path, mf->name);
            free(path);
            return -1;
        }
        field_kind k0 = mf->kind;
        if (k0 != kind) {
            int widen = (k0 == FK_LONG && kind == FK_DOUBLE) ||
                        (k0 == FK_DOUBLE && kind == FK_LONG) ||
                        (k0 == FK_LONG_ARRAY && kind == FK_DOUBLE_ARRAY) ||
                        (k0 == FK_DOUBLE_ARRAY && kind == FK_LONG_ARRAY);
            if (!widen) {
                uerr(u, "field %s: task %s has %s (%s), task %s has %s as %s: incompatible kinds",
                     mf->name, l->task_names[si->first_task], field_kind_name(k0), mf->type_text,
                     l->task_names[task], path, field_kind_name(kind));
                free(path);
                return -1;
            }
            mf->kind = (k0 == FK_LONG || k0 == FK_DOUBLE) ? FK_DOUBLE : FK_DOUBLE_ARRAY;
        }
    }
    slot_info *si = &u->info[slot];
    l->fields[slot].task_mask |= (uint64_t)1 << task;
    add_name(si, path);
    for (int a = 0; a < f->n_aliases; a++) {
        char *ap = join_path(prefix, f->aliases[a]);
        add_name(si, ap);
        free(ap);
    }
    if (!si->dflt && !si->dflt_null && (dflt || dflt_null)) {
        si->dflt = dflt;
        si->dflt_null = dflt_null;
        si->dtype = f->type;
    }
    free(path);
    return 0;
}

/* Flatten record rec of task into slots. parent_dflt: the enclosing field's
 * default object (or NULL); parent_null: the enclosing nullable record
 * defaults to null. stack: records being flattened (recursion check). */
static int walk(uctx *u, int task, const av_schema *rec, const char *prefix,
                const json_t *parent_dflt, int parent_null, const av_schema **stack, int depth)
{
    for (int i = 0; i < depth; i++)
        if (stack[i] == rec) {
            uerr(u, "task %s: record %s is recursive at %s and cannot be flattened",
                 u->l->task_names[task], rec->name, prefix);
            return -1;
        }
    if (depth >= 32) {
        uerr(u, "task %s: records nested too deeply at %s", u->l->task_names[task], prefix);
        return -1;
    }
    stack[depth] = rec;
    for (int i = 0; i < rec->n_fields; i++) {
        const av_field *f = &rec->fields[i];
        const json_t *d = f->default_value;
        if (!d && parent_dflt && json_is_object(parent_dflt))
            d = json_object_get(parent_dflt, f->name);
        int nullable;
        const av_schema *t = unify_strip_null(f->type, &nullable);
        if (t->type == AV_MAP)
            continue;
        if (t->type == AV_RECORD) {
            int is_null = parent_null || (d && json_is_null(d));
            char *p = join_path(prefix, f->name);
            char *pp = join_path(p, ".");
            free(p);
            int rc =
                walk(u, task, t, pp, d && json_is_object(d) ? d : NULL, is_null, stack, depth + 1);
            free(pp);
            if (rc < 0)
                return -1;
            continue;
        }
        if (add_field(u, task, prefix, f, parent_null && !f->default_value ? NULL : d,
                      parent_null && !f->default_value) < 0)
            return -1;
    }
    return 0;
}

void layout_free(mts_layout *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->n_fields; i++) {
        free(l->fields[i].name);
        free(l->fields[i].dflt_text);
        free(l->fields[i].type_text);
    }
    free(l->fields);
    for (int t = 0; t < l->n_tasks; t++)
        free(l->task_names[t]);
    free(l->task_names);
    layout_store *st = l->owner;
    if (st) {
        arena_free(&st->arena);
        free(st);
    }
    free(l);
}

static void free_info(uctx *u)
{
    for (int i = 0; i < u->l->n_fields; i++) {
        for (int k = 0; k < u->info[i].n_names; k++)
            free(u->info[i].names[k]);
        free(u->info[i].names);
    }
    free(u->info);
}

mts_layout *layout_unify(av_schema *const *task_schemas, const char *const *task_names, int n_tasks,
                         char *err, size_t errlen)
{
    if (n_tasks < 1 || n_tasks > 64) {
        snprintf(err, errlen, "need 1 to 64 tasks, got %d", n_tasks);
        return NULL;
    }
    mts_layout *l = xcalloc(1, sizeof(*l));
    layout_store *st = xcalloc(1, sizeof(*st));
    arena_init(&st->arena, 4096);
    l->owner = st;
    l->n_tasks = n_tasks;
    l->task_names = xcalloc((size_t)n_tasks, sizeof(char *));
    for (int t = 0; t < n_tasks; t++)
        l->task_names[t] = xstrdup(task_names[t]);
    uctx u = {.l = l, .err = err, .errlen = errlen};
    for (int t = 0; t < n_tasks; t++) {
        const av_schema *s = task_schemas[t];
        const av_schema *stack[32];
        if (!s || s->type != AV_RECORD) {
            snprintf(err, errlen, "task %s: the reader schema must be a record", task_names[t]);
            goto fail;
        }
        if (walk(&u, t, s, "", NULL, 0, stack, 0) < 0)
            goto fail;
    }
    for (int i = 0; i < l->n_fields; i++) {
        mts_field *mf = &l->fields[i];
        slot_info *si = &u.info[i];
        char sub[256];
        const json_t *d = si->dflt;
        const av_schema *dt = si->dtype ? si->dtype : si->type;
        if (si->dflt_null) {
            memset(&mf->dflt, 0, sizeof(mf->dflt));
            mf->dflt.is_null = 1;
        } else if (unify_default_value(dt, d, mf->kind, &st->arena, &mf->dflt, sub, sizeof(sub)) <
                   0) {
            snprintf(err, errlen, "field %s: %s", mf->name, sub);
            goto fail;
        }
        if (si->dflt_null || d)
            mf->dflt_text =
                si->dflt_null ? xstrdup("null") : json_dumps(d, JSON_ENCODE_ANY | JSON_COMPACT);
        else
            mf->dflt_text = xstrdup(mf->kind == FK_STRING       ? "\"\" (implied)"
                                    : mf->kind >= FK_LONG_ARRAY ? "[] (implied)"
                                                                : "0 (implied)");
    }
    free_info(&u);
    return l;
fail:
    free_info(&u);
    layout_free(l);
    return NULL;
}

void layout_print(const mts_layout *l, FILE *f)
{
    fprintf(f, "%-28s %-9s %-40s %-16s %s\n", "FIELD", "KIND", "TASKS", "DEFAULT", "AVRO TYPE");
    for (int i = 0; i < l->n_fields; i++) {
        const mts_field *mf = &l->fields[i];
        char tasks[256] = "";
        size_t n = 0;
        for (int t = 0; t < l->n_tasks; t++)
            if (mf->task_mask & ((uint64_t)1 << t))
                n += (size_t)snprintf(tasks + n, n < sizeof(tasks) ? sizeof(tasks) - n : 0, "%s%s",
                                      n ? "," : "", l->task_names[t]);
        fprintf(f, "%-28s %-9s %-40s %-16s %s\n", mf->name, field_kind_name(mf->kind), tasks,
                mf->dflt_text ? mf->dflt_text : "", mf->type_text);
    }
}
