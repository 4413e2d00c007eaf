/* plan.c - compile a writer->reader schema resolution into a program of slot
 * writes, and run it on Avro binary (the intake hot path).
 *
 * How it works. plan_compile walks the writer schema in wire order, next to
 * the reader schema, and emits one op per writer value: read a scalar into a
 * slot (with the promotion the reader asks for), read an array into a slot,
 * dispatch on a union branch to a sub-program, set a nullable slot to null,
 * skip a value the reader does not want, or fail with a fixed reason (a
 * writer union branch the reader cannot take). Nested records need no op of
 * their own: their fields are emitted inline, flattened onto dotted slots.
 * The plan also keeps a template row: the layout defaults overlaid with this
 * reader's defaults for fields the writer lacks. plan_decode copies the
 * template into the row and runs the ops, so every slot is always written.
 *
 * Every length and count read from the data is checked against the bytes
 * left before it is used; strings and arrays are copied into the caller's
 * arena, and no memory is allocated with malloc while decoding. */
#include "plan.h"

#include "consumer/unify.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_MAX_DEPTH 64 /* nesting of skipped values (recursive writer types) */

typedef enum {
    OP_BOOL, /* scalar reads: into slot, converted to op->dst */
    OP_INT,
    OP_LONG,
    OP_FLOAT,
    OP_DOUBLE,
    OP_STRING,  /* string or bytes */
    OP_FIXED,   /* size bytes */
    OP_DECIMAL, /* bytes (size < 0) or fixed (size) -> double, / 10^scale */
    OP_ENUM,    /* writer index -> reader symbol */
    OP_ARRAY,   /* blocks of elem */
    OP_UNION,   /* branch index -> branches[i] */
    OP_NULL,    /* writer null: slots[] become null */
    OP_SKIP,    /* writer value the reader does not keep */
    OP_FAIL,    /* reason */
} opcode;

typedef struct prog prog;
typedef struct op op;

struct op {
    opcode code;
    field_kind dst; /* slot kind (arrays: the array kind) */
    int slot;
    int to_float;      /* reader type is float: round through float */
    int size;          /* fixed size; decimal: fixed size or -1 for bytes */
    int scale;         /* decimal */
    const char *where; /* field path, for messages (plan-owned) */
    mts_str *enum_map; /* (n_enum) writer symbol -> reader symbol; p NULL: unknown */
    int n_enum;
    op *elem;       /* array element */
    prog *branches; /* (n_branches) union */
    int n_branches;
    int *slots; /* (n_slots) OP_NULL */
    int n_slots;
    const av_schema *skip; /* OP_SKIP: a copy owned by the plan (see skip_types) */
    decode_reason fail;
};

struct prog {
    op *ops; /* (n) */
    int n, cap;
};

struct mts_plan {
    prog main;
    int n_fields;
    int task;
    mts_value *tmpl;      /* (n_fields) initial row */
    mts_arena store;      /* strings: reader defaults, enum symbols, paths */
    av_schema *skip_root; /* the writer schema, re-parsed: owns the types skipped */
};

const char *decode_reason_name(decode_reason r)
{
    static const char *names[] = {
        "ok",         "truncated", "bad_length",    "bad_union", "bad_enum",       "trailing_bytes",
        "not_finite", "too_long",  "missing_field", "framing",   "unknown_schema", "bad_value"};
    return (unsigned)r < ARRAY_LEN(names) ? names[r] : "unknown";
}

/* ------------------------------------------------------------------------ */
/* Compiler */

typedef struct {
    mts_plan *p;
    const mts_layout *l;
    char *err;
    size_t errlen;
} pcc;

