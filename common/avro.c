/* avro.c - Avro schema parser, Parsing Canonical Form, CRC-64-AVRO and the
 * generic binary <-> JSON codec.
 *
 * How it works. The parser walks the schema JSON (jansson) depth first. Every
 * node is allocated inside an av_node wrapper whose `next` pointer chains all
 * nodes of one parse; when parsing succeeds the root heads that chain, so
 * av_schema_free(root) is one walk and shared or recursive named types are
 * freed exactly once. Named types are registered by full name before their
 * children are parsed, which makes recursive references work. Errors carry
 * the path to the offending node, e.g. "JobView.device: ...".
 *
 * The codec never trusts a length: a string, bytes, array or map count is
 * compared with the bytes left before anything is allocated for it, and the
 * recursion depth is bounded so hostile data for a recursive schema cannot
 * exhaust the stack. */
#include "avro.h"

#include <inttypes.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AV_MAX_DEPTH 256               /* nesting of data values (recursive schemas) */
#define AV_MAX_ZERO_SIZE_ITEMS 1000000 /* items of a type that encodes in 0 bytes */

typedef struct av_node {
    av_schema s; /* first: an av_schema * is an av_node * */
    struct av_node *next;
} av_node;

/* ------------------------------------------------------------------------ */
/* Parser */

typedef struct {
    av_node *nodes;    /* every node allocated so far (chain) */
    av_schema **named; /* (n_named) registered named types */
    int n_named, cap_named;
    char path[512]; /* where we are, for messages */
    char *err;
    size_t errlen;
    int failed;
} pctx;

static void perr(pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void perr(pctx *c, const char *fmt, ...)
{
    if (c->failed)
        return;
    c->failed = 1;
    if (!c->err || !c->errlen)
        return;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->path[0])
        snprintf(c->err, c->errlen, "%s: %s", c->path, msg);
    else
        snprintf(c->err, c->errlen, "%s", msg);
}

static size_t path_push(pctx *c, const char *sep, const char *part)
{
    size_t old = strlen(c->path);
    snprintf(c->path + old, sizeof(c->path) - old, "%s%s", old ? sep : "", part);
    return old;
}

static void path_pop(pctx *c, size_t old)
{
    c->path[old] = '\0';
}

static av_schema *new_node(pctx *c, av_type t)
{
    av_node *n = xcalloc(1, sizeof(*n));
    n->s.type = t;
    n->s.enum_default = -1;
    n->next = c->nodes;
    c->nodes = n;
    return &n->s;
}

static void free_node_contents(av_schema *s)
{
    free(s->name);
    for (int i = 0; i < s->n_aliases; i++)
        free(s->aliases[i]);
    free(s->aliases);
    for (int i = 0; i < s->n_fields; i++) {
        av_field *f = &s->fields[i];
        free(f->name);
        for (int j = 0; j < f->n_aliases; j++)
            free(f->aliases[j]);
        free(f->aliases);
        if (f->default_value)
            json_decref(f->default_value);
    }
    free(s->fields);
    for (int i = 0; i < s->n_symbols; i++)
        free(s->symbols[i]);
    free(s->symbols);
    free(s->branches);
}

static void free_chain(av_node *n)
{
    while (n) {
        av_node *next = n->next;
        free_node_contents(&n->s);
        free(n);
        n = next;
    }
}

void av_schema_free(av_schema *root)
{
    if (root)
        free_chain((av_node *)root);
}

static const struct {
    const char *name;
    av_type type;
} primitives[] = {{"null", AV_NULL},   {"boolean", AV_BOOLEAN}, {"int", AV_INT},
                  {"long", AV_LONG},   {"float", AV_FLOAT},     {"double", AV_DOUBLE},
                  {"bytes", AV_BYTES}, {"string", AV_STRING}};

static int primitive_type(const char *name, av_type *out)
{
    for (size_t i = 0; i < ARRAY_LEN(primitives); i++)
        if (!strcmp(primitives[i].name, name)) {
            *out = primitives[i].type;
            return 1;
        }
    return 0;
}

static const char *type_name(av_type t)
{
    static const char *names[] = {"null",   "boolean", "int",  "long",  "float", "double", "bytes",
                                  "string", "record",  "enum", "array", "map",   "union",  "fixed"};
    return (unsigned)t < ARRAY_LEN(names) ? names[t] : "?";
}

/* [A-Za-z_][A-Za-z0-9_]* */
static int valid_simple_name(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
        if (!alpha && !(i > 0 && ch >= '0' && ch <= '9'))
            return 0;
    }
    return 1;
}

static int valid_full_name(const char *s)
{
    const char *p = s;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!valid_simple_name(p, n))
            return 0;
        if (!dot)
            return 1;
        p = dot + 1;
    }
}

static char *full_name(const char *name, const char *ns)
{
    if (strchr(name, '.') || !ns || !*ns)
        return xstrdup(name);
    size_t n = strlen(ns) + 1 + strlen(name) + 1;
    char *s = xmalloc(n);
    snprintf(s, n, "%s.%s", ns, name);
    return s;
}

static av_schema *lookup_named(pctx *c, const char *fullname)
{
    for (int i = 0; i < c->n_named; i++)
        if (!strcmp(c->named[i]->name, fullname))
            return c->named[i];
    return NULL;
}

static av_schema *resolve_reference(pctx *c, const char *name, const char *ns)
{
    if (!strchr(name, '.') && ns && *ns) {
        char *fn = full_name(name, ns);
        av_schema *s = lookup_named(c, fn);
        free(fn);
        if (s)
            return s;
    }
    return lookup_named(c, name);
}

static const char *get_string(pctx *c, json_t *obj, const char *key, int required)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            perr(c, "missing \"%s\"", key);
        return NULL;
    }
    if (!json_is_string(v)) {
        perr(c, "\"%s\" must be a string", key);
        return NULL;
    }
    return json_string_value(v);
}

/* Named type header: name, namespace, aliases. Returns the namespace for
 * children (a fresh copy, the caller frees it) via *child_ns. */
