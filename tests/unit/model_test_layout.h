/* model_test_layout.h - hand-built unified layouts for the model tests.
 *
 * The real layout comes from consumer/unify.c and layout_find /
 * field_kind_name from common/row.c (another branch). The model tests need
 * neither: they build an mts_layout by hand. The two functions are defined
 * WEAK here so that, once common/row.c is in the library, its strong
 * definitions win and nothing clashes at link time. */
#ifndef MODEL_TEST_LAYOUT_H
#define MODEL_TEST_LAYOUT_H

#include "common/row.h"
#include "common/util.h"
#include "model/model.h"

#include <stdlib.h>
#include <string.h>

__attribute__((weak)) int layout_find(const mts_layout *l, const char *name)
{
    for (int i = 0; i < l->n_fields; i++)
        if (!strcmp(l->fields[i].name, name))
            return i;
    return -1;
}

__attribute__((weak)) const char *field_kind_name(field_kind k)
{
    static const char *names[] = {"long", "double", "string", "long[]", "double[]", "string[]"};
    return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

typedef struct {
    const char *name;
    field_kind kind;
} test_field;

static inline mts_layout *test_layout_new(const test_field *f, int n)
{
    mts_layout *l = xcalloc(1, sizeof(*l));
    l->n_fields = n;
    l->fields = xcalloc((size_t)n, sizeof(mts_field));
    for (int i = 0; i < n; i++) {
        l->fields[i].name = xstrdup(f[i].name);
        l->fields[i].kind = f[i].kind;
        l->fields[i].task_mask = ~0ULL;
    }
    return l;
}

static inline void test_layout_free(mts_layout *l)
{
    for (int i = 0; i < l->n_fields; i++)
        free(l->fields[i].name);
    free(l->fields);
    free(l);
}

/* The layout every model test uses: the affinity tasks' and the skill
 * task's fields in one list, as unification would produce. */
enum {
    F_MEMBER,
    F_COMPANY,
    F_VIEWED,
    F_APPLIED,
    F_ACCEPTED,
    F_ENTITY,
    F_TOKENS,
    F_SPAN_START,
    F_SPAN_END,
    F_DOMAIN,
    F_LABEL,
    F_SCORE, /* a double, for kind errors */
    F_COUNT
};

static inline mts_layout *test_layout_standard(void)
{
    static const test_field f[F_COUNT] = {
        {"member_id", FK_LONG},      {"company_id", FK_LONG}, {"viewed", FK_LONG},
        {"applied", FK_LONG},        {"accepted", FK_LONG},   {"entity_id", FK_LONG},
        {"tokens", FK_STRING_ARRAY}, {"span_start", FK_LONG}, {"span_end", FK_LONG},
        {"domain", FK_STRING},       {"label", FK_LONG},      {"score", FK_DOUBLE},
    };
    return test_layout_new(f, F_COUNT);
}

static inline void test_task(model_config *c, const char *name, task_kind kind, const char *label,
                             float lw, float pw)
{
    model_task_config *t = &c->tasks[c->n_tasks++];
    memset(t, 0, sizeof(*t));
    strcpy(t->name, name);
    t->kind = kind;
    strcpy(t->label_field, label);
    if (kind == TASK_AFFINITY) {
        strcpy(t->member_field, "member_id");
        strcpy(t->company_field, "company_id");
    }
    t->loss_weight = lw;
    t->pos_weight = pw;
}

/* An affinity row for task t with label field slot lab. v: (F_COUNT) storage. */
static inline void test_affinity_row(mts_row *r, mts_value *v, int t, int lab, int64_t member,
                                     int64_t company, int y)
{
    memset(r, 0, sizeof(*r));
    memset(v, 0, F_COUNT * sizeof(mts_value));
    r->task = t;
    r->v = v;
    v[F_MEMBER].present = v[F_COMPANY].present = v[lab].present = 1;
    v[F_MEMBER].u.l = member;
    v[F_COMPANY].u.l = company;
    v[lab].u.l = y;
}

#endif