static void pcerr(pcc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pcerr(pcc *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
}

static op *emit(prog *pg, opcode code)
{
    if (pg->n == pg->cap) {
        pg->cap = pg->cap ? 2 * pg->cap : 8;
        pg->ops = xrealloc(pg->ops, (size_t)pg->cap * sizeof(op));
    }
    op *o = &pg->ops[pg->n++];
    memset(o, 0, sizeof(*o));
    o->code = code;
    o->slot = -1;
    return o;
}

static void free_op(op *o);

static void free_prog(prog *pg)
{
    for (int i = 0; i < pg->n; i++)
        free_op(&pg->ops[i]);
    free(pg->ops);
    pg->ops = NULL;
    pg->n = pg->cap = 0;
}

static void free_op(op *o)
{
    free(o->enum_map);
    if (o->elem) {
        free_op(o->elem);
        free(o->elem);
    }
    for (int i = 0; i < o->n_branches; i++)
        free_prog(&o->branches[i]);
    free(o->branches);
    free(o->slots);
}

static const char *short_name(const char *full)
{
    const char *d = strrchr(full, '.');
    return d ? d + 1 : full;
}

/* Named types resolve when their unqualified names match, or the reader
 * lists the writer's name among its aliases. */
static int names_match(const av_schema *w, const av_schema *r)
{
    if (!strcmp(short_name(w->name), short_name(r->name)))
        return 1;
    for (int i = 0; i < r->n_aliases; i++)
        if (!strcmp(r->aliases[i], w->name) ||
            !strcmp(short_name(r->aliases[i]), short_name(w->name)))
            return 1;
    return 0;
}

/* Can a writer value of type w be read as reader type r (neither a union)?
 * 2: same type, 1: by promotion, 0: no. */
static int resolvable(const av_schema *w, const av_schema *r)
{
    if (r->logical == AV_LOGICAL_DECIMAL && (w->type == AV_BYTES || w->type == AV_FIXED))
        return w->type == r->type ? 2 : 1;
    if (w->type == r->type) {
        switch (w->type) {
        case AV_RECORD:
        case AV_ENUM:
            return names_match(w, r) ? 2 : 0;
        case AV_FIXED:
            return names_match(w, r) && w->size == r->size ? 2 : 0;
        case AV_ARRAY:
        case AV_MAP:
            return resolvable(w->items, r->items) ||
                           (w->items->type == AV_UNION || r->items->type == AV_UNION)
                       ? 2
                       : 0;
        default:
            return 2;
        }
    }
    switch (w->type) {
    case AV_INT:
        return r->type == AV_LONG || r->type == AV_FLOAT || r->type == AV_DOUBLE;
    case AV_LONG:
        return r->type == AV_FLOAT || r->type == AV_DOUBLE;
    case AV_FLOAT:
        return r->type == AV_DOUBLE;
    case AV_STRING:
        return r->type == AV_BYTES;
    case AV_BYTES:
        return r->type == AV_STRING;
    default:
        return 0;
    }
}

static char *path_join(pcc *c, const char *prefix, const char *name)
{
    size_t n = strlen(prefix) + strlen(name);
    char *s = arena_alloc(&c->p->store, n + 1);
    memcpy(s, prefix, strlen(prefix));
    memcpy(s + strlen(prefix), name, strlen(name) + 1);
    return s;
}

static int slot_for(pcc *c, const char *path)
{
    int slot = layout_find(c->l, path);
    if (slot < 0) {
        pcerr(c, "reader field %s is not in the layout (was this reader schema unified?)", path);
        return -1;
    }
    if (!(c->l->fields[slot].task_mask & ((uint64_t)1 << c->p->task))) {
        pcerr(c, "layout field %s does not belong to task %s", path, c->l->task_names[c->p->task]);
        return -1;
    }
    return slot;
}

/* Slots a reader value at path fills: one, or all of a flattened record's. */
static int collect_slots(pcc *c, const av_schema *r, const char *path, int **slots, int *n)
{
    int nullable;
    r = unify_strip_null(r, &nullable);
    if (r->type == AV_MAP)
        return 0;
    if (r->type == AV_RECORD) {
        char *pre = path_join(c, path, ".");
        for (int i = 0; i < r->n_fields; i++)
            if (collect_slots(c, r->fields[i].type, path_join(c, pre, r->fields[i].name), slots,
                              n) < 0)
                return -1;
        return 0;
    }
    int s = slot_for(c, path);
    if (s < 0)
        return -1;
    *slots = xrealloc(*slots, (size_t)(*n + 1) * sizeof(int));
    (*slots)[(*n)++] = s;
    return 0;
}

static int dst_class(field_kind k)
{
    /* 0 integer, 1 double, 2 string */
    switch (k) {
    case FK_LONG:
    case FK_LONG_ARRAY:
        return 0;
    case FK_DOUBLE:
    case FK_DOUBLE_ARRAY:
        return 1;
    default:
        return 2;
    }
}

/* Fill op o to read writer scalar w as reader scalar r into kind dst. */
static int scalar_op(pcc *c, op *o, const av_schema *w, const av_schema *r, field_kind dst,
                     const char *path)
{
    o->dst = dst;
    o->where = path;
    int cls = dst_class(dst);
    if (!resolvable(w, r))
        goto mismatch;
    if (r->logical == AV_LOGICAL_DECIMAL) {
        o->code = OP_DECIMAL;
        o->size = w->type == AV_FIXED ? w->size : -1;
        o->scale = w->logical == AV_LOGICAL_DECIMAL ? w->scale : r->scale;
        return cls == 1 ? 0 : -1;
    }
    switch (w->type) {
    case AV_BOOLEAN:
        o->code = OP_BOOL;
        break;
    case AV_INT:
        o->code = OP_INT;
        break;
    case AV_LONG:
        o->code = OP_LONG;
        break;
    case AV_FLOAT:
        o->code = OP_FLOAT;
        break;
    case AV_DOUBLE:
        o->code = OP_DOUBLE;
        break;
    case AV_STRING:
    case AV_BYTES:
        o->code = OP_STRING;
        break;
    case AV_FIXED:
        o->code = OP_FIXED;
        o->size = w->size;
        break;
    case AV_ENUM: {
        o->code = OP_ENUM;
        o->n_enum = w->n_symbols;
        o->enum_map = xcalloc((size_t)w->n_symbols + 1, sizeof(mts_str));
        for (int i = 0; i < w->n_symbols; i++) {
            int k = -1;
            for (int j = 0; j < r->n_symbols && k < 0; j++)
                if (!strcmp(w->symbols[i], r->symbols[j]))
                    k = j;
            if (k < 0)
                k = r->enum_default;
            if (k >= 0) {
                o->enum_map[i].len = (uint32_t)strlen(r->symbols[k]);
                o->enum_map[i].p = arena_strndup(&c->p->store, r->symbols[k], o->enum_map[i].len);
            }
        }
        break;
    }
    default:
        goto mismatch;
    }
    o->to_float = r->type == AV_FLOAT;
    int src = o->code <= OP_LONG ? 0 : o->code <= OP_DOUBLE ? 1 : 2;
    if (src == cls || (src == 0 && cls == 1))
        return 0;
mismatch:
    pcerr(c, "field %s: writer type %s cannot be read as reader type %s (slot kind %s)", path,
          av_type_name(w->type), av_type_name(r->type), field_kind_name(dst));
    return -1;
}

static int compile_record(pcc *c, prog *pg, const av_schema *w, const av_schema *wc,
                          const av_schema *r, const char *prefix);

/* wc: the plan's own copy of w (same shape), which outlives the caller's. */
static int emit_skip(pcc *c, prog *pg, const av_schema *wc, const char *path)
{
    op *o = emit(pg, OP_SKIP);
    o->skip = wc;
    o->where = path;
    return 0;
}

static int compile_value(pcc *c, prog *pg, const av_schema *w, const av_schema *wc,
                         const av_schema *r, const char *path)
{
    if (w->type == AV_UNION) {
        op *o = emit(pg, OP_UNION);
        o->where = path;
        int n = w->n_branches, ok = 0;
        prog *br = xcalloc((size_t)n, sizeof(prog));
        o->branches = br;
        o->n_branches = n;
        for (int i = 0; i < n; i++) {
            if (compile_value(c, &br[i], w->branches[i], wc->branches[i], r, path) == 0) {
                ok++;
            } else {
                free_prog(&br[i]);
                op *f = emit(&br[i], OP_FAIL);
                f->fail = DR_BAD_UNION;
                f->where = path;
            }
        }
        /* A branch the reader cannot take fails at run time (Avro spec);
         * a union of which no branch fits is a compile error. */
        return ok ? 0 : -1;
    }
    int nullable;
    const av_schema *rs = unify_strip_null(r, &nullable);
    if (w->type == AV_NULL) {
        if (!nullable) {
            pcerr(c, "field %s: writer null cannot be read by a reader that is not nullable", path);
            return -1;
        }
        op *o = emit(pg, OP_NULL);
        o->where = path;
        return collect_slots(c, rs, path, &o->slots, &o->n_slots);
    }
    if (rs->type == AV_UNION) {
        /* first branch of the same type, else first one reachable by promotion */
        const av_schema *pick = NULL;
        for (int pass = 2; pass >= 1 && !pick; pass--)
            for (int i = 0; i < rs->n_branches && !pick; i++)
                if (resolvable(w, rs->branches[i]) == pass)
                    pick = rs->branches[i];
        if (!pick) {
            pcerr(c, "field %s: writer type %s matches no branch of the reader union", path,
                  av_type_name(w->type));
            return -1;
        }
        rs = pick;
    }
    if (rs->type == AV_RECORD) {
        if (w->type != AV_RECORD || !names_match(w, rs)) {
            pcerr(c, "field %s: writer %s %s cannot be read as record %s", path,
                  av_type_name(w->type), w->name ? w->name : "", rs->name);
            return -1;
        }
        return compile_record(c, pg, w, wc, rs, path_join(c, path, "."));
    }
    if (rs->type == AV_MAP) {
        if (!resolvable(w, rs)) {
            pcerr(c, "field %s: writer %s cannot be read as a map", path, av_type_name(w->type));
            return -1;
        }
        return emit_skip(c, pg, wc, path);
    }
    int slot = slot_for(c, path);
    if (slot < 0)
        return -1;
    field_kind dst = c->l->fields[slot].kind;
    if (rs->type == AV_ARRAY) {
        if (w->type != AV_ARRAY || dst < FK_LONG_ARRAY) {
            pcerr(c, "field %s: writer %s cannot be read as an array", path, av_type_name(w->type));
            return -1;
        }
        op *o = emit(pg, OP_ARRAY);
        o->slot = slot;
        o->dst = dst;
        o->where = path;
        o->elem = xcalloc(1, sizeof(op));
        o->elem->slot = -1;
        return scalar_op(c, o->elem, w->items, rs->items, dst, path);
    }
    if (dst >= FK_LONG_ARRAY) {
        pcerr(c, "field %s: scalar for an array slot", path);
        return -1;
    }
    op *o = emit(pg, OP_BOOL);
    o->slot = slot;
    return scalar_op(c, o, w, rs, dst, path);
}

/* Reader default for a reader field the writer lacks, into the template. */
static int apply_default(pcc *c, const av_schema *r, const json_t *d, const char *path)
{
    int nullable;
    const av_schema *rs = unify_strip_null(r, &nullable);
    if (rs->type == AV_MAP)
        return 0;
    if (rs->type == AV_RECORD) {
        char *pre = path_join(c, path, ".");
        for (int i = 0; i < rs->n_fields; i++) {
            const av_field *f = &rs->fields[i];
            const json_t *sub = json_is_null(d) ? d : json_object_get(d, f->name);
            if (!sub)
                sub = f->default_value;
            if (!sub) {
                pcerr(c, "reader field %s%s: the default of %s has no value for it", pre, f->name,
                      path);
                return -1;
            }
            if (json_is_null(d)) {
                int *slots = NULL, n = 0;
                int rc = collect_slots(c, f->type, path_join(c, pre, f->name), &slots, &n);
                for (int k = 0; k < n; k++) {
                    memset(&c->p->tmpl[slots[k]], 0, sizeof(mts_value));
                    c->p->tmpl[slots[k]].is_null = 1;
                }
                free(slots);
                if (rc < 0)
                    return -1;
                continue;
            }
            if (apply_default(c, f->type, sub, path_join(c, pre, f->name)) < 0)
                return -1;
        }
        return 0;
    }
    int slot = slot_for(c, path);
    if (slot < 0)
        return -1;
    char sub[256];
    if (unify_default_value(r, d, c->l->fields[slot].kind, &c->p->store, &c->p->tmpl[slot], sub,
                            sizeof(sub)) < 0) {
        pcerr(c, "reader field %s: %s", path, sub);
        return -1;
    }
    return 0;
}

static int compile_record(pcc *c, prog *pg, const av_schema *w, const av_schema *wc,
                          const av_schema *r, const char *prefix)
{
    char *matched = xcalloc((size_t)r->n_fields + 1, 1);
    int rc = 0;
    for (int i = 0; i < w->n_fields && rc == 0; i++) {
        const av_field *wf = &w->fields[i];
        int ri = -1;
        for (int k = 0; k < r->n_fields && ri < 0; k++) {
            if (!strcmp(r->fields[k].name, wf->name))
                ri = k;
            for (int a = 0; a < r->fields[k].n_aliases && ri < 0; a++)
                if (!strcmp(r->fields[k].aliases[a], wf->name))
                    ri = k;
        }
        if (ri >= 0 && matched[ri]) {
            pcerr(c, "writer fields %s%s and another both match reader field %s%s", prefix,
                  wf->name, prefix, r->fields[ri].name);
            rc = -1;
        } else if (ri >= 0) {
            matched[ri] = 1;
            rc = compile_value(c, pg, wf->type, wc->fields[i].type, r->fields[ri].type,
                               path_join(c, prefix, r->fields[ri].name));
        } else {
            rc = emit_skip(c, pg, wc->fields[i].type, path_join(c, prefix, wf->name));
        }
    }
    for (int k = 0; k < r->n_fields && rc == 0; k++) {
        const av_field *rf = &r->fields[k];
        if (matched[k])
            continue;
        int nullable;
        if (unify_strip_null(rf->type, &nullable)->type == AV_MAP)
            continue;
        if (!rf->default_value) {
            pcerr(c, "reader field %s%s has no default and writer %s lacks it", prefix, rf->name,
                  w->name);
            rc = -1;
            break;
        }
        rc = apply_default(c, rf->type, rf->default_value, path_join(c, prefix, rf->name));
    }
    free(matched);
    return rc;
}

void plan_free(mts_plan *p)
{
    if (!p)
        return;
    free_prog(&p->main);
    free(p->tmpl);
    arena_free(&p->store);
    av_schema_free(p->skip_root);
    free(p);
}

mts_plan *plan_compile(const av_schema *writer, const av_schema *reader, const mts_layout *layout,
                       int task, char *err, size_t errlen)
{
    if (!writer || !reader || writer->type != AV_RECORD || reader->type != AV_RECORD) {
        snprintf(err, errlen, "writer and reader schemas must be records");
        return NULL;
    }
    if (task < 0 || task >= layout->n_tasks) {
        snprintf(err, errlen, "task %d is not in the layout", task);
        return NULL;
    }
    if (!names_match(writer, reader)) {
        snprintf(err, errlen, "writer record %s does not match reader record %s (names or aliases)",
                 writer->name, reader->name);
        return NULL;
    }
    mts_plan *p = xcalloc(1, sizeof(*p));
    p->task = task;
    p->n_fields = layout->n_fields;
    p->tmpl = xcalloc((size_t)layout->n_fields + 1, sizeof(mts_value));
    for (int i = 0; i < layout->n_fields; i++)
        p->tmpl[i] = layout->fields[i].dflt;
    arena_init(&p->store, 4096);
    /* OP_SKIP keeps type pointers: they point into the plan's own copy of
     * the writer (same shape; the canonical form keeps every type that
     * matters for skipping), so the caller may free its writer schema. */
    char *text = av_canonical_form(writer);
    char sub[256];
    p->skip_root = av_schema_parse(text, sub, sizeof(sub));
    free(text);
    if (!p->skip_root) {
        snprintf(err, errlen, "re-parsing the writer schema: %s", sub);
        plan_free(p);
        return NULL;
    }
    pcc c = {.p = p, .l = layout, .err = err, .errlen = errlen};
    if (compile_record(&c, &p->main, writer, p->skip_root, reader, "") < 0) {
        plan_free(p);
        return NULL;
    }
    return p;
}

/* ------------------------------------------------------------------------ */
/* Runtime */

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    mts_arena *arena;
    const char *where; /* field of the failure */
} cur;