static int parse_name(pctx *c, json_t *j, av_schema *s, const char *ns, char **child_ns)
{
    const char *name = get_string(c, j, "name", 1);
    if (!name)
        return -1;
    json_t *jns = json_object_get(j, "namespace");
    if (jns && !json_is_string(jns) && !json_is_null(jns)) {
        perr(c, "\"namespace\" must be a string");
        return -1;
    }
    if (jns)
        ns = json_is_string(jns) ? json_string_value(jns) : "";
    if (ns && *ns && !valid_full_name(ns)) {
        perr(c, "invalid namespace \"%s\"", ns);
        return -1;
    }
    if (!valid_full_name(name)) {
        perr(c, "invalid name \"%s\"", name);
        return -1;
    }
    s->name = full_name(name, ns);
    const char *dot = strrchr(s->name, '.');
    *child_ns = dot ? xstrndup(s->name, (size_t)(dot - s->name)) : xstrdup("");
    av_type prim;
    const char *last = dot ? dot + 1 : s->name;
    if (primitive_type(last, &prim)) {
        perr(c, "name \"%s\" redefines a primitive type", s->name);
        return -1;
    }
    if (lookup_named(c, s->name)) {
        perr(c, "type \"%s\" is defined twice", s->name);
        return -1;
    }
    if (c->n_named == c->cap_named) {
        c->cap_named = c->cap_named ? c->cap_named * 2 : 8;
        c->named = xrealloc(c->named, (size_t)c->cap_named * sizeof(*c->named));
    }
    c->named[c->n_named++] = s;
    json_t *al = json_object_get(j, "aliases");
    if (al) {
        if (!json_is_array(al)) {
            perr(c, "\"aliases\" must be an array of names");
            return -1;
        }
        s->aliases = xcalloc(json_array_size(al), sizeof(char *));
        for (size_t i = 0; i < json_array_size(al); i++) {
            json_t *a = json_array_get(al, i);
            if (!json_is_string(a) || !valid_full_name(json_string_value(a))) {
                perr(c, "alias %zu of \"%s\" is not a valid name", i, s->name);
                return -1;
            }
            s->aliases[s->n_aliases++] = full_name(json_string_value(a), *child_ns);
        }
    }
    return 0;
}

static av_schema *parse_type(pctx *c, json_t *j, const char *ns, int depth);
static int default_ok(const av_schema *s, json_t *v, int depth);

static av_schema *parse_record(pctx *c, json_t *j, const char *ns, int depth)
{
    av_schema *s = new_node(c, AV_RECORD);
    char *cns = NULL;
    if (parse_name(c, j, s, ns, &cns) < 0) {
        free(cns);
        return NULL;
    }
    size_t old = path_push(c, ".", strrchr(s->name, '.') ? strrchr(s->name, '.') + 1 : s->name);
    json_t *fields = json_object_get(j, "fields");
    if (!json_is_array(fields)) {
        perr(c, "record needs a \"fields\" array");
        goto fail;
    }
    s->fields = xcalloc(json_array_size(fields), sizeof(av_field));
    for (size_t i = 0; i < json_array_size(fields); i++) {
        json_t *jf = json_array_get(fields, i);
        char idx[32];
        snprintf(idx, sizeof(idx), "fields[%zu]", i);
        if (!json_is_object(jf)) {
            size_t o2 = path_push(c, ".", idx);
            perr(c, "field must be an object");
            path_pop(c, o2);
            goto fail;
        }
        const char *fname = json_string_value(json_object_get(jf, "name"));
        size_t o2 = path_push(c, ".", fname ? fname : idx);
        if (!fname) {
            perr(c, "field needs a string \"name\"");
            goto fail_field;
        }
        if (!valid_simple_name(fname, strlen(fname))) {
            perr(c, "invalid field name \"%s\"", fname);
            goto fail_field;
        }
        for (int k = 0; k < s->n_fields; k++)
            if (!strcmp(s->fields[k].name, fname)) {
                perr(c, "duplicate field name \"%s\"", fname);
                goto fail_field;
            }
        av_field *f = &s->fields[s->n_fields++];
        f->name = xstrdup(fname);
        json_t *al = json_object_get(jf, "aliases");
        if (al) {
            if (!json_is_array(al)) {
                perr(c, "\"aliases\" must be an array of names");
                goto fail_field;
            }
            f->aliases = xcalloc(json_array_size(al), sizeof(char *));
            for (size_t k = 0; k < json_array_size(al); k++) {
                const char *a = json_string_value(json_array_get(al, k));
                if (!a || !valid_simple_name(a, strlen(a))) {
                    perr(c, "field alias %zu is not a valid name", k);
                    goto fail_field;
                }
                f->aliases[f->n_aliases++] = xstrdup(a);
            }
        }
        json_t *order = json_object_get(jf, "order");
        if (order) {
            const char *o = json_string_value(order);
            if (!o || (strcmp(o, "ascending") && strcmp(o, "descending") && strcmp(o, "ignore"))) {
                perr(c, "\"order\" must be ascending, descending or ignore");
                goto fail_field;
            }
        }
        json_t *jt = json_object_get(jf, "type");
        if (!jt) {
            perr(c, "field needs a \"type\"");
            goto fail_field;
        }
        f->type = parse_type(c, jt, cns, depth + 1);
        if (!f->type)
            goto fail_field;
        json_t *d = json_object_get(jf, "default");
        if (d) {
            if (!default_ok(f->type, d, 0)) {
                char *txt = json_dumps(d, JSON_ENCODE_ANY | JSON_COMPACT);
                perr(c, "default %s does not match the field's type %s", txt ? txt : "?",
                     type_name(f->type->type));
                free(txt);
                goto fail_field;
            }
            f->default_value = json_incref(d);
        }
        path_pop(c, o2);
        continue;
    fail_field:
        path_pop(c, o2);
        goto fail;
    }
    path_pop(c, old);
    free(cns);
    return s;
fail:
    path_pop(c, old);
    free(cns);
    return NULL;
}

static av_schema *parse_enum(pctx *c, json_t *j, const char *ns)
{
    av_schema *s = new_node(c, AV_ENUM);
    char *cns = NULL;
    int rc = parse_name(c, j, s, ns, &cns);
    free(cns);
    if (rc < 0)
        return NULL;
    json_t *syms = json_object_get(j, "symbols");
    if (!json_is_array(syms)) {
        perr(c, "enum \"%s\" needs a \"symbols\" array", s->name);
        return NULL;
    }
    s->symbols = xcalloc(json_array_size(syms), sizeof(char *));
    for (size_t i = 0; i < json_array_size(syms); i++) {
        const char *sym = json_string_value(json_array_get(syms, i));
        if (!sym || !valid_simple_name(sym, strlen(sym))) {
            perr(c, "enum \"%s\": symbol %zu is not a valid name", s->name, i);
            return NULL;
        }
        for (int k = 0; k < s->n_symbols; k++)
            if (!strcmp(s->symbols[k], sym)) {
                perr(c, "enum \"%s\": duplicate symbol \"%s\"", s->name, sym);
                return NULL;
            }
        s->symbols[s->n_symbols++] = xstrdup(sym);
    }
    json_t *d = json_object_get(j, "default");
    if (d) {
        const char *ds = json_string_value(d);
        for (int k = 0; ds && k < s->n_symbols; k++)
            if (!strcmp(s->symbols[k], ds))
                s->enum_default = k;
        if (s->enum_default < 0) {
            perr(c, "enum \"%s\": default is not one of its symbols", s->name);
            return NULL;
        }
    }
    return s;
}

static av_schema *parse_fixed(pctx *c, json_t *j, const char *ns)
{
    av_schema *s = new_node(c, AV_FIXED);
    char *cns = NULL;
    int rc = parse_name(c, j, s, ns, &cns);
    free(cns);
    if (rc < 0)
        return NULL;
    json_t *size = json_object_get(j, "size");
    if (!json_is_integer(size) || json_integer_value(size) < 0 ||
        json_integer_value(size) > INT32_MAX) {
        perr(c, "fixed \"%s\" needs a non-negative integer \"size\"", s->name);
        return NULL;
    }
    s->size = (int)json_integer_value(size);
    return s;
}

static av_schema *parse_union(pctx *c, json_t *j, const char *ns, int depth)
{
    av_schema *s = new_node(c, AV_UNION);
    size_t n = json_array_size(j);
    if (n == 0) {
        perr(c, "empty union");
        return NULL;
    }
    s->branches = xcalloc(n, sizeof(av_schema *));
    for (size_t i = 0; i < n; i++) {
        av_schema *b = parse_type(c, json_array_get(j, i), ns, depth + 1);
        if (!b)
            return NULL;
        if (b->type == AV_UNION) {
            perr(c, "union branch %zu is itself a union (nested unions are not allowed)", i);
            return NULL;
        }
        for (int k = 0; k < s->n_branches; k++) {
            const av_schema *o = s->branches[k];
            int named = b->type == AV_RECORD || b->type == AV_ENUM || b->type == AV_FIXED;
            if (o->type == b->type && (!named || !strcmp(o->name, b->name))) {
                perr(c, "union has %s \"%s\" twice", type_name(b->type),
                     named ? b->name : type_name(b->type));
                return NULL;
            }
        }
        s->branches[s->n_branches++] = b;
    }
    return s;
}

/* Logical type annotations; an invalid one is ignored as the spec requires. */
static void parse_logical(json_t *j, av_schema *s)
{
    const char *lt = json_string_value(json_object_get(j, "logicalType"));
    if (!lt)
        return;
    av_type t = s->type;
    if (!strcmp(lt, "date") && t == AV_INT)
        s->logical = AV_LOGICAL_DATE;
    else if (!strcmp(lt, "time-millis") && t == AV_INT)
        s->logical = AV_LOGICAL_TIME_MILLIS;
    else if (!strcmp(lt, "time-micros") && t == AV_LONG)
        s->logical = AV_LOGICAL_TIME_MICROS;
    else if (!strcmp(lt, "timestamp-millis") && t == AV_LONG)
        s->logical = AV_LOGICAL_TIMESTAMP_MILLIS;
    else if (!strcmp(lt, "timestamp-micros") && t == AV_LONG)
        s->logical = AV_LOGICAL_TIMESTAMP_MICROS;
    else if (!strcmp(lt, "uuid") && t == AV_STRING)
        s->logical = AV_LOGICAL_UUID;
    else if (!strcmp(lt, "decimal") && (t == AV_BYTES || t == AV_FIXED)) {
        json_t *p = json_object_get(j, "precision"), *sc = json_object_get(j, "scale");
        if (!json_is_integer(p) || (sc && !json_is_integer(sc)))
            return;
        json_int_t prec = json_integer_value(p), scale = sc ? json_integer_value(sc) : 0;
        if (prec <= 0 || scale < 0 || scale > prec || prec > 1000)
            return;
        if (t == AV_FIXED) {
            /* max digits of a signed integer of size bytes: floor(log10(2^(8n-1) - 1)) */
            double maxp = s->size > 0 ? floor(log10(2.0) * (8.0 * s->size - 1)) : 0;
            if ((double)prec > maxp)
                return;
        }
        s->logical = AV_LOGICAL_DECIMAL;
        s->precision = (int)prec;
        s->scale = (int)scale;
    }
}