static inline decode_reason rd_long(cur *c, int64_t *out)
{
    size_t i = c->pos;
    if (i < c->len && c->p[i] < 0x80) { /* one-byte fast path */
        uint64_t u = c->p[i];
        *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
        c->pos = i + 1;
        return DR_OK;
    }
    uint64_t u = 0;
    for (int shift = 0;; shift += 7) {
        if (i >= c->len)
            return DR_TRUNCATED;
        if (shift > 63)
            return DR_BAD_VALUE;
        uint8_t b = c->p[i++];
        if (shift == 63 && (b & 0x7e))
            return DR_BAD_VALUE;
        u |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    c->pos = i;
    *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return DR_OK;
}

/* A length prefix checked against the bytes left (and the string limit). */
static inline decode_reason rd_len(cur *c, size_t *n, int limit)
{
    int64_t v;
    decode_reason r = rd_long(c, &v);
    if (r)
        return r;
    if (v < 0 || (uint64_t)v > c->len - c->pos)
        return DR_BAD_LENGTH;
    if (limit && (uint64_t)v > PLAN_MAX_STRING)
        return DR_TOO_LONG;
    *n = (size_t)v;
    return DR_OK;
}

typedef struct {
    int64_t l;
    double d;
    mts_str s;
} scalar;

static decode_reason rd_scalar(const op *o, cur *c, scalar *out)
{
    decode_reason r;
    size_t n;
    switch (o->code) {
    case OP_BOOL:
        if (c->pos >= c->len)
            return DR_TRUNCATED;
        if (c->p[c->pos] > 1)
            return DR_BAD_VALUE;
        out->l = c->p[c->pos++];
        return DR_OK;
    case OP_INT:
        if ((r = rd_long(c, &out->l)))
            return r;
        if (out->l < INT32_MIN || out->l > INT32_MAX)
            return DR_BAD_VALUE;
        return DR_OK;
    case OP_LONG:
        return rd_long(c, &out->l);
    case OP_FLOAT: {
        if (c->len - c->pos < 4)
            return DR_TRUNCATED;
        const uint8_t *b = c->p + c->pos;
        uint32_t u =
            (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        float f;
        memcpy(&f, &u, 4);
        c->pos += 4;
        if (!isfinite(f))
            return DR_NOT_FINITE;
        out->d = f;
        return DR_OK;
    }
    case OP_DOUBLE: {
        if (c->len - c->pos < 8)
            return DR_TRUNCATED;
        uint64_t u;
        memcpy(&u, c->p + c->pos, 8); /* little-endian host (x86-64, arm64) */
        memcpy(&out->d, &u, 8);
        c->pos += 8;
        if (!isfinite(out->d))
            return DR_NOT_FINITE;
        return DR_OK;
    }
    case OP_STRING:
    case OP_FIXED: {
        if (o->code == OP_FIXED) {
            n = (size_t)o->size;
            if (n > c->len - c->pos)
                return DR_TRUNCATED;
        } else if ((r = rd_len(c, &n, 1))) {
            return r;
        }
        char *s = arena_alloc(c->arena, n + 1);
        memcpy(s, c->p + c->pos, n);
        s[n] = '\0';
        c->pos += n;
        out->s.p = s;
        out->s.len = (uint32_t)n;
        return DR_OK;
    }
    case OP_DECIMAL:
        if (o->size >= 0) {
            n = (size_t)o->size;
            if (n > c->len - c->pos)
                return DR_TRUNCATED;
        } else if ((r = rd_len(c, &n, 1))) {
            return r;
        }
        out->d = unify_decimal_value(c->p + c->pos, n, o->scale);
        c->pos += n;
        if (!isfinite(out->d))
            return DR_NOT_FINITE;
        return DR_OK;
    case OP_ENUM:
        if ((r = rd_long(c, &out->l)))
            return r;
        if (out->l < 0 || out->l >= o->n_enum || !o->enum_map[out->l].p)
            return DR_BAD_ENUM;
        out->s = o->enum_map[out->l];
        return DR_OK;
    default:
        return DR_BAD_VALUE;
    }
}

/* Value of a scalar in the op's destination class. */
static inline void to_long(const op *o, const scalar *s, int64_t *v)
{
    *v = s->l;
}

static inline double to_double(const op *o, const scalar *s)
{
    double d = o->code <= OP_LONG ? (double)s->l : s->d;
    return o->to_float ? (double)(float)d : d;
}

static decode_reason skip_value(const av_schema *s, cur *c, int depth);

static decode_reason skip_blocks(const av_schema *s, cur *c, int depth)
{
    decode_reason r;
    uint64_t total = 0;
    for (;;) {
        int64_t count;
        if ((r = rd_long(c, &count)))
            return r;
        if (count == 0)
            return DR_OK;
        if (count < 0) {
            size_t bytes;
            if (count == INT64_MIN)
                return DR_BAD_LENGTH;
            if ((r = rd_len(c, &bytes, 0)))
                return r;
            c->pos += bytes; /* the block's byte size lets us jump over it */
            continue;
        }
        /* every item (or map entry) takes at least one byte, except null
         * items; bound those by the array limit */
        int zero = s->type == AV_ARRAY && s->items->type == AV_NULL;
        if (!zero && (uint64_t)count > c->len - c->pos)
            return DR_BAD_LENGTH;
        total += (uint64_t)count;
        if (zero && total > PLAN_MAX_ARRAY)
            return DR_TOO_LONG;
        for (int64_t i = 0; i < count; i++) {
            if (s->type == AV_MAP) {
                size_t kn;
                if ((r = rd_len(c, &kn, 0)))
                    return r;
                c->pos += kn;
            }
            if ((r = skip_value(s->items, c, depth + 1)))
                return r;
        }
    }
}

static decode_reason skip_value(const av_schema *s, cur *c, int depth)
{
    decode_reason r;
    int64_t v;
    size_t n;
    if (depth > PLAN_MAX_DEPTH)
        return DR_TOO_LONG;
    switch (s->type) {
    case AV_NULL:
        return DR_OK;
    case AV_BOOLEAN:
        if (c->pos >= c->len)
            return DR_TRUNCATED;
        if (c->p[c->pos++] > 1)
            return DR_BAD_VALUE;
        return DR_OK;
    case AV_INT:
    case AV_LONG:
        return rd_long(c, &v);
    case AV_ENUM:
        if ((r = rd_long(c, &v)))
            return r;
        return v < 0 || v >= s->n_symbols ? DR_BAD_ENUM : DR_OK;
    case AV_FLOAT:
    case AV_DOUBLE:
    case AV_FIXED:
        n = s->type == AV_FLOAT ? 4 : s->type == AV_DOUBLE ? 8 : (size_t)s->size;
        if (n > c->len - c->pos)
            return DR_TRUNCATED;
        c->pos += n;
        return DR_OK;
    case AV_STRING:
    case AV_BYTES:
        if ((r = rd_len(c, &n, 0)))
            return r;
        c->pos += n;
        return DR_OK;
    case AV_RECORD:
        for (int i = 0; i < s->n_fields; i++)
            if ((r = skip_value(s->fields[i].type, c, depth + 1)))
                return r;
        return DR_OK;
    case AV_UNION:
        if ((r = rd_long(c, &v)))
            return r;
        if (v < 0 || v >= s->n_branches)
            return DR_BAD_UNION;
        return skip_value(s->branches[v], c, depth + 1);
    case AV_ARRAY:
    case AV_MAP:
        return skip_blocks(s, c, depth);
    }
    return DR_BAD_VALUE;
}

static decode_reason run_array(const op *o, cur *c, mts_value *v)
{
    const op *e = o->elem;
    size_t el = o->dst == FK_STRING_ARRAY ? sizeof(mts_str) : 8;
    uint8_t *arr = NULL;
    size_t total = 0;
    decode_reason r;
    for (;;) {
        int64_t count;
        if ((r = rd_long(c, &count)))
            return r;
        if (count == 0)
            break;
        size_t bytes = SIZE_MAX; /* the block's byte size, when it has one */
        if (count < 0) {
            if (count == INT64_MIN)
                return DR_BAD_LENGTH;
            count = -count;
            if ((r = rd_len(c, &bytes, 0)))
                return r;
        }
        size_t block_start = c->pos;
        /* every element type a row holds takes at least one byte, except
         * fixed(0), which the array limit bounds */
        if ((uint64_t)count > c->len - c->pos && !(e->code == OP_FIXED && e->size == 0))
            return DR_BAD_LENGTH;
        if ((uint64_t)count > PLAN_MAX_ARRAY - total)
            return DR_TOO_LONG;
        uint8_t *grown = arena_alloc(c->arena, (total + (size_t)count) * el);
        if (total)
            memcpy(grown, arr, total * el);
        arr = grown;
        for (int64_t i = 0; i < count; i++, total++) {
            scalar s;
            if ((r = rd_scalar(e, c, &s)))
                return r;
            switch (o->dst) {
            case FK_LONG_ARRAY:
                to_long(e, &s, &((int64_t *)arr)[total]);
                break;
            case FK_DOUBLE_ARRAY:
                ((double *)arr)[total] = to_double(e, &s);
                break;
            default:
                ((mts_str *)arr)[total] = s.s;
            }
        }
        /* A byte size that disagrees with the items is a malformed block (a
         * reader that skips by it would see different data). */
        if (bytes != SIZE_MAX && c->pos - block_start != bytes)
            return DR_BAD_LENGTH;
    }
    v->present = 1;
    v->is_null = 0;
    v->n = (uint32_t)total;
    v->u.la = (const int64_t *)arr;
    return DR_OK;
}

static decode_reason run(const prog *pg, cur *c, mts_value *row)
{
    decode_reason r;
    for (int i = 0; i < pg->n; i++) {
        const op *o = &pg->ops[i];
        mts_value *v = o->slot >= 0 ? &row[o->slot] : NULL;
        switch (o->code) {
        case OP_ARRAY:
            r = run_array(o, c, v);
            break;
        case OP_UNION: {
            int64_t b;
            if ((r = rd_long(c, &b)))
                break;
            if (b < 0 || b >= o->n_branches) {
                r = DR_BAD_UNION;
                break;
            }
            r = run(&o->branches[b], c, row);
            if (r)
                return r;
            continue;
        }
        case OP_NULL:
            for (int k = 0; k < o->n_slots; k++) {
                mts_value *nv = &row[o->slots[k]];
                memset(nv, 0, sizeof(*nv));
                nv->present = 1;
                nv->is_null = 1;
            }
            continue;
        case OP_SKIP:
            r = skip_value(o->skip, c, 0);
            break;
        case OP_FAIL:
            r = o->fail;
            break;
        default: {
            scalar s;
            if ((r = rd_scalar(o, c, &s)))
                break;
            v->present = 1;
            v->is_null = 0;
            if (o->dst == FK_LONG) {
                v->n = 0;
                v->u.l = s.l;
            } else if (o->dst == FK_DOUBLE) {
                v->n = 0;
                v->u.d = to_double(o, &s);
            } else {
                v->n = s.s.len;
                v->u.s = s.s.p;
            }
            continue;
        }
        }
        if (r) {
            c->where = o->where;
            return r;
        }
    }
    return DR_OK;
}

decode_reason plan_decode(const mts_plan *p, const uint8_t *data, size_t len, mts_row *row,
                          mts_arena *arena, char *err, size_t errlen)
{
    memcpy(row->v, p->tmpl, (size_t)p->n_fields * sizeof(mts_value));
    row->task = p->task;
    cur c = {.p = data, .len = data ? len : 0, .pos = 0, .arena = arena, .where = NULL};
    decode_reason r = run(&p->main, &c, row->v);
    if (r == DR_OK && c.pos != c.len)
        r = DR_TRAILING_BYTES;
    if (r && err && errlen) {
        if (r == DR_TRAILING_BYTES)
            snprintf(err, errlen, "%s: %zu bytes left after the record (of %zu)",
                     decode_reason_name(r), c.len - c.pos, c.len);
        else
            snprintf(err, errlen, "%s at byte %zu of %zu, field %s", decode_reason_name(r), c.pos,
                     c.len, c.where ? c.where : "?");
    }
    return r;
}