static av_schema *parse_type(pctx *c, json_t *j, const char *ns, int depth)
{
    if (depth > 64) {
        perr(c, "schema nested too deeply");
        return NULL;
    }
    if (json_is_string(j)) {
        const char *name = json_string_value(j);
        av_type t;
        if (primitive_type(name, &t))
            return new_node(c, t);
        av_schema *s = resolve_reference(c, name, ns);
        if (!s)
            perr(c, "unknown type \"%s\"", name);
        return s;
    }
    if (json_is_array(j))
        return parse_union(c, j, ns, depth);
    if (!json_is_object(j)) {
        perr(c, "a type must be a string, an object or an array (union)");
        return NULL;
    }
    json_t *jt = json_object_get(j, "type");
    if (!json_is_string(jt)) {
        perr(c, "type object needs a string \"type\"");
        return NULL;
    }
    const char *t = json_string_value(jt);
    av_type prim;
    av_schema *s = NULL;
    if (primitive_type(t, &prim)) {
        s = new_node(c, prim);
        parse_logical(j, s);
    } else if (!strcmp(t, "record") || !strcmp(t, "error")) {
        s = parse_record(c, j, ns, depth);
    } else if (!strcmp(t, "enum")) {
        s = parse_enum(c, j, ns);
    } else if (!strcmp(t, "fixed")) {
        s = parse_fixed(c, j, ns);
        if (s)
            parse_logical(j, s);
    } else if (!strcmp(t, "array") || !strcmp(t, "map")) {
        int is_array = t[0] == 'a';
        const char *key = is_array ? "items" : "values";
        json_t *sub = json_object_get(j, key);
        if (!sub) {
            perr(c, "%s needs \"%s\"", t, key);
            return NULL;
        }
        s = new_node(c, is_array ? AV_ARRAY : AV_MAP);
        size_t old = path_push(c, "", is_array ? "[]" : "{}");
        s->items = parse_type(c, sub, ns, depth + 1);
        path_pop(c, old);
        if (!s->items)
            return NULL;
    } else {
        s = resolve_reference(c, t, ns);
        if (!s)
            perr(c, "unknown type \"%s\"", t);
    }
    return s;
}

/* Does JSON value v fit schema s (as a field default, or for union branch
 * selection in the encoder)? */
static int utf8_latin1_len(const char *s, size_t n, size_t *out);

static int default_ok(const av_schema *s, json_t *v, int depth)
{
    if (depth > AV_MAX_DEPTH)
        return 0;
    switch (s->type) {
    case AV_NULL:
        return json_is_null(v);
    case AV_BOOLEAN:
        return json_is_boolean(v);
    case AV_INT:
        return json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
               json_integer_value(v) <= INT32_MAX;
    case AV_LONG:
        return json_is_integer(v);
    case AV_FLOAT:
    case AV_DOUBLE:
        return json_is_number(v);
    case AV_STRING:
        return json_is_string(v);
    case AV_BYTES:
    case AV_FIXED: {
        size_t n;
        if (!json_is_string(v) ||
            utf8_latin1_len(json_string_value(v), json_string_length(v), &n) < 0)
            return 0;
        return s->type == AV_BYTES || n == (size_t)s->size;
    }
    case AV_ENUM:
        if (!json_is_string(v))
            return 0;
        for (int i = 0; i < s->n_symbols; i++)
            if (!strcmp(s->symbols[i], json_string_value(v)))
                return 1;
        return 0;
    case AV_ARRAY: {
        if (!json_is_array(v))
            return 0;
        for (size_t i = 0; i < json_array_size(v); i++)
            if (!default_ok(s->items, json_array_get(v, i), depth + 1))
                return 0;
        return 1;
    }
    case AV_MAP: {
        if (!json_is_object(v))
            return 0;
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            if (!default_ok(s->items, x, depth + 1))
                return 0;
        }
        return 1;
    }
    case AV_RECORD:
        if (!json_is_object(v))
            return 0;
        for (int i = 0; i < s->n_fields; i++) {
            json_t *x = json_object_get(v, s->fields[i].name);
            if (x ? !default_ok(s->fields[i].type, x, depth + 1) : !s->fields[i].default_value)
                return 0;
        }
        return 1;
    case AV_UNION:
        for (int i = 0; i < s->n_branches; i++)
            if (default_ok(s->branches[i], v, depth + 1))
                return 1;
        return 0;
    }
    return 0;
}

static av_schema *parse_root(json_t *j, char *err, size_t errlen)
{
    pctx c = {0};
    c.err = err;
    c.errlen = errlen;
    av_schema *root = parse_type(&c, j, "", 0);
    free(c.named);
    if (!root || c.failed) {
        if (!c.failed && err && errlen)
            snprintf(err, errlen, "invalid schema");
        free_chain(c.nodes);
        return NULL;
    }
    /* Move the root to the head of the node chain so it owns the rest. */
    av_node *r = (av_node *)root, **pp = &c.nodes;
    while (*pp != r)
        pp = &(*pp)->next;
    *pp = r->next;
    r->next = c.nodes;
    return root;
}

av_schema *av_schema_parse(const char *json_text, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_loads(json_text, JSON_DECODE_ANY, &je);
    if (!j) {
        snprintf(err, errlen, "schema JSON line %d column %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    av_schema *s = parse_root(j, err, errlen);
    json_decref(j);
    return s;
}

av_schema *av_schema_parse_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadf(f, JSON_DECODE_ANY, &je);
    fclose(f);
    if (!j) {
        snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return NULL;
    }
    char sub[400];
    av_schema *s = parse_root(j, sub, sizeof(sub));
    json_decref(j);
    if (!s)
        snprintf(err, errlen, "%s: %s", path, sub);
    return s;
}

int av_field_index(const av_schema *record, const char *name)
{
    if (!record || record->type != AV_RECORD)
        return -1;
    for (int i = 0; i < record->n_fields; i++)
        if (!strcmp(record->fields[i].name, name))
            return i;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Parsing Canonical Form and CRC-64-AVRO */

typedef struct {
    mts_buf b;
    const char **seen; /* full names already written */
    int n_seen, cap_seen;
} canon;

static void put(canon *c, const char *s)
{
    buf_append(&c->b, s, strlen(s));
}

static void put_json_string(canon *c, const char *s)
{
    buf_putc(&c->b, '"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            buf_putc(&c->b, '\\');
            buf_putc(&c->b, ch);
        } else if (ch < 0x20) {
            char e[8];
            snprintf(e, sizeof(e), "\\u%04x", ch);
            put(c, e);
        } else {
            buf_putc(&c->b, ch);
        }
    }
    buf_putc(&c->b, '"');
}

static void canon_write(canon *c, const av_schema *s)
{
    switch (s->type) {
    case AV_RECORD:
    case AV_ENUM:
    case AV_FIXED: {
        for (int i = 0; i < c->n_seen; i++)
            if (!strcmp(c->seen[i], s->name)) {
                put_json_string(c, s->name);
                return;
            }
        if (c->n_seen == c->cap_seen) {
            c->cap_seen = c->cap_seen ? 2 * c->cap_seen : 8;
            c->seen = xrealloc(c->seen, (size_t)c->cap_seen * sizeof(*c->seen));
        }
        c->seen[c->n_seen++] = s->name;
        put(c, "{\"name\":");
        put_json_string(c, s->name);
        if (s->type == AV_RECORD) {
            put(c, ",\"type\":\"record\",\"fields\":[");
            for (int i = 0; i < s->n_fields; i++) {
                put(c, i ? ",{\"name\":" : "{\"name\":");
                put_json_string(c, s->fields[i].name);
                put(c, ",\"type\":");
                canon_write(c, s->fields[i].type);
                put(c, "}");
            }
            put(c, "]}");
        } else if (s->type == AV_ENUM) {
            put(c, ",\"type\":\"enum\",\"symbols\":[");
            for (int i = 0; i < s->n_symbols; i++) {
                if (i)
                    put(c, ",");
                put_json_string(c, s->symbols[i]);
            }
            put(c, "]}");
        } else {
            char num[48];
            snprintf(num, sizeof(num), ",\"type\":\"fixed\",\"size\":%d}", s->size);
            put(c, num);
        }
        return;
    }
    case AV_ARRAY:
        put(c, "{\"type\":\"array\",\"items\":");
        canon_write(c, s->items);
        put(c, "}");
        return;
    case AV_MAP:
        put(c, "{\"type\":\"map\",\"values\":");
        canon_write(c, s->items);
        put(c, "}");
        return;
    case AV_UNION:
        put(c, "[");
        for (int i = 0; i < s->n_branches; i++) {
            if (i)
                put(c, ",");
            canon_write(c, s->branches[i]);
        }
        put(c, "]");
        return;
    default:
        put(c, "\"");
        put(c, type_name(s->type));
        put(c, "\"");
        return;
    }
}

char *av_canonical_form(const av_schema *s)
{
    canon c = {0};
    buf_init(&c.b);
    canon_write(&c, s);
    buf_putc(&c.b, '\0');
    free(c.seen);
    return (char *)c.b.data;
}

#define CRC64_AVRO_EMPTY 0xc15d213aa4d7a795ULL

uint64_t av_crc64(const void *p, size_t n)
{
    static uint64_t table[256];
    static int ready;
    if (!ready) { /* idempotent, so a benign race between threads */
        for (int i = 0; i < 256; i++) {
            uint64_t fp = (uint64_t)i;
            for (int k = 0; k < 8; k++)
                fp = (fp >> 1) ^ (CRC64_AVRO_EMPTY & (0 - (fp & 1)));
            table[i] = fp;
        }
        ready = 1;
    }
    const uint8_t *b = p;
    uint64_t fp = CRC64_AVRO_EMPTY;
    for (size_t i = 0; i < n; i++)
        fp = (fp >> 8) ^ table[(fp ^ b[i]) & 0xff];
    return fp;
}

uint64_t av_fingerprint(const av_schema *s)
{
    char *cf = av_canonical_form(s);
    uint64_t fp = av_crc64(cf, strlen(cf));
    free(cf);
    return fp;
}

/* ------------------------------------------------------------------------ */
/* Binary primitives */

void av_write_long(mts_buf *b, int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (0 - ((uint64_t)v >> 63));
    uint8_t tmp[10];
    int n = 0;
    while (u >= 0x80) {
        tmp[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    tmp[n++] = (uint8_t)u;
    buf_append(b, tmp, (size_t)n);
}

void av_write_float(mts_buf *b, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    uint8_t t[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    buf_append(b, t, 4);
}

void av_write_double(mts_buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    uint8_t t[8];
    for (int i = 0; i < 8; i++)
        t[i] = (uint8_t)(u >> (8 * i));
    buf_append(b, t, 8);
}

void av_write_bytes(mts_buf *b, const void *p, size_t n)
{
    av_write_long(b, (int64_t)n);
    buf_append(b, p, n);
}

int av_read_long(const uint8_t *p, size_t len, size_t *pos, int64_t *out)
{
    uint64_t u = 0;
    size_t i = *pos;
    for (int shift = 0;; shift += 7) {
        if (i >= len || shift > 63)
            return -1;
        uint8_t b = p[i++];
        if (shift == 63 && (b & 0x7e))
            return -1; /* more than 64 bits */
        u |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    *pos = i;
    *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return 0;
}

int av_read_int(const uint8_t *p, size_t len, size_t *pos, int32_t *out)
{
    size_t i = *pos;
    int64_t v;
    if (av_read_long(p, len, &i, &v) < 0 || v < INT32_MIN || v > INT32_MAX)
        return -1;
    *pos = i;
    *out = (int32_t)v;
    return 0;
}

int av_read_float(const uint8_t *p, size_t len, size_t *pos, float *out)
{
    if (len - *pos < 4 || *pos > len)
        return -1;
    const uint8_t *b = p + *pos;
    uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    memcpy(out, &u, 4);
    *pos += 4;
    return 0;
}

int av_read_double(const uint8_t *p, size_t len, size_t *pos, double *out)
{
    if (*pos > len || len - *pos < 8)
        return -1;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)p[*pos + i] << (8 * i);
    memcpy(out, &u, 8);
    *pos += 8;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Bytes as JSON strings: each byte is one code point U+0000..U+00FF. */

static int utf8_latin1_len(const char *s, size_t n, size_t *out)
{
    size_t count = 0;
    for (size_t i = 0; i < n; count++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x80)
            i++;
        else if ((ch == 0xc2 || ch == 0xc3) && i + 1 < n &&
                 ((unsigned char)s[i + 1] & 0xc0) == 0x80)
            i += 2;
        else
            return -1;
    }
    *out = count;
    return 0;
}

static void utf8_to_bytes(const char *s, size_t n, mts_buf *out)
{
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x80) {
            buf_putc(out, ch);
            i++;
        } else {
            buf_putc(out, (uint8_t)(((ch & 0x03) << 6) | ((unsigned char)s[i + 1] & 0x3f)));
            i += 2;
        }
    }
}

static json_t *bytes_to_json(const uint8_t *p, size_t n)
{
    char *tmp = xmalloc(2 * n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80) {
            tmp[k++] = (char)p[i];
        } else {
            tmp[k++] = (char)(0xc0 | (p[i] >> 6));
            tmp[k++] = (char)(0x80 | (p[i] & 0x3f));
        }
    }
    json_t *j = json_stringn(tmp, k);
    free(tmp);
    return j;
}

/* ------------------------------------------------------------------------ */
/* Encoder: JSON -> binary */

typedef struct {
    char *err;
    size_t errlen;
    char path[256];
} cctx;

static void cerr(cctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cerr(cctx *c, const char *fmt, ...)
{
    if (!c->err || !c->errlen)
        return;
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s%s%s", c->path, c->path[0] ? ": " : "", msg);
}

static size_t cpath_push(cctx *c, const char *part)
{
    size_t old = strlen(c->path);
    snprintf(c->path + old, sizeof(c->path) - old, "%s%s", old && part[0] != '[' ? "." : "", part);
    return old;
}

static int encode(cctx *c, const av_schema *s, const json_t *v, mts_buf *out, int depth)
{
    if (depth > AV_MAX_DEPTH) {
        cerr(c, "value nested too deeply");
        return -1;
    }
    switch (s->type) {
    case AV_NULL:
        if (!json_is_null(v))
            goto mismatch;
        return 0;
    case AV_BOOLEAN:
        if (!json_is_boolean(v))
            goto mismatch;
        buf_putc(out, json_is_true(v) ? 1 : 0);
        return 0;
    case AV_INT:
    case AV_LONG:
        if (!json_is_integer(v))
            goto mismatch;
        if (s->type == AV_INT &&
            (json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX)) {
            cerr(c, "%" JSON_INTEGER_FORMAT " is out of range for int", json_integer_value(v));
            return -1;
        }
        av_write_long(out, json_integer_value(v));
        return 0;
    case AV_FLOAT:
        if (!json_is_number(v))
            goto mismatch;
        av_write_float(out, (float)json_number_value(v));
        return 0;
    case AV_DOUBLE:
        if (!json_is_number(v))
            goto mismatch;
        av_write_double(out, json_number_value(v));
        return 0;
    case AV_STRING:
        if (!json_is_string(v))
            goto mismatch;
        av_write_bytes(out, json_string_value(v), json_string_length(v));
        return 0;
    case AV_BYTES:
    case AV_FIXED: {
        size_t n;
        if (!json_is_string(v))
            goto mismatch;
        if (utf8_latin1_len(json_string_value(v), json_string_length(v), &n) < 0) {
            cerr(c, "bytes must be a string of code points U+0000..U+00FF");
            return -1;
        }
        if (s->type == AV_FIXED && n != (size_t)s->size) {
            cerr(c, "fixed \"%s\" needs %d bytes, got %zu", s->name, s->size, n);
            return -1;
        }
        if (s->type == AV_BYTES)
            av_write_long(out, (int64_t)n);
        utf8_to_bytes(json_string_value(v), json_string_length(v), out);
        return 0;
    }
    case AV_ENUM:
        if (!json_is_string(v))
            goto mismatch;
        for (int i = 0; i < s->n_symbols; i++)
            if (!strcmp(s->symbols[i], json_string_value(v))) {
                av_write_long(out, i);
                return 0;
            }
        cerr(c, "\"%s\" is not a symbol of enum \"%s\"", json_string_value(v), s->name);
        return -1;
    case AV_ARRAY: {
        if (!json_is_array(v))
            goto mismatch;
        size_t n = json_array_size(v);
        if (n)
            av_write_long(out, (int64_t)n);
        for (size_t i = 0; i < n; i++) {
            char idx[32];
            snprintf(idx, sizeof(idx), "[%zu]", i);
            size_t old = cpath_push(c, idx);
            int rc = encode(c, s->items, json_array_get(v, i), out, depth + 1);
            c->path[old] = '\0';
            if (rc < 0)
                return -1;
        }
        av_write_long(out, 0);
        return 0;
    }
    case AV_MAP: {
        if (!json_is_object(v))
            goto mismatch;
        size_t n = json_object_size(v);
        if (n)
            av_write_long(out, (int64_t)n);
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            av_write_bytes(out, k, strlen(k));
            size_t old = cpath_push(c, k);
            int rc = encode(c, s->items, x, out, depth + 1);
            c->path[old] = '\0';
            if (rc < 0)
                return -1;
        }
        av_write_long(out, 0);
        return 0;
    }
    case AV_RECORD: {
        if (!json_is_object(v))
            goto mismatch;
        for (int i = 0; i < s->n_fields; i++) {
            const av_field *f = &s->fields[i];
            json_t *x = json_object_get(v, f->name);
            size_t old = cpath_push(c, f->name);
            if (!x)
                x = f->default_value;
            int rc;
            if (!x) {
                cerr(c, "missing field with no default");
                rc = -1;
            } else {
                rc = encode(c, f->type, x, out, depth + 1);
            }
            c->path[old] = '\0';
            if (rc < 0)
                return -1;
        }
        return 0;
    }
    case AV_UNION:
        for (int i = 0; i < s->n_branches; i++)
            if (default_ok(s->branches[i], (json_t *)v, depth)) {
                av_write_long(out, i);
                return encode(c, s->branches[i], v, out, depth + 1);
            }
        cerr(c, "value matches no branch of the union");
        return -1;
    }
mismatch:
    cerr(c, "expected %s, got a JSON %s", type_name(s->type),
         json_is_object(v)    ? "object"
         : json_is_array(v)   ? "array"
         : json_is_string(v)  ? "string"
         : json_is_number(v)  ? "number"
         : json_is_boolean(v) ? "boolean"
                              : "null");
    return -1;
}

int av_encode_json(const av_schema *s, const json_t *value, mts_buf *out, char *err, size_t errlen)
{
    cctx c = {.err = err, .errlen = errlen};
    size_t start = out->len;
    if (encode(&c, s, value, out, 0) < 0) {
        out->len = start;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Decoder and skipper: binary -> JSON */

/* Fewest bytes one datum of s can take; bounds counts read from the data. */
static size_t min_size(const av_schema *s, int depth)
{
    if (depth > 16)
        return 0;
    switch (s->type) {
    case AV_NULL:
        return 0;
    case AV_FLOAT:
        return 4;
    case AV_DOUBLE:
        return 8;
    case AV_FIXED:
        return (size_t)s->size;
    case AV_RECORD: {
        size_t n = 0;
        for (int i = 0; i < s->n_fields; i++)
            n += min_size(s->fields[i].type, depth + 1);
        return n;
    }
    default:
        return 1;
    }
}

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    char *err;
    size_t errlen;
} dctx;

static void derr(dctx *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void derr(dctx *d, const char *fmt, ...)
{
    if (!d->err || !d->errlen)
        return;
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(d->err, d->errlen, "at byte %zu: %s", d->pos, msg);
}

static int d_long(dctx *d, int64_t *v)
{
    if (av_read_long(d->p, d->len, &d->pos, v) < 0) {
        size_t i = d->pos;
        while (i < d->len && (d->p[i] & 0x80))
            i++;
        derr(d, i >= d->len ? "truncated varint" : "malformed varint");
        return -1;
    }
    return 0;
}

static int d_length(dctx *d, size_t *n, const char *what)
{
    int64_t v;
    if (d_long(d, &v) < 0)
        return -1;
    if (v < 0 || (uint64_t)v > d->len - d->pos) {
        derr(d, "%s length %" PRId64 " with %zu bytes left", what, v, d->len - d->pos);
        return -1;
    }
    *n = (size_t)v;
    return 0;
}

/* Next block count of an array/map, or 0 at the end. Checks it against the
 * bytes left given the item's minimum size. */
/* bytes: the block's byte size, or SIZE_MAX when it has none. */
static int d_block(dctx *d, const av_schema *items, size_t *total, int64_t *count, size_t *bytes)
{
    int64_t n;
    *bytes = SIZE_MAX;
    if (d_long(d, &n) < 0)
        return -1;
    if (n < 0) {
        if (n == INT64_MIN) {
            derr(d, "bad block count");
            return -1;
        }
        n = -n;
        if (d_length(d, bytes, "block") < 0)
            return -1;
    }
    size_t ms = items ? min_size(items, 0) : 1;
    if (ms > 0 && (uint64_t)n > (d->len - d->pos) / ms) {
        derr(d, "block of %" PRId64 " items with %zu bytes left", n, d->len - d->pos);
        return -1;
    }
    *total += (size_t)n;
    if (ms == 0 && *total > AV_MAX_ZERO_SIZE_ITEMS) {
        derr(d, "more than %d items of a zero-size type", AV_MAX_ZERO_SIZE_ITEMS);
        return -1;
    }
    *count = n;
    return 0;
}

static json_t *decode(dctx *d, const av_schema *s, int depth);

static json_t *decode_items(dctx *d, const av_schema *s, int depth)
{
    int is_map = s->type == AV_MAP;
    json_t *out = is_map ? json_object() : json_array();
    /* Map keys are strings: for the count check an entry is at least 1 byte. */
    size_t total = 0;
    for (;;) {
        int64_t count;
        size_t bytes;
        if (d_block(d, is_map ? NULL : s->items, &total, &count, &bytes) < 0)
            goto fail;
        if (count == 0)
            return out;
        size_t block_start = d->pos;
        for (int64_t i = 0; i < count; i++) {
            if (is_map) {
                size_t kn;
                if (d_length(d, &kn, "map key") < 0)
                    goto fail;
                char *key = xstrndup((const char *)d->p + d->pos, kn);
                d->pos += kn;
                json_t *x = decode(d, s->items, depth + 1);
                if (!x) {
                    free(key);
                    goto fail;
                }
                /* json_object_set_new drops x itself when it fails. */
                int bad = strlen(key) != kn;
                if (bad)
                    json_decref(x);
                if (bad || json_object_set_new(out, key, x) < 0) {
                    free(key);
                    derr(d, "map key is not valid UTF-8 text");
                    goto fail;
                }
                free(key);
            } else {
                json_t *x = decode(d, s->items, depth + 1);
                if (!x)
                    goto fail;
                json_array_append_new(out, x);
            }
        }
        if (bytes != SIZE_MAX && d->pos - block_start != bytes) {
            derr(d, "block byte size %zu, but its items take %zu bytes", bytes,
                 d->pos - block_start);
            goto fail;
        }
    }
fail:
    json_decref(out);
    return NULL;
}

static json_t *decode(dctx *d, const av_schema *s, int depth)
{
    if (depth > AV_MAX_DEPTH) {
        derr(d, "value nested deeper than %d", AV_MAX_DEPTH);
        return NULL;
    }
    switch (s->type) {
    case AV_NULL:
        return json_null();
    case AV_BOOLEAN:
        if (d->pos >= d->len) {
            derr(d, "truncated boolean");
            return NULL;
        }
        if (d->p[d->pos] > 1) {
            derr(d, "boolean byte %u", d->p[d->pos]);
            return NULL;
        }
        return json_boolean(d->p[d->pos++]);
    case AV_INT:
    case AV_LONG: {
        int64_t v;
        if (d_long(d, &v) < 0)
            return NULL;
        if (s->type == AV_INT && (v < INT32_MIN || v > INT32_MAX)) {
            derr(d, "int out of range");
            return NULL;
        }
        return json_integer(v);
    }
    case AV_FLOAT:
    case AV_DOUBLE: {
        double v;
        float f;
        int rc = s->type == AV_FLOAT ? av_read_float(d->p, d->len, &d->pos, &f)
                                     : av_read_double(d->p, d->len, &d->pos, &v);
        if (rc < 0) {
            derr(d, "truncated %s", type_name(s->type));
            return NULL;
        }
        if (s->type == AV_FLOAT)
            v = f;
        if (!isfinite(v)) {
            derr(d, "%s %s cannot be represented in JSON", type_name(s->type),
                 isnan(v) ? "NaN" : "infinity");
            return NULL;
        }
        return json_real(v);
    }
    case AV_STRING:
    case AV_BYTES:
    case AV_FIXED: {
        size_t n;
        if (s->type == AV_FIXED) {
            n = (size_t)s->size;
            if (n > d->len - d->pos) {
                derr(d, "truncated fixed");
                return NULL;
            }
        } else if (d_length(d, &n, type_name(s->type)) < 0) {
            return NULL;
        }
        const uint8_t *b = d->p + d->pos;
        d->pos += n;
        if (s->type != AV_STRING)
            return bytes_to_json(b, n);
        json_t *j = json_stringn((const char *)b, n);
        if (!j)
            derr(d, "string is not valid UTF-8");
        return j;
    }
    case AV_ENUM: {
        int64_t v;
        if (d_long(d, &v) < 0)
            return NULL;
        if (v < 0 || v >= s->n_symbols) {
            derr(d, "enum index %" PRId64 " out of range for \"%s\"", v, s->name);
            return NULL;
        }
        return json_string(s->symbols[v]);
    }
    case AV_ARRAY:
    case AV_MAP:
        return decode_items(d, s, depth);
    case AV_RECORD: {
        json_t *o = json_object();
        for (int i = 0; i < s->n_fields; i++) {
            json_t *x = decode(d, s->fields[i].type, depth + 1);
            if (!x) {
                json_decref(o);
                return NULL;
            }
            json_object_set_new(o, s->fields[i].name, x);
        }
        return o;
    }
    case AV_UNION: {
        int64_t b;
        if (d_long(d, &b) < 0)
            return NULL;
        if (b < 0 || b >= s->n_branches) {
            derr(d, "union branch %" PRId64 " out of range (%d branches)", b, s->n_branches);
            return NULL;
        }
        return decode(d, s->branches[b], depth + 1);
    }
    }
    return NULL;
}

json_t *av_decode_json(const av_schema *s, const uint8_t *p, size_t len, size_t *used, char *err,
                       size_t errlen)
{
    dctx d = {.p = p, .len = len, .pos = 0, .err = err, .errlen = errlen};
    json_t *j = decode(&d, s, 0);
    if (j && used)
        *used = d.pos;
    return j;
}

static int skip(dctx *d, const av_schema *s, int depth)
{
    if (depth > AV_MAX_DEPTH)
        return -1;
    int64_t v;
    size_t n;
    switch (s->type) {
    case AV_NULL:
        return 0;
    case AV_BOOLEAN:
        if (d->pos >= d->len || d->p[d->pos] > 1)
            return -1;
        d->pos++;
        return 0;
    case AV_INT:
    case AV_LONG:
    case AV_ENUM:
        if (d_long(d, &v) < 0)
            return -1;
        if (s->type == AV_INT && (v < INT32_MIN || v > INT32_MAX))
            return -1;
        if (s->type == AV_ENUM && (v < 0 || v >= s->n_symbols))
            return -1;
        return 0;
    case AV_FLOAT:
    case AV_DOUBLE:
    case AV_FIXED:
        n = s->type == AV_FLOAT ? 4 : s->type == AV_DOUBLE ? 8 : (size_t)s->size;
        if (n > d->len - d->pos)
            return -1;
        d->pos += n;
        return 0;
    case AV_STRING:
    case AV_BYTES:
        if (d_length(d, &n, "string") < 0)
            return -1;
        d->pos += n;
        return 0;
    case AV_RECORD:
        for (int i = 0; i < s->n_fields; i++)
            if (skip(d, s->fields[i].type, depth + 1) < 0)
                return -1;
        return 0;
    case AV_UNION:
        if (d_long(d, &v) < 0 || v < 0 || v >= s->n_branches)
            return -1;
        return skip(d, s->branches[v], depth + 1);
    case AV_ARRAY:
    case AV_MAP: {
        size_t total = 0;
        for (;;) {
            int64_t count;
            size_t save = d->pos;
            if (d_long(d, &count) < 0)
                return -1;
            if (count < 0 && count != INT64_MIN) {
                /* A block with a byte size can be skipped without decoding. */
                size_t bytes;
                if (d_length(d, &bytes, "block") < 0)
                    return -1;
                d->pos += bytes;
                continue;
            }
            d->pos = save;
            size_t bytes;
            if (d_block(d, s->type == AV_MAP ? NULL : s->items, &total, &count, &bytes) < 0)
                return -1;
            if (count == 0)
                return 0;
            for (int64_t i = 0; i < count; i++) {
                if (s->type == AV_MAP && (d_length(d, &n, "map key") < 0 || ((d->pos += n), 0)))
                    return -1;
                if (skip(d, s->items, depth + 1) < 0)
                    return -1;
            }
        }
    }
    }
    return -1;
}

int av_skip(const av_schema *s, const uint8_t *p, size_t len, size_t *pos)
{
    if (*pos > len)
        return -1;
    dctx d = {.p = p, .len = len, .pos = *pos};
    if (skip(&d, s, 0) < 0)
        return -1;
    *pos = d.pos;
    return 0;
}

int av_value_fits(const av_schema *s, const json_t *v)
{
    return default_ok(s, (json_t *)v, 0);
}

const char *av_type_name(av_type t)
{
    return type_name(t);
}
