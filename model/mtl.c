/* mtl.c - declarative multitask networks: build, share, train.
 *
 * Building. Each task's towers are walked layer by layer; a layer's key is
 * its canonical description (type, input, sizes, options) appended to the
 * key of the layer below it. Layers with equal keys are one node, so two
 * tasks that declare the same stack over the same input share exactly its
 * common prefix, and a node's `users` bitmask says which tasks reach it.
 * `share = false` on a layer (or soft sharing) adds the task's name to the
 * key, which keeps it private. Nodes are created parents first, so the node
 * array is already in topological order.
 *
 * Forward over a batch. Every node computes only the rows whose task needs
 * it (node->rows, compact, in batch order) and keeps a map from batch row
 * to its local row; a child whose task set is smaller gathers its input
 * rows from the parent and scatters the gradient back. A task's head scores
 * its own rows (and, for a distillation teacher, the student's rows too).
 *
 * Losses. Per task: weighted binary cross-entropy, mean over its rows in
 * the batch. Joint: combined with fixed weights, learned uncertainty
 * weights, or GradNorm weights (updated after each step from the per-task
 * gradient norms at the shared nodes' outputs: every row belongs to one task,
 * so the rows of a shared node's output gradient split the norm by task
 * exactly); plus, with distillation, a hinge loss that pushes the student's
 * logit to the side of zero the teacher chose (teacher held fixed).
 * Iterative: one task's loss, plus with soft sharing an L2 pull of each of
 * its copies of a would-be-shared component towards the other tasks' copies.
 *
 * Optimizers. Dense parameters: SGD, Adagrad or Adam; tables: SGD or
 * row-wise Adagrad (Adam falls back to Adagrad on tables). Joint training
 * uses the task's optimizer for its own nodes and the shared optimizer for
 * shared nodes; iterative training gives every task its own optimizer state
 * (and its own learning rate) on every node it uses, shared ones included. */
#include "model/mtl.h"

#include "common/log.h"
#include "common/util.h"
#include "model/blas.h"
#include "model/dyntable.h"
#include "model/layers.h"
#include "model/mtl_layers.h"
#include "model/optim.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MTL_MAX_TOWERS 8
#define MTL_MAX_LAYERS 8
#define MTL_MAX_NODES 128
#define MTL_MAX_PUBLISH 4
#define MTL_MAX_BAG 4096 /* ids (or n-grams) per bag value; more are ignored */

typedef enum { L_EMBEDDING, L_BAG, L_NGRAM, L_DENSE } layer_type;
typedef enum { HEAD_DOT, HEAD_BILINEAR, HEAD_MLP } head_type;
typedef enum { MECH_JOINT, MECH_ITERATIVE } mechanism;
typedef enum { W_FIXED, W_UNCERTAINTY, W_GRADNORM } weighting;

static const char *layer_names[] = {"embedding", "bag", "ngram", "dense"};
static const char *head_names[] = {"dot", "bilinear", "mlp"};
static const char *optim_names[] = {"sgd", "adagrad", "adam"};
static const char *kind_names[] = {"id", "bag", "text"};

typedef struct {
    layer_type type;
    char desc[192]; /* canonical description: equal desc + equal parent = same node */
    char *key;      /* desc chain from the tower's input up to here */
    int parent;     /* node below, -1 for an input layer */
    int input;      /* input slot (input layers) */
    int in_w, out_w;
    int relu;
    int ngram_n;
    uint32_t users;    /* tasks that declared this node */
    uint32_t rowtasks; /* tasks whose rows it computes (users + distillation students) */
    int soft_group;    /* soft sharing: nodes that would be one node under hard sharing */
    int frontier;      /* shared, and no shared node above it (GradNorm reads its gradient) */
    /* parameters */
    int has_tab;
    dyntable tab; /* input layers */
    size_t np;    /* dense: W (out_w, in_w) then b (out_w) */
    float *p, *g; /* (np) */
    float *m, *v; /* (n_states, np) optimizer state */
    long *steps;  /* (n_states) Adam step counts */
    int n_states;
    int state_of[MTL_MAX_TASKS]; /* optimizer state column of each user task */
    /* per batch */
    int n, cap;
    int *rows;         /* (cap) batch rows computed here */
    int *local;        /* (batch cap) batch row -> local row, -1 */
    float *out, *dout; /* (cap, out_w) */
    float *x, *dx,
        *dz;         /* dense: gathered input (cap, in_w), its gradient, pre-activation gradient */
    int32_t *tabrow; /* (cap) embedding: table row or -1 */
    int *off;        /* (cap + 1) bag/ngram: offsets into bagrow */
    int32_t *bagrow; /* (bag_cap) table rows of the bag's found ids */
    int bag_cap;
} node;

typedef struct {
    char name[64];
    char label[64];
    float loss_weight, pos_weight;
    float lr, table_lr;
    float head_lr; /* the head's learning rate (head.lr, default lr) */
    mtl_optim_kind opt;
    float pos_keep, neg_keep;
    int n_towers;
    char tower_name[MTL_MAX_TOWERS][32];
    int tower_node[MTL_MAX_TOWERS];
    int tower_root[MTL_MAX_TOWERS]; /* the tower's input layer */
    int skip; /* tower output = top + input row (first min widths); see tower_skip_width */
    head_type head;
    int hidden;  /* mlp head */
    int head_in; /* sum of tower widths */
    size_t np;
    float *p, *g, *m, *v; /* head parameters, gradient, Adam/Adagrad state */
    long steps;
    uint32_t evalmask; /* tasks whose rows this head scores */
    /* per batch */
    int n, cap;
    int *rows;
    float *logit, *dlogit; /* (cap) */
    float *x, *dx;         /* (cap, head_in) concatenated tower outputs */
    float *h, *dh;         /* (cap, hidden) mlp hidden (post-ReLU) and its gradient */
    float *uM;             /* (cap, D2) bilinear */
    float *dotv;           /* (cap, n_towers / 2) dot head: <u, v> of each tower pair */
} task;

struct mtl_net {
    mechanism mech;
    weighting weigh;
    int soft;
    float soft_l2;
    float gn_alpha, gn_lr;
    mtl_optim_kind shared_opt;
    float shared_lr, shared_table_lr;
    uint64_t seed;
    int has_distill, teacher, student;
    float distill_weight, distill_margin;

    int n_inputs;
    char input_name[MTL_MAX_INPUTS][64];
    mtl_input_kind input_kind[MTL_MAX_INPUTS];

    int n_nodes;
    node *nodes;
    int n_tasks;
    task tasks[MTL_MAX_TASKS];

    float unc_s[MTL_MAX_TASKS], unc_g[MTL_MAX_TASKS], unc_m[MTL_MAX_TASKS], unc_v[MTL_MAX_TASKS];
    adam_state unc_adam;
    float gn_w[MTL_MAX_TASKS];
    double gn_L0[MTL_MAX_TASKS], gn_Lema[MTL_MAX_TASKS], gn_ss[MTL_MAX_TASKS];

    int n_publish; /* published towers: multitask.publish = { ENTITY = "task.tower"; } */
    char publish_entity[MTL_MAX_PUBLISH][32];
    char publish_ref[MTL_MAX_PUBLISH][96];
    int publish_node[MTL_MAX_PUBLISH];   /* the tower's top node (its output is the embedding) */
    int publish_bottom[MTL_MAX_PUBLISH]; /* its embedding layer (the entity's table) */
    int publish_skip[MTL_MAX_PUBLISH];   /* its task has the skip connection */

    int distill_frozen; /* tests: reuse the teacher signs of the last backward */
    float *frozen_sign;
    int frozen_n;
    mts_rng sample_rng;
    int64_t events;
    uint64_t skipped;
    double last_loss[MTL_MAX_TASKS];

    /* per step */
    int bcap;
    int *btask; /* (bcap) task of each batch row */
    float *bw;  /* (bcap) weight of each row (example weight x importance x pos_weight) */
    float step_loss[MTL_MAX_TASKS];   /* float copy for uncertainty_forward */
    double step_lossd[MTL_MAX_TASKS]; /* the same in double (the loss returned) */
    int step_n[MTL_MAX_TASKS];
    mtl_example *sel; /* (bcap) rows kept by sampling / of one task */
};

/* ------------------------------------------------------------------ */
/* configuration                                                       */

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        return -1;                                                                                 \
    } while (0)

static int check_names(const config_setting_t *g, const char *path, const char *const *allowed,
                       char *err, size_t errlen)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *c = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(c);
        if (!name)
            continue;
        int ok = 0;
        for (int k = 0; allowed[k]; k++)
            if (!strcmp(allowed[k], name))
                ok = 1;
        if (!ok)
            FAIL("line %d: %s.%s: unknown setting", config_setting_source_line(c), path, name);
    }
    return 0;
}

static int get_str(const config_setting_t *g, const char *name, const char *def, const char **out,
                   char *err, size_t errlen, const char *path)
{
    const config_setting_t *s = config_setting_get_member(g, name);
    if (!s) {
        *out = def;
        return 0;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        FAIL("line %d: %s.%s: must be a string", config_setting_source_line(s), path, name);
    *out = config_setting_get_string(s);
    return 0;
}

static int get_num(const config_setting_t *g, const char *name, double def, double lo, double hi,
                   double *out, char *err, size_t errlen, const char *path)
{
    const config_setting_t *s = config_setting_get_member(g, name);
    if (!s) {
        *out = def;
        return 0;
    }
    int ty = config_setting_type(s);
    if (ty == CONFIG_TYPE_INT)
        *out = config_setting_get_int(s);
    else if (ty == CONFIG_TYPE_INT64)
        *out = (double)config_setting_get_int64(s);
    else if (ty == CONFIG_TYPE_FLOAT)
        *out = config_setting_get_float(s);
    else if (ty == CONFIG_TYPE_BOOL)
        *out = config_setting_get_bool(s);
    else
        FAIL("line %d: %s.%s: must be a number", config_setting_source_line(s), path, name);
    if (!(*out >= lo && *out <= hi))
        FAIL("line %d: %s.%s: %g out of range %g..%g", config_setting_source_line(s), path, name,
             *out, lo, hi);
    return 0;
}

static int pick(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i]))
            return i;
    return -1;
}

static int input_slot(mtl_net *net, const char *name, mtl_input_kind kind, const char *path,
                      char *err, size_t errlen)
{
    for (int i = 0; i < net->n_inputs; i++) {
        if (strcmp(net->input_name[i], name))
            continue;
        if (net->input_kind[i] != kind)
            FAIL("%s: input \"%s\" is used as %s here but as %s elsewhere", path, name,
                 kind_names[kind], kind_names[net->input_kind[i]]);
        return i;
    }
    if (net->n_inputs == MTL_MAX_INPUTS)
        FAIL("%s: more than %d inputs", path, MTL_MAX_INPUTS);
    if (!*name || strlen(name) >= sizeof(net->input_name[0]))
        FAIL("%s: input name must be 1..63 characters", path);
    snprintf(net->input_name[net->n_inputs], sizeof(net->input_name[0]), "%s", name);
    net->input_kind[net->n_inputs] = kind;
    return net->n_inputs++;
}

static int find_or_add_node(mtl_net *net, const char *key, int *created)
{
    for (int i = 0; i < net->n_nodes; i++)
        if (!strcmp(net->nodes[i].key, key)) {
            *created = 0;
            return i;
        }
    if (net->n_nodes == MTL_MAX_NODES)
        return -1;
    node *nd = &net->nodes[net->n_nodes];
    memset(nd, 0, sizeof(*nd));
    nd->key = xstrdup(key);
    nd->soft_group = -1;
    *created = 1;
    return net->n_nodes++;
}

/* One layer of a tower: returns the node index or -1. */
static int parse_layer(mtl_net *net, int t, const config_setting_t *ls, int parent,
                       const char *path, char *err, size_t errlen)
{
    static const char *const allowed[] = {"type",       "input",    "dim",   "units",
                                          "activation", "capacity", "admit", "expire",
                                          "n",          "share",    "init",  NULL};
    if (config_setting_type(ls) != CONFIG_TYPE_GROUP)
        FAIL("line %d: %s: a layer is a group { type = ...; }", config_setting_source_line(ls),
             path);
    if (check_names(ls, path, allowed, err, errlen))
        return -1;
    const char *type, *input, *act;
    double dim, units, cap, admit, expire, n, share, init;
    if (get_str(ls, "type", "", &type, err, errlen, path) ||
        get_str(ls, "input", "", &input, err, errlen, path) ||
        get_str(ls, "activation", "none", &act, err, errlen, path) ||
        get_num(ls, "dim", 16, 1, 1024, &dim, err, errlen, path) ||
        get_num(ls, "units", 0, 0, 4096, &units, err, errlen, path) ||
        get_num(ls, "capacity", 100000, 1, 1 << 30, &cap, err, errlen, path) ||
        get_num(ls, "admit", 1, 1, 255, &admit, err, errlen, path) ||
        get_num(ls, "expire", 0, 0, 9.2e18, &expire, err, errlen, path) ||
        get_num(ls, "n", 3, 1, 8, &n, err, errlen, path) ||
        get_num(ls, "share", 1, 0, 1, &share, err, errlen, path) ||
        get_num(ls, "init", 0.05, 0, 10, &init, err, errlen, path))
        return -1;
    int lt = pick(type, layer_names, 4);
    if (lt < 0)
        FAIL("line %d: %s.type: \"%s\" is not one of embedding, bag, ngram, dense",
             config_setting_source_line(ls), path, type);
    int relu = !strcmp(act, "relu");
    if (!relu && strcmp(act, "none"))
        FAIL("%s.activation: \"%s\" is not relu or none", path, act);
    char desc[192];
    int in_w = 0, out_w, slot = -1;
    if (lt == L_DENSE) {
        if (parent < 0)
            FAIL("%s: a tower starts with an input layer (embedding, bag or ngram), not dense",
                 path);
        if (units < 1)
            FAIL("%s.units: a dense layer needs units >= 1", path);
        in_w = net->nodes[parent].out_w;
        out_w = (int)units;
        snprintf(desc, sizeof(desc), "dense(%d->%d%s)", in_w, out_w, relu ? ", relu" : "");
    } else {
        if (parent >= 0)
            FAIL("%s: %s must be the first layer of its tower", path, type);
        if (!*input)
            FAIL("%s.input: an %s layer names its input field", path, type);
        slot = input_slot(net, input,
                          lt == L_EMBEDDING ? MTL_IN_ID
                          : lt == L_BAG     ? MTL_IN_BAG
                                            : MTL_IN_TEXT,
                          path, err, errlen);
        if (slot < 0)
            return -1;
        out_w = (int)dim;
        if (lt == L_NGRAM)
            snprintf(desc, sizeof(desc), "ngram(%s, n=%d, dim=%d, capacity=%.0f, init=%g)", input,
                     (int)n, out_w, cap, init);
        else
            snprintf(desc, sizeof(desc),
                     "%s(%s, dim=%d, capacity=%.0f, admit=%d, expire=%.0f, init=%g)",
                     layer_names[lt], input, out_w, cap, (int)admit, expire, init);
    }
    const char *pkey = parent >= 0 ? net->nodes[parent].key : "";
    int private_ = !share || (net->mech == MECH_ITERATIVE && net->soft);
    size_t kl = strlen(pkey) + strlen(desc) + 160;
    char *key = xmalloc(kl);
    snprintf(key, kl, "%s%s%s%s%s", pkey, *pkey ? " > " : "", private_ ? "[" : "",
             private_ ? net->tasks[t].name : "", private_ ? "] " : "");
    strncat(key, desc, kl - strlen(key) - 1);
    int created;
    int id = find_or_add_node(net, key, &created);
    free(key);
    if (id < 0)
        FAIL("%s: more than %d components", path, MTL_MAX_NODES);
    node *nd = &net->nodes[id];
    if (created) {
        nd->type = (layer_type)lt;
        snprintf(nd->desc, sizeof(nd->desc), "%s", desc);
        nd->parent = parent;
        nd->input = slot;
        nd->in_w = in_w;
        nd->out_w = out_w;
        nd->relu = relu;
        nd->ngram_n = (int)n;
        if (lt != L_DENSE) {
            nd->has_tab = 1;
            /* table built later (n_states known then); remember its settings in np/m fields */
            nd->tab.capacity = (uint32_t)cap;
            nd->tab.admit = lt == L_NGRAM ? 1 : (int)admit;
            nd->tab.ttl = lt == L_NGRAM ? 0 : (int64_t)expire;
            nd->tab.init_scale = (float)init;
        }
    }
    nd->users |= 1u << t;
    return id;
}

static int parse_task(mtl_net *net, int t, const config_setting_t *ts, char *err, size_t errlen)
{
    static const char *const allowed[] = {"name",      "label", "loss_weight", "pos_weight",
                                          "optimizer", "lr",    "table_lr",    "sampling",
                                          "model",     NULL};
    char path[160];
    snprintf(path, sizeof(path), "multitask.tasks.[%d]", t);
    if (config_setting_type(ts) != CONFIG_TYPE_GROUP)
        FAIL("%s: a task is a group { name = ...; model = { ... }; }", path);
    if (check_names(ts, path, allowed, err, errlen))
        return -1;
    task *tk = &net->tasks[t];
    const char *name, *label, *opt;
    double lw, pw, lr, tlr;
    if (get_str(ts, "name", "", &name, err, errlen, path) ||
        get_str(ts, "label", "", &label, err, errlen, path) ||
        get_str(ts, "optimizer", "adam", &opt, err, errlen, path) ||
        get_num(ts, "loss_weight", 1, 0, 1e6, &lw, err, errlen, path) ||
        get_num(ts, "pos_weight", 1, 1e-6, 1e6, &pw, err, errlen, path) ||
        get_num(ts, "lr", 0.01, 1e-9, 100, &lr, err, errlen, path) ||
        get_num(ts, "table_lr", 0.05, 1e-9, 100, &tlr, err, errlen, path))
        return -1;
    if (!*name || strlen(name) >= sizeof(tk->name))
        FAIL("%s.name: a task needs a name of 1..63 characters", path);
    for (int u = 0; u < t; u++)
        if (!strcmp(net->tasks[u].name, name))
            FAIL("%s.name: task \"%s\" is declared twice", path, name);
    snprintf(tk->name, sizeof(tk->name), "%s", name);
    snprintf(path, sizeof(path), "multitask.tasks.%s", name);
    snprintf(tk->label, sizeof(tk->label), "%s", label);
    int o = pick(opt, optim_names, 3);
    if (o < 0)
        FAIL("%s.optimizer: \"%s\" is not sgd, adagrad or adam", path, opt);
    tk->opt = (mtl_optim_kind)o;
    tk->loss_weight = (float)lw;
    tk->pos_weight = (float)pw;
    tk->lr = (float)lr;
    tk->table_lr = (float)tlr;
    tk->pos_keep = tk->neg_keep = 1.0f;
    const config_setting_t *smp = config_setting_get_member(ts, "sampling");
    if (smp) {
        static const char *const sallowed[] = {"pos_keep", "neg_keep", NULL};
        char sp[200];
        snprintf(sp, sizeof(sp), "%s.sampling", path);
        double pk, nk;
        if (check_names(smp, sp, sallowed, err, errlen) ||
            get_num(smp, "pos_keep", 1, 1e-6, 1, &pk, err, errlen, sp) ||
            get_num(smp, "neg_keep", 1, 1e-6, 1, &nk, err, errlen, sp))
            return -1;
        tk->pos_keep = (float)pk;
        tk->neg_keep = (float)nk;
    }
    const config_setting_t *md = config_setting_get_member(ts, "model");
    if (!md || config_setting_type(md) != CONFIG_TYPE_GROUP)
        FAIL("%s.model: each task declares its model: model = { TOWER = ( layers ); ...; head = { "
             "type = ...; }; }",
             path);
    const config_setting_t *head = NULL;
    for (int i = 0; i < config_setting_length(md); i++) {
        const config_setting_t *c = config_setting_get_elem(md, (unsigned)i);
        const char *tn = config_setting_name(c);
        char tp[240];
        snprintf(tp, sizeof(tp), "%s.model.%s", path, tn);
        if (!strcmp(tn, "head")) {
            head = c;
            continue;
        }
        if (!strcmp(tn, "skip"))
            continue;
        if (config_setting_type(c) != CONFIG_TYPE_LIST || config_setting_length(c) < 1)
            FAIL("%s: a tower is a non-empty list of layers ( {...}, {...} )", tp);
        if (tk->n_towers == MTL_MAX_TOWERS)
            FAIL("%s: more than %d towers", tp, MTL_MAX_TOWERS);
        if (config_setting_length(c) > MTL_MAX_LAYERS)
            FAIL("%s: more than %d layers", tp, MTL_MAX_LAYERS);
        int parent = -1;
        for (int l = 0; l < config_setting_length(c); l++) {
            char lp[280];
            snprintf(lp, sizeof(lp), "%s.[%d]", tp, l);
            parent = parse_layer(net, t, config_setting_get_elem(c, (unsigned)l), parent, lp, err,
                                 errlen);
            if (parent < 0)
                return -1;
        }
        snprintf(tk->tower_name[tk->n_towers], sizeof(tk->tower_name[0]), "%.31s", tn);
        int root = parent;
        while (net->nodes[root].parent >= 0)
            root = net->nodes[root].parent;
        tk->tower_root[tk->n_towers] = root;
        tk->tower_node[tk->n_towers++] = parent;
    }
    double skip;
    char mp[200];
    snprintf(mp, sizeof(mp), "%s.model", path);
    if (get_num(md, "skip", 0, 0, 1, &skip, err, errlen, mp))
        return -1;
    tk->skip = skip != 0;
    if (!head)
        FAIL("%s.model.head: missing (head = { type = \"dot\"; } or bilinear or mlp)", path);
    static const char *const hallowed[] = {"type", "hidden", "lr", NULL};
    char hp[200];
    snprintf(hp, sizeof(hp), "%s.model.head", path);
    const char *ht;
    double hid, hlr;
    if (check_names(head, hp, hallowed, err, errlen) ||
        get_str(head, "type", "dot", &ht, err, errlen, hp) ||
        get_num(head, "hidden", 16, 1, 4096, &hid, err, errlen, hp) ||
        get_num(head, "lr", tk->lr, 1e-9, 100, &hlr, err, errlen, hp))
        return -1;
    tk->head_lr = (float)hlr;
    int h = pick(ht, head_names, 3);
    if (h < 0)
        FAIL("%s.type: \"%s\" is not dot, bilinear or mlp", hp, ht);
    tk->head = (head_type)h;
    tk->hidden = (int)hid;
    if (tk->n_towers < 1)
        FAIL("%s.model: no tower declared", path);
    tk->head_in = 0;
    for (int i = 0; i < tk->n_towers; i++)
        tk->head_in += net->nodes[tk->tower_node[i]].out_w;
    if (h == HEAD_BILINEAR && tk->n_towers != 2)
        FAIL("%s: a bilinear head needs exactly two towers (it has %d)", hp, tk->n_towers);
    if (h == HEAD_DOT && tk->n_towers % 2)
        FAIL("%s: a dot head pairs its towers (1st with 2nd, 3rd with 4th, ...): it has %d", hp,
             tk->n_towers);
    for (int k = 0; h == HEAD_DOT && k < tk->n_towers; k += 2) {
        int a = net->nodes[tk->tower_node[k]].out_w, b = net->nodes[tk->tower_node[k + 1]].out_w;
        if (a != b)
            FAIL("%s: a dot head needs paired towers of equal width (%s: %d, %s: %d)", hp,
                 tk->tower_name[k], a, tk->tower_name[k + 1], b);
    }
    return 0;
}

/* multitask.publish = { member = "job_view.member"; ... }: each entity's
 * published embedding is the output of one declared tower, whose first
 * layer must be an embedding table keyed by the entity's id. */
static int parse_publish(mtl_net *net, const config_setting_t *pg, char *err, size_t errlen)
{
    if (!pg)
        return 0;
    if (config_setting_type(pg) != CONFIG_TYPE_GROUP)
        FAIL("multitask.publish: a group { member = \"task.tower\"; company = \"task.tower\"; }");
    int n = config_setting_length(pg);
    if (n > MTL_MAX_PUBLISH)
        FAIL("multitask.publish: more than %d entities", MTL_MAX_PUBLISH);
    for (int i = 0; i < n; i++) {
        const config_setting_t *c = config_setting_get_elem(pg, (unsigned)i);
        const char *ent = config_setting_name(c);
        if (config_setting_type(c) != CONFIG_TYPE_STRING)
            FAIL("multitask.publish.%s: expected \"task.tower\"", ent);
        const char *ref = config_setting_get_string(c);
        const char *dot = strchr(ref, '.');
        if (!dot || dot == ref || !dot[1] || strlen(ref) >= sizeof(net->publish_ref[0]) ||
            strlen(ent) >= sizeof(net->publish_entity[0]))
            FAIL("multitask.publish.%s: \"%s\" is not \"task.tower\"", ent, ref);
        char tname[96];
        snprintf(tname, sizeof(tname), "%.*s", (int)(dot - ref), ref);
        int t = mtl_task_index(net, tname);
        if (t < 0)
            FAIL("multitask.publish.%s: no task \"%s\" is declared", ent, tname);
        const task *tk = &net->tasks[t];
        int top = -1;
        for (int k = 0; k < tk->n_towers; k++)
            if (!strcmp(tk->tower_name[k], dot + 1))
                top = tk->tower_node[k];
        if (top < 0)
            FAIL("multitask.publish.%s: task %s has no tower \"%s\"", ent, tname, dot + 1);
        int bottom = top;
        while (net->nodes[bottom].parent >= 0)
            bottom = net->nodes[bottom].parent;
        if (net->nodes[bottom].type != L_EMBEDDING)
            FAIL("multitask.publish.%s: tower %s starts with a %s layer; a published tower starts "
                 "with an embedding "
                 "of the entity's id",
                 ent, ref, layer_names[net->nodes[bottom].type]);
        snprintf(net->publish_entity[i], sizeof(net->publish_entity[0]), "%s", ent);
        snprintf(net->publish_ref[i], sizeof(net->publish_ref[0]), "%s", ref);
        net->publish_node[i] = top;
        net->publish_bottom[i] = bottom;
        net->publish_skip[i] = tk->skip;
    }
    net->n_publish = n;
    return 0;
}

static uint64_t str_hash(const char *s)
{
    return hash64(s, strlen(s));
}

/* key without its "[task] " tags: what the key would be under hard sharing */
static char *untagged(const char *key)
{
    char *o = xmalloc(strlen(key) + 1), *d = o;
    for (const char *s = key; *s; s++) {
        if (*s == '[') {
            const char *e = strchr(s, ']');
            if (e) {
                s = e[1] == ' ' ? e + 1 : e;
                continue;
            }
        }
        *d++ = *s;
    }
    *d = 0;
    return o;
}

/* Allocate parameters and optimizer state once the graph is known. */
static int build_params(mtl_net *net, char *err, size_t errlen)
{
    for (int i = 0; i < net->n_nodes; i++) {
        node *nd = &net->nodes[i];
        for (int t = 0; t < MTL_MAX_TASKS; t++)
            nd->state_of[t] = -1;
        /* iterative: one optimizer state per user task everywhere; joint: one
         * per user task in tables (row-wise Adagrad accumulators, see
         * table_step), one shared state in dense components */
        int per_task = net->mech == MECH_ITERATIVE || nd->has_tab;
        int k = 0;
        for (int t = 0; t < net->n_tasks; t++)
            if (nd->users & (1u << t))
                nd->state_of[t] = per_task ? k++ : 0;
        nd->n_states = per_task ? k : 1;
        /* soft-sharing copies start equal: seed from the key without task tags */
        char *uk = untagged(nd->key);
        uint64_t nseed = mix64(net->seed ^ str_hash(uk));
        free(uk);
        if (nd->has_tab) {
            uint32_t cap = nd->tab.capacity;
            int admit = nd->tab.admit;
            int64_t ttl = nd->tab.ttl;
            float init = nd->tab.init_scale;
            uint64_t tseed = nseed;
            char e2[200];
            if (dyntable_init(&nd->tab, nd->out_w, cap, admit, ttl, init, tseed, nd->n_states, e2,
                              sizeof(e2)))
                FAIL("component %s: %s", nd->desc, e2);
        } else {
            nd->np = (size_t)nd->out_w * nd->in_w + nd->out_w;
            nd->p = xcalloc(nd->np, sizeof(float));
            nd->g = xcalloc(nd->np, sizeof(float));
            nd->m = xcalloc(nd->np * nd->n_states, sizeof(float));
            nd->v = xcalloc(nd->np * nd->n_states, sizeof(float));
            nd->steps = xcalloc((size_t)nd->n_states, sizeof(long));
            mts_rng r;
            rng_seed(&r, nseed);
            float a = sqrtf(6.0f / (float)(nd->in_w + nd->out_w)); /* Glorot uniform */
            for (size_t j = 0; j < (size_t)nd->out_w * nd->in_w; j++)
                nd->p[j] = (float)((2.0 * rng_uniform(&r) - 1.0) * a);
        }
    }
    for (int t = 0; t < net->n_tasks; t++) {
        task *tk = &net->tasks[t];
        int d1 = net->nodes[tk->tower_node[0]].out_w;
        int d2 = tk->n_towers > 1 ? net->nodes[tk->tower_node[1]].out_w : 0;
        if (tk->head == HEAD_DOT)
            tk->np = (size_t)tk->n_towers / 2 + 1; /* a scale per tower pair, one bias */
        else if (tk->head == HEAD_BILINEAR)
            tk->np = (size_t)d1 * d2 + 1;
        else
            tk->np = (size_t)tk->hidden * tk->head_in + 2 * (size_t)tk->hidden + 1;
        tk->p = xcalloc(tk->np, sizeof(float));
        tk->g = xcalloc(tk->np, sizeof(float));
        tk->m = xcalloc(tk->np, sizeof(float));
        tk->v = xcalloc(tk->np, sizeof(float));
        mts_rng r;
        rng_seed(&r, mix64(net->seed ^ str_hash(tk->name) ^ 0x4eadULL));
        if (tk->head == HEAD_DOT) {
            for (int k = 0; k < tk->n_towers / 2; k++)
                tk->p[k] = 1.0f;
        } else if (tk->head == HEAD_BILINEAR) {
            for (int a = 0; a < d1; a++)
                for (int b = 0; b < d2; b++)
                    tk->p[(size_t)a * d2 + b] =
                        (a == b ? 1.0f : 0.0f) + 0.01f * (float)rng_normal(&r);
        } else {
            float a1 = sqrtf(6.0f / (float)(tk->head_in + tk->hidden)),
                  a2 = sqrtf(6.0f / (float)(tk->hidden + 1));
            for (size_t j = 0; j < (size_t)tk->hidden * tk->head_in; j++)
                tk->p[j] = (float)((2.0 * rng_uniform(&r) - 1.0) * a1);
            float *w2 = tk->p + (size_t)tk->hidden * tk->head_in + tk->hidden;
            for (int j = 0; j < tk->hidden; j++)
                w2[j] = (float)((2.0 * rng_uniform(&r) - 1.0) * a2);
        }
    }
    return 0;
}

static void analyse(mtl_net *net)
{
    /* rows each node computes: its users' rows, and a teacher's nodes also the student's */
    for (int i = 0; i < net->n_nodes; i++) {
        node *nd = &net->nodes[i];
        nd->rowtasks = nd->users;
        if (net->has_distill && (nd->users & (1u << net->teacher)))
            nd->rowtasks |= 1u << net->student;
    }
    for (int t = 0; t < net->n_tasks; t++) {
        net->tasks[t].evalmask = 1u << t;
        if (net->has_distill && t == net->teacher)
            net->tasks[t].evalmask |= 1u << net->student;
    }
    for (int i = 0; i < net->n_nodes; i++) {
        node *nd = &net->nodes[i];
        nd->frontier = __builtin_popcount(nd->users) > 1;
        for (int j = 0; j < net->n_nodes && nd->frontier; j++)
            if (net->nodes[j].parent == i && __builtin_popcount(net->nodes[j].users) > 1)
                nd->frontier = 0;
        /* soft groups: same key once the task tags are removed */
        if (net->soft && nd->soft_group < 0) {
            nd->soft_group = i;
            char *ka = untagged(nd->key);
            for (int j = i + 1; j < net->n_nodes; j++) {
                char *kb = untagged(net->nodes[j].key);
                if (!strcmp(ka, kb) && net->nodes[j].soft_group < 0)
                    net->nodes[j].soft_group = i;
                free(kb);
            }
            free(ka);
        }
    }
}

mtl_net *mtl_new(const config_setting_t *mt, char *err, size_t errlen)
{
    static const char *const allowed[] = {"mechanism",      "weighting",
                                          "sharing",        "soft_l2",
                                          "gradnorm_alpha", "gradnorm_lr",
                                          "seed",           "shared_optimizer",
                                          "shared_lr",      "shared_table_lr",
                                          "distillation",   "publish",
                                          "tasks",          NULL};
    if (!mt || config_setting_type(mt) != CONFIG_TYPE_GROUP) {
        snprintf(err, errlen, "multitask: missing or not a group");
        return NULL;
    }
    mtl_net *net = xcalloc(1, sizeof(*net));
    net->nodes = xcalloc(MTL_MAX_NODES, sizeof(node));
    const char *mech, *weigh, *sharing, *sopt;
    double soft_l2, alpha, gnlr, seed, slr, stlr;
    const char *P = "multitask";
    if (check_names(mt, P, allowed, err, errlen) ||
        get_str(mt, "mechanism", "joint", &mech, err, errlen, P) ||
        get_str(mt, "weighting", "fixed", &weigh, err, errlen, P) ||
        get_str(mt, "sharing", "hard", &sharing, err, errlen, P) ||
        get_str(mt, "shared_optimizer", "adam", &sopt, err, errlen, P) ||
        get_num(mt, "soft_l2", 0.01, 0, 1e3, &soft_l2, err, errlen, P) ||
        get_num(mt, "gradnorm_alpha", 1.5, 0, 10, &alpha, err, errlen, P) ||
        get_num(mt, "gradnorm_lr", 0.025, 1e-6, 10, &gnlr, err, errlen, P) ||
        get_num(mt, "seed", 42, 0, 9.2e18, &seed, err, errlen, P) ||
        get_num(mt, "shared_lr", 0.01, 1e-9, 100, &slr, err, errlen, P) ||
        get_num(mt, "shared_table_lr", 0.05, 1e-9, 100, &stlr, err, errlen, P))
        goto fail;
    if (!strcmp(mech, "joint"))
        net->mech = MECH_JOINT;
    else if (!strcmp(mech, "iterative"))
        net->mech = MECH_ITERATIVE;
    else {
        snprintf(err, errlen, "multitask.mechanism: \"%s\" is not joint or iterative", mech);
        goto fail;
    }
    int w = pick(weigh, (const char *const[]){"fixed", "uncertainty", "gradnorm"}, 3);
    if (w < 0) {
        snprintf(err, errlen, "multitask.weighting: \"%s\" is not fixed, uncertainty or gradnorm",
                 weigh);
        goto fail;
    }
    net->weigh = (weighting)w;
    if (strcmp(sharing, "hard") && strcmp(sharing, "soft")) {
        snprintf(err, errlen, "multitask.sharing: \"%s\" is not hard or soft", sharing);
        goto fail;
    }
    net->soft = !strcmp(sharing, "soft");
    if (net->mech == MECH_JOINT && net->soft) {
        snprintf(
            err, errlen,
            "multitask.sharing: soft sharing is an iterative-training option (tasks take turns "
            "on their own copies); joint training shares hard");
        goto fail;
    }
    if (net->mech == MECH_ITERATIVE && net->weigh != W_FIXED) {
        snprintf(err, errlen,
                 "multitask.weighting: %s weighting balances the tasks of one combined loss, which "
                 "only joint training has; iterative training uses each task's lr",
                 weigh);
        goto fail;
    }
    int so = pick(sopt, optim_names, 3);
    if (so < 0) {
        snprintf(err, errlen, "multitask.shared_optimizer: \"%s\" is not sgd, adagrad or adam",
                 sopt);
        goto fail;
    }
    net->shared_opt = (mtl_optim_kind)so;
    net->soft_l2 = (float)soft_l2;
    net->gn_alpha = (float)alpha;
    net->gn_lr = (float)gnlr;
    net->seed = (uint64_t)seed;
    net->shared_lr = (float)slr;
    net->shared_table_lr = (float)stlr;
    const config_setting_t *tasks = config_setting_get_member(mt, "tasks");
    if (!tasks || config_setting_type(tasks) != CONFIG_TYPE_LIST ||
        config_setting_length(tasks) < 1) {
        snprintf(err, errlen, "multitask.tasks: a non-empty list of task groups is needed");
        goto fail;
    }
    if (config_setting_length(tasks) > MTL_MAX_TASKS) {
        snprintf(err, errlen, "multitask.tasks: more than %d tasks", MTL_MAX_TASKS);
        goto fail;
    }
    net->n_tasks = config_setting_length(tasks);
    for (int t = 0; t < net->n_tasks; t++)
        if (parse_task(net, t, config_setting_get_elem(tasks, (unsigned)t), err, errlen))
            goto fail;
    const config_setting_t *ds = config_setting_get_member(mt, "distillation");
    net->teacher = net->student = -1;
    if (ds) {
        static const char *const dallowed[] = {"teacher", "student", "weight", "margin", NULL};
        const char *D = "multitask.distillation";
        const char *te, *st;
        double dw, dm;
        if (check_names(ds, D, dallowed, err, errlen) ||
            get_str(ds, "teacher", "", &te, err, errlen, D) ||
            get_str(ds, "student", "", &st, err, errlen, D) ||
            get_num(ds, "weight", 1, 0, 1e6, &dw, err, errlen, D) ||
            get_num(ds, "margin", 1, 0, 1e3, &dm, err, errlen, D))
            goto fail;
        if (net->mech != MECH_JOINT) {
            snprintf(err, errlen,
                     "multitask.distillation: knowledge distillation needs joint training (teacher "
                     "loss, "
                     "student loss and hinge loss on the same batch); mechanism is iterative");
            goto fail;
        }
        net->teacher = mtl_task_index(net, te);
        net->student = mtl_task_index(net, st);
        if (net->teacher < 0 || net->student < 0) {
            snprintf(
                err, errlen,
                "multitask.distillation: teacher \"%s\" and student \"%s\" must be declared tasks",
                te, st);
            goto fail;
        }
        if (net->teacher == net->student) {
            snprintf(err, errlen,
                     "multitask.distillation: teacher and student are the same task \"%s\"", te);
            goto fail;
        }
        net->has_distill = 1;
        net->distill_weight = (float)dw;
        net->distill_margin = (float)dm;
    }
    if (parse_publish(net, config_setting_get_member(mt, "publish"), err, errlen))
        goto fail;
    if (net->mech == MECH_JOINT && net->n_tasks > 1) {
        int shared = 0;
        for (int i = 0; i < net->n_nodes; i++)
            shared |= __builtin_popcount(net->nodes[i].users) > 1;
        if (!shared) {
            snprintf(
                err, errlen,
                "multitask: joint training of %d tasks needs at least one shared component (two "
                "tasks declaring the same first layer over the same input); none is shared - "
                "declare one, or use mechanism = \"iterative\"",
                net->n_tasks);
            goto fail;
        }
    }
    analyse(net);
    if (build_params(net, err, errlen))
        goto fail;
    for (int t = 0; t < net->n_tasks; t++) {
        net->gn_w[t] = net->tasks[t].loss_weight;
        net->last_loss[t] = NAN;
        net->gn_L0[t] = -1;
    }
    adam_init(&net->unc_adam, net->shared_lr);
    rng_seed(&net->sample_rng, mix64(net->seed ^ 0x5a3b1eULL));
    return net;
fail:
    mtl_free(net);
    return NULL;
}

static mtl_net *from_config(config_t *cf, int ok, const char *what, char *err, size_t errlen)
{
    mtl_net *net = NULL;
    if (!ok)
        snprintf(err, errlen, "%s:%d: %s", config_error_file(cf) ? config_error_file(cf) : what,
                 config_error_line(cf), config_error_text(cf));
    else {
        const config_setting_t *mt = config_lookup(cf, "multitask");
        if (!mt)
            snprintf(err, errlen, "%s: no multitask section", what);
        else
            net = mtl_new(mt, err, errlen);
    }
    config_destroy(cf);
    return net;
}

mtl_net *mtl_new_from_file(const char *path, char *err, size_t errlen)
{
    config_t cf;
    config_init(&cf);
    return from_config(&cf, config_read_file(&cf, path) == CONFIG_TRUE, path, err, errlen);
}

mtl_net *mtl_new_from_string(const char *text, char *err, size_t errlen)
{
    config_t cf;
    config_init(&cf);
    return from_config(&cf, config_read_string(&cf, text) == CONFIG_TRUE, "(string)", err, errlen);
}

void mtl_free(mtl_net *net)
{
    if (!net)
        return;
    for (int i = 0; i < net->n_nodes; i++) {
        node *nd = &net->nodes[i];
        free(nd->key);
        if (nd->has_tab)
            dyntable_free(&nd->tab);
        free(nd->p), free(nd->g), free(nd->m), free(nd->v), free(nd->steps);
        free(nd->rows), free(nd->local), free(nd->out), free(nd->dout), free(nd->x), free(nd->dx),
            free(nd->dz);
        free(nd->tabrow), free(nd->off), free(nd->bagrow);
    }
    free(net->nodes);
    for (int t = 0; t < net->n_tasks; t++) {
        task *tk = &net->tasks[t];
        free(tk->p), free(tk->g), free(tk->m), free(tk->v), free(tk->rows), free(tk->logit),
            free(tk->dlogit);
        free(tk->x), free(tk->dx), free(tk->h), free(tk->dh), free(tk->uM), free(tk->dotv);
    }
    free(net->btask), free(net->bw), free(net->sel), free(net->frozen_sign);
    free(net);
}

/* ------------------------------------------------------------------ */
/* accessors                                                           */

int mtl_n_inputs(const mtl_net *n)
{
    return n->n_inputs;
}
const char *mtl_input_name(const mtl_net *n, int i)
{
    return i >= 0 && i < n->n_inputs ? n->input_name[i] : NULL;
}
mtl_input_kind mtl_input_type(const mtl_net *n, int i)
{
    return n->input_kind[i];
}
int mtl_n_tasks(const mtl_net *n)
{
    return n->n_tasks;
}
const char *mtl_task_name(const mtl_net *n, int t)
{
    return t >= 0 && t < n->n_tasks ? n->tasks[t].name : NULL;
}
const char *mtl_task_label(const mtl_net *n, int t)
{
    return t >= 0 && t < n->n_tasks ? n->tasks[t].label : NULL;
}
uint64_t mtl_rows_skipped(const mtl_net *n)
{
    return n->skipped;
}
double mtl_task_loss(const mtl_net *n, int t)
{
    return t >= 0 && t < n->n_tasks ? n->last_loss[t] : NAN;
}

int mtl_input_index(const mtl_net *n, const char *name)
{
    for (int i = 0; i < n->n_inputs; i++)
        if (!strcmp(n->input_name[i], name))
            return i;
    return -1;
}

int mtl_task_index(const mtl_net *n, const char *name)
{
    for (int t = 0; t < n->n_tasks; t++)
        if (!strcmp(n->tasks[t].name, name))
            return t;
    return -1;
}

float mtl_task_weight(const mtl_net *n, int t)
{
    if (t < 0 || t >= n->n_tasks)
        return NAN;
    if (n->weigh == W_UNCERTAINTY)
        return expf(-n->unc_s[t]);
    if (n->weigh == W_GRADNORM)
        return n->gn_w[t];
    return n->tasks[t].loss_weight;
}

/* ------------------------------------------------------------------ */
/* forward / backward                                                  */

static void ensure_batch(mtl_net *net, int B)
{
    if (B <= net->bcap)
        return;
    int cap = B < 64 ? 64 : B;
    net->btask = xrealloc(net->btask, (size_t)cap * sizeof(int));
    net->bw = xrealloc(net->bw, (size_t)cap * sizeof(float));
    net->sel = xrealloc(net->sel, (size_t)cap * sizeof(mtl_example));
    for (int i = 0; i < net->n_nodes; i++)
        net->nodes[i].local = xrealloc(net->nodes[i].local, (size_t)cap * sizeof(int));
    net->bcap = cap;
}

static void node_reserve(node *nd, int n)
{
    if (n <= nd->cap)
        return;
    int cap = n < 64 ? 64 : n;
    nd->rows = xrealloc(nd->rows, (size_t)cap * sizeof(int));
    nd->out = xrealloc(nd->out, (size_t)cap * nd->out_w * sizeof(float));
    nd->dout = xrealloc(nd->dout, (size_t)cap * nd->out_w * sizeof(float));
    if (nd->type == L_DENSE) {
        nd->x = xrealloc(nd->x, (size_t)cap * nd->in_w * sizeof(float));
        nd->dx = xrealloc(nd->dx, (size_t)cap * nd->in_w * sizeof(float));
        nd->dz = xrealloc(nd->dz, (size_t)cap * nd->out_w * sizeof(float));
    } else {
        nd->tabrow = xrealloc(nd->tabrow, (size_t)cap * sizeof(int32_t));
        nd->off = xrealloc(nd->off, (size_t)(cap + 1) * sizeof(int));
    }
    nd->cap = cap;
}

static void task_reserve(task *tk, int n, int d2)
{
    if (n <= tk->cap)
        return;
    int cap = n < 64 ? 64 : n;
    tk->rows = xrealloc(tk->rows, (size_t)cap * sizeof(int));
    tk->logit = xrealloc(tk->logit, (size_t)cap * sizeof(float));
    tk->dlogit = xrealloc(tk->dlogit, (size_t)cap * sizeof(float));
    tk->x = xrealloc(tk->x, (size_t)cap * tk->head_in * sizeof(float));
    tk->dx = xrealloc(tk->dx, (size_t)cap * tk->head_in * sizeof(float));
    tk->h = xrealloc(tk->h, (size_t)cap * tk->hidden * sizeof(float));
    tk->dh = xrealloc(tk->dh, (size_t)cap * tk->hidden * sizeof(float));
    tk->uM = xrealloc(tk->uM, (size_t)cap * (d2 > 0 ? d2 : 1) * sizeof(float));
    tk->dotv = xrealloc(tk->dotv, (size_t)cap * (tk->n_towers / 2 + 1) * sizeof(float));
    tk->cap = cap;
}

static int64_t clock_of(const mtl_net *net, const mtl_example *e)
{
    return e->time > 0 ? e->time : net->events;
}

/* Table rows of one bag/ngram value into nd->bagrow from position k; returns the new end. */
static int bag_rows(mtl_net *net, node *nd, const mtl_example *e, int k, int train)
{
    const mtl_value *v = &e->in[nd->input];
    int64_t tmp[512];
    const int64_t *ids;
    int cnt;
    if (nd->type == L_NGRAM) {
        cnt = ngram_ids(tmp, 512, v->text, nd->ngram_n, net->seed);
        ids = tmp;
    } else {
        ids = v->ids;
        cnt = v->ids && v->n_ids > 0 ? (v->n_ids < MTL_MAX_BAG ? v->n_ids : MTL_MAX_BAG) : 0;
    }
    if (k + cnt > nd->bag_cap) {
        nd->bag_cap = (k + cnt) * 2 + 64;
        nd->bagrow = xrealloc(nd->bagrow, (size_t)nd->bag_cap * sizeof(int32_t));
    }
    int64_t now = clock_of(net, e);
    for (int j = 0; j < cnt; j++) {
        int32_t r = dyntable_lookup(&nd->tab, ids[j], now, train);
        if (r >= 0)
            nd->bagrow[k++] = r;
    }
    return k;
}

static void node_forward(mtl_net *net, node *nd, const mtl_example *ex, int B, int train)
{
    int n = 0;
    for (int b = 0; b < B; b++) {
        nd->local[b] = -1;
        if (nd->rowtasks & (1u << net->btask[b]))
            n++;
    }
    node_reserve(nd, n);
    n = 0;
    for (int b = 0; b < B; b++)
        if (nd->rowtasks & (1u << net->btask[b])) {
            nd->local[b] = n;
            nd->rows[n++] = b;
        }
    nd->n = n;
    int D = nd->out_w;
    memset(nd->dout, 0, (size_t)n * D * sizeof(float));
    if (nd->type == L_EMBEDDING) {
        for (int i = 0; i < n; i++) {
            const mtl_example *e = &ex[nd->rows[i]];
            int32_t r = dyntable_lookup(&nd->tab, e->in[nd->input].id, clock_of(net, e), train);
            nd->tabrow[i] = r;
            if (r >= 0)
                memcpy(nd->out + (size_t)i * D, dyntable_row(&nd->tab, r),
                       (size_t)D * sizeof(float));
            else
                memset(nd->out + (size_t)i * D, 0, (size_t)D * sizeof(float));
        }
    } else if (nd->type == L_BAG || nd->type == L_NGRAM) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            nd->off[i] = k;
            k = bag_rows(net, nd, &ex[nd->rows[i]], k, train);
            float *o = nd->out + (size_t)i * D;
            memset(o, 0, (size_t)D * sizeof(float));
            int c = k - nd->off[i];
            for (int j = nd->off[i]; j < k; j++) {
                const float *w = dyntable_row(&nd->tab, nd->bagrow[j]);
                for (int d = 0; d < D; d++)
                    o[d] += w[d];
            }
            if (c > 0)
                for (int d = 0; d < D; d++)
                    o[d] /= (float)c;
        }
        nd->off[n] = k;
    } else {
        node *par = &net->nodes[nd->parent];
        const float *x = par->out;
        if (par->n != n) {
            for (int i = 0; i < n; i++)
                memcpy(nd->x + (size_t)i * nd->in_w,
                       par->out + (size_t)par->local[nd->rows[i]] * nd->in_w,
                       (size_t)nd->in_w * sizeof(float));
            x = nd->x;
        }
        const float *W = nd->p, *bias = nd->p + (size_t)nd->out_w * nd->in_w;
        dense_forward(nd->out, x, W, bias, n, nd->in_w, D);
        if (nd->relu)
            relu_forward(nd->out, nd->out, n * D);
    }
}

/* Table rows' gradients from the node's dout into the table's gradient
 * slots: of every row (state -1), or only of the batch rows whose task
 * updates optimizer state column `state` (rows of a task that does not use
 * the node - a distillation student's - count as its first user's). */
static void table_grad(mtl_net *net, node *nd, int state)
{
    int n = nd->n, D = nd->out_w;
    int first = nd->state_of[__builtin_ctz(nd->users)];
    for (int i = 0; i < n; i++) {
        if (state >= 0) {
            int s = nd->state_of[net->btask[nd->rows[i]]];
            if ((s < 0 ? first : s) != state)
                continue;
        }
        const float *d = nd->dout + (size_t)i * D;
        if (nd->type == L_EMBEDDING) {
            if (nd->tabrow[i] < 0)
                continue;
            float *g = dyntable_grad(&nd->tab, nd->tabrow[i]);
            for (int k = 0; k < D; k++)
                g[k] += d[k];
        } else { /* bag, ngram: mean of the rows */
            int c = nd->off[i + 1] - nd->off[i];
            for (int j = nd->off[i]; j < nd->off[i + 1]; j++) {
                float *g = dyntable_grad(&nd->tab, nd->bagrow[j]);
                for (int k = 0; k < D; k++)
                    g[k] += d[k] / (float)c;
            }
        }
    }
}

/* Task t's pull on a shared component: its weight over the largest weight
 * among the component's users (1 when all weigh the same, 0 when all weigh
 * 0). The weights are mtl_task_weight's - loss_weight, or the learned
 * uncertainty / GradNorm weights the last joint loss used (update runs
 * before they move) - of every user, whether or not it has rows in the
 * batch, so a task's pull does not depend on which other tasks the batch
 * happens to hold. Where a task keeps its own adaptive optimizer state on a
 * shared component - a shared table's row-wise Adagrad accumulators in joint
 * training, every shared component in iterative training - the state
 * normalises away a weight multiplied into the gradient, so the weight
 * scales the task's step there instead; otherwise loss_weight could not make
 * a task pull less on what it shares. A distillation student pulls fully:
 * its gradient there mixes its own loss and the hinge towards the teacher,
 * which distillation.weight weighs. A step scaled to 0 is not taken, so a
 * task at weight 0 builds no optimizer state it would carry into a reload. */
static float pull(const mtl_net *net, const node *nd, int t)
{
    if (net->has_distill && t == net->student)
        return 1.0f; /* its gradient mixes its loss and the hinge (distillation.weight) */
    float mx = 0;
    for (int u = 0; u < net->n_tasks; u++) {
        float w = mtl_task_weight(net, u);
        if ((nd->users >> u & 1u) && w > mx)
            mx = w;
    }
    return mx > 0 ? mtl_task_weight(net, t) / mx : 0.0f;
}

/* Joint step of a shared table: each user task's share of the gradient
 * (its rows' contributions) is applied with its own row-wise Adagrad
 * accumulator, as iterative training does, and scaled by the task's pull.
 * One accumulator for all tasks would let the tasks with few rows per
 * batch - whose per-task-mean losses give each of their rows a large
 * gradient - inflate every shared row's accumulator and shrink the frequent
 * tasks' steps. SGD is linear in the gradient (which carries the weights),
 * so it takes the summed gradient in one step. */
static void table_step(mtl_net *net, node *nd, mtl_optim_kind k, float lr)
{
    if (k == OPT_SGD || nd->n_states == 1) {
        dyntable_update(&nd->tab, k, lr, 0);
        return;
    }
    dyntable_clear_grad(&nd->tab);
    for (int s = 0; s < nd->n_states; s++) {
        table_grad(net, nd, s);
        int t = 0;
        while (t < net->n_tasks && !((nd->users >> t & 1u) && nd->state_of[t] == s))
            t++;
        float p = t < net->n_tasks ? pull(net, nd, t) : 1.0f;
        if (p > 0)
            dyntable_update(&nd->tab, k, lr * p, s);
        else /* weight 0: no step, and no accumulator built up for a later reload */
            dyntable_clear_grad(&nd->tab);
    }
}

static void node_backward(mtl_net *net, node *nd, int train)
{
    int n = nd->n, D = nd->out_w;
    if (n == 0)
        return;
    if (nd->has_tab) {
        if (train)
            table_grad(net, nd, -1);
    } else {
        node *par = &net->nodes[nd->parent];
        const float *dz = nd->dout;
        if (nd->relu) {
            memset(nd->dz, 0, (size_t)n * D * sizeof(float));
            relu_backward(nd->dz, nd->dout, nd->out, n * D);
            dz = nd->dz;
        }
        int same = par->n == n;
        const float *x = same ? par->out : nd->x;
        float *dx = same ? par->dout : nd->dx;
        if (!same)
            memset(nd->dx, 0, (size_t)n * nd->in_w * sizeof(float));
        const float *W = nd->p;
        float *gW = nd->g, *gb = nd->g + (size_t)D * nd->in_w;
        dense_backward(dx, gW, gb, dz, x, W, n, nd->in_w, D);
        if (!same)
            for (int i = 0; i < n; i++) {
                float *pd = par->dout + (size_t)par->local[nd->rows[i]] * nd->in_w;
                const float *s = nd->dx + (size_t)i * nd->in_w;
                for (int k = 0; k < nd->in_w; k++)
                    pd[k] += s[k];
            }
    }
}

/* Skip connection of tower k: its output adds the input layer's output on
 * the first min(input width, output width) components; 0 when the task has
 * no skip or the tower is its input layer alone. */
static int tower_skip_width(const mtl_net *net, const task *tk, int k)
{
    int top = tk->tower_node[k], root = tk->tower_root[k];
    if (!tk->skip || top == root)
        return 0;
    int a = net->nodes[top].out_w, b = net->nodes[root].out_w;
    return a < b ? a : b;
}

static void head_forward(mtl_net *net, task *tk, int B)
{
    int n = 0;
    for (int b = 0; b < B; b++)
        n += (tk->evalmask >> net->btask[b]) & 1;
    int d1 = net->nodes[tk->tower_node[0]].out_w;
    int d2 = tk->n_towers > 1 ? net->nodes[tk->tower_node[1]].out_w : 0;
    task_reserve(tk, n, d2);
    n = 0;
    for (int b = 0; b < B; b++)
        if ((tk->evalmask >> net->btask[b]) & 1)
            tk->rows[n++] = b;
    tk->n = n;
    if (!n)
        return;
    int off = 0;
    for (int k = 0; k < tk->n_towers; k++) {
        node *nd = &net->nodes[tk->tower_node[k]];
        for (int i = 0; i < n; i++)
            memcpy(tk->x + (size_t)i * tk->head_in + off,
                   nd->out + (size_t)nd->local[tk->rows[i]] * nd->out_w,
                   (size_t)nd->out_w * sizeof(float));
        int S = tower_skip_width(net, tk, k);
        if (S) {
            const node *rt = &net->nodes[tk->tower_root[k]];
            for (int i = 0; i < n; i++) {
                float *x = tk->x + (size_t)i * tk->head_in + off;
                const float *r = rt->out + (size_t)rt->local[tk->rows[i]] * rt->out_w;
                for (int j = 0; j < S; j++)
                    x[j] += r[j];
            }
        }
        off += nd->out_w;
    }
    /* the towers sit side by side in x: u = columns [0, d1), v = [d1, d1 + d2) */
    if (tk->head == HEAD_DOT) { /* logit = sum_k scale_k <tower 2k, tower 2k+1> + bias */
        int P = tk->n_towers / 2;
        for (int i = 0; i < n; i++) {
            const float *x = tk->x + (size_t)i * tk->head_in;
            float z = tk->p[P];
            for (int k = 0, o = 0; k < P; k++) {
                int d = net->nodes[tk->tower_node[2 * k]].out_w;
                float s = 0;
                for (int j = 0; j < d; j++)
                    s += x[o + j] * x[o + d + j];
                tk->dotv[(size_t)i * P + k] = s;
                z += tk->p[k] * s;
                o += 2 * d;
            }
            tk->logit[i] = z;
        }
    } else if (tk->head == HEAD_BILINEAR) {
        /* strided u, v: copy out contiguous views in dx (scratch) */
        float *u = tk->dx, *v = tk->dx + (size_t)n * d1;
        for (int i = 0; i < n; i++) {
            memcpy(u + (size_t)i * d1, tk->x + (size_t)i * tk->head_in, (size_t)d1 * sizeof(float));
            memcpy(v + (size_t)i * d2, tk->x + (size_t)i * tk->head_in + d1,
                   (size_t)d2 * sizeof(float));
        }
        bilinear_forward(tk->logit, tk->uM, u, v, tk->p, tk->p[(size_t)d1 * d2], n, d1, d2);
    } else {
        int H = tk->hidden, C = tk->head_in;
        const float *W1 = tk->p, *b1 = W1 + (size_t)H * C, *w2 = b1 + H, *b2 = w2 + H;
        dense_forward(tk->h, tk->x, W1, b1, n, C, H);
        relu_forward(tk->h, tk->h, n * H);
        dense_forward(tk->logit, tk->h, w2, b2, n, H, 1);
    }
}

/* dlogit (n) is set; accumulate into the parameters' gradient and the towers' dout. */
static void head_backward(mtl_net *net, task *tk)
{
    int n = tk->n;
    if (!n)
        return;
    int d1 = net->nodes[tk->tower_node[0]].out_w;
    int d2 = tk->n_towers > 1 ? net->nodes[tk->tower_node[1]].out_w : 0;
    int C = tk->head_in;
    memset(tk->dx, 0, (size_t)n * C * sizeof(float));
    if (tk->head == HEAD_DOT) {
        int P = tk->n_towers / 2;
        for (int i = 0; i < n; i++) {
            float g = tk->dlogit[i];
            const float *x = tk->x + (size_t)i * C;
            float *dx = tk->dx + (size_t)i * C;
            for (int k = 0, o = 0; k < P; k++) {
                int d = net->nodes[tk->tower_node[2 * k]].out_w;
                float gs = g * tk->p[k];
                for (int j = 0; j < d; j++) {
                    dx[o + j] += gs * x[o + d + j];
                    dx[o + d + j] += gs * x[o + j];
                }
                tk->g[k] += g * tk->dotv[(size_t)i * P + k];
                o += 2 * d;
            }
            tk->g[P] += g;
        }
    } else if (tk->head == HEAD_BILINEAR) {
        float *u = xmalloc((size_t)n * (d1 + d2) * sizeof(float)), *v = u + (size_t)n * d1;
        float *du = xcalloc((size_t)n * (d1 + d2), sizeof(float)), *dv = du + (size_t)n * d1;
        for (int i = 0; i < n; i++) {
            memcpy(u + (size_t)i * d1, tk->x + (size_t)i * C, (size_t)d1 * sizeof(float));
            memcpy(v + (size_t)i * d2, tk->x + (size_t)i * C + d1, (size_t)d2 * sizeof(float));
        }
        bilinear_backward(du, dv, tk->g, tk->g + (size_t)d1 * d2, tk->dlogit, tk->uM, u, v, tk->p,
                          n, d1, d2);
        for (int i = 0; i < n; i++) {
            memcpy(tk->dx + (size_t)i * C, du + (size_t)i * d1, (size_t)d1 * sizeof(float));
            memcpy(tk->dx + (size_t)i * C + d1, dv + (size_t)i * d2, (size_t)d2 * sizeof(float));
        }
        free(u);
        free(du);
    } else {
        int H = tk->hidden;
        const float *W1 = tk->p, *b1 = W1 + (size_t)H * C, *w2 = b1 + H;
        float *gW1 = tk->g, *gb1 = gW1 + (size_t)H * C, *gw2 = gb1 + H, *gb2 = gw2 + H;
        (void)b1;
        memset(tk->dh, 0, (size_t)n * H * sizeof(float));
        dense_backward(tk->dh, gw2, gb2, tk->dlogit, tk->h, w2, n, H, 1);
        /* through the ReLU in place: dh *= (h > 0) */
        for (int i = 0; i < n * H; i++)
            tk->dh[i] *= (float)(tk->h[i] > 0.0f);
        dense_backward(tk->dx, gW1, gb1, tk->dh, tk->x, W1, n, C, H);
    }
    int off = 0;
    for (int k = 0; k < tk->n_towers; k++) {
        node *nd = &net->nodes[tk->tower_node[k]];
        for (int i = 0; i < n; i++) {
            float *d = nd->dout + (size_t)nd->local[tk->rows[i]] * nd->out_w;
            const float *s = tk->dx + (size_t)i * C + off;
            for (int j = 0; j < nd->out_w; j++)
                d[j] += s[j];
        }
        int S = tower_skip_width(net, tk, k);
        if (S) {
            node *rt = &net->nodes[tk->tower_root[k]];
            for (int i = 0; i < n; i++) {
                float *d = rt->dout + (size_t)rt->local[tk->rows[i]] * rt->out_w;
                const float *s = tk->dx + (size_t)i * C + off;
                for (int j = 0; j < S; j++)
                    d[j] += s[j];
            }
        }
        off += nd->out_w;
    }
}

/* Soft sharing: penalty (and its gradient) pulling node nd of task t towards
 * its group partners, lambda/2 ||p - p_partner||^2 per partner; tables per
 * looked-up occurrence of a row, against the partner's row of the same id. */
static double soft_penalty(mtl_net *net, int t, int grad)
{
    if (!net->soft || net->soft_l2 <= 0)
        return 0;
    double pen = 0;
    float lam = net->soft_l2;
    for (int i = 0; i < net->n_nodes; i++) {
        node *nd = &net->nodes[i];
        if (!(nd->users & (1u << t)))
            continue;
        for (int j = 0; j < net->n_nodes; j++) {
            node *pt = &net->nodes[j];
            if (j == i || pt->soft_group != nd->soft_group)
                continue;
            if (!nd->has_tab) {
                for (size_t k = 0; k < nd->np; k++) {
                    float d = nd->p[k] - pt->p[k];
                    pen += 0.5 * lam * d * d;
                    if (grad)
                        nd->g[k] += lam * d;
                }
                continue;
            }
            int D = nd->out_w;
            int cnt = nd->type == L_EMBEDDING ? nd->n : nd->off[nd->n];
            for (int o = 0; o < cnt; o++) {
                int32_t r = nd->type == L_EMBEDDING ? nd->tabrow[o] : nd->bagrow[o];
                if (r < 0)
                    continue;
                int32_t q = dyntable_find(&pt->tab, nd->tab.ids[r]);
                if (q < 0)
                    continue;
                const float *a = dyntable_row(&nd->tab, r), *b = dyntable_row(&pt->tab, q);
                float *g = grad ? dyntable_grad(&nd->tab, r) : NULL;
                for (int k = 0; k < D; k++) {
                    float d = a[k] - b[k];
                    pen += 0.5 * lam * d * d;
                    if (g)
                        g[k] += lam * d;
                }
            }
        }
    }
    return pen;
}

/* One forward (and backward when train) over ex[0..B): task_step = -1 joint,
 * else iterative step of that task (ex must then hold only its rows).
 * Returns the loss minimised. */
static double run(mtl_net *net, const mtl_example *ex, int B, int task_step, int train,
                  int backward)
{
    ensure_batch(net, B);
    for (int b = 0; b < B; b++) {
        const mtl_example *e = &ex[b];
        net->btask[b] = e->task;
        float pw = e->label >= 0.5f ? net->tasks[e->task].pos_weight : 1.0f;
        net->bw[b] = e->weight * pw;
    }
    uint32_t active = 0;
    for (int t = 0; t < net->n_tasks; t++) {
        net->step_loss[t] = 0;
        net->step_lossd[t] = 0;
        net->step_n[t] = 0;
    }
    for (int b = 0; b < B; b++) {
        net->step_n[net->btask[b]]++;
        active |= 1u << net->btask[b];
    }
    if (backward) {
        for (int i = 0; i < net->n_nodes; i++)
            if (net->nodes[i].g)
                memset(net->nodes[i].g, 0, net->nodes[i].np * sizeof(float));
        for (int t = 0; t < net->n_tasks; t++)
            memset(net->tasks[t].g, 0, net->tasks[t].np * sizeof(float));
        memset(net->unc_g, 0, sizeof(net->unc_g));
    }
    uint32_t need = active;
    if (net->has_distill && (active & (1u << net->student)))
        need |= 1u << net->teacher;
    for (int i = 0; i < net->n_nodes; i++) {
        node *nd = &net->nodes[i];
        if (nd->users & need)
            node_forward(net, nd, ex, B, train);
        else
            nd->n = 0;
    }
    for (int t = 0; t < net->n_tasks; t++) {
        if (need & (1u << t))
            head_forward(net, &net->tasks[t], B);
        else
            net->tasks[t].n = 0;
    }
    /* task losses (means over their own rows) and the combined loss */
    int act[MTL_MAX_TASKS] = {0};
    for (int t = 0; t < net->n_tasks; t++) {
        task *tk = &net->tasks[t];
        if (!(active & (1u << t)))
            continue;
        act[t] = 1;
        double s = 0;
        for (int i = 0; i < tk->n; i++) {
            int b = tk->rows[i];
            if (net->btask[b] != t)
                continue;
            float l;
            bce_forward(&l, &tk->logit[i], &ex[b].label, &net->bw[b], 1);
            s += (double)net->bw[b] * l;
        }
        net->step_lossd[t] = s / net->step_n[t];
        net->step_loss[t] = (float)net->step_lossd[t];
    }
    double total = 0;
    float coef[MTL_MAX_TASKS] = {0};
    if (task_step >= 0) {
        coef[task_step] = 1.0f;
        total = net->step_lossd[task_step];
    } else if (net->weigh == W_UNCERTAINTY) {
        for (int t = 0; t < net->n_tasks; t++) /* uncertainty_forward's sum, in double */
            if (act[t])
                total += exp(-(double)net->unc_s[t]) * net->step_lossd[t] + net->unc_s[t];
        for (int t = 0; t < net->n_tasks; t++)
            coef[t] = act[t] ? expf(-net->unc_s[t]) : 0.0f;
    } else {
        for (int t = 0; t < net->n_tasks; t++) {
            coef[t] = net->weigh == W_GRADNORM ? net->gn_w[t] : net->tasks[t].loss_weight;
            if (act[t])
                total += coef[t] * net->step_lossd[t];
        }
    }
    /* distillation: the student's logit on the teacher's side of zero */
    int S = net->student, T = net->teacher;
    float dscale = 0;
    float *ys = NULL, *ws = NULL, *zs = NULL;
    int ns = 0;
    if (task_step < 0 && net->has_distill && (active & (1u << S))) {
        task *st = &net->tasks[S], *te = &net->tasks[T];
        ys = xmalloc((size_t)st->n * 3 * sizeof(float));
        ws = ys + st->n;
        zs = ws + st->n;
        int j = 0;
        for (int i = 0; i < te->n; i++) {
            int b = te->rows[i];
            if (net->btask[b] != S)
                continue;
            /* teacher rows of the student task are in batch order, as the student's rows */
            ys[j] = te->logit[i] >= 0 ? 1.0f : -1.0f;
            if (net->distill_frozen && j < net->frozen_n)
                ys[j] = net->frozen_sign[j];
            ws[j] = net->bw[b];
            zs[j] = st->logit[j];
            j++;
        }
        ns = j;
        if (backward) { /* remember the teacher's decisions (mtl_freeze_teacher) */
            net->frozen_sign =
                xrealloc(net->frozen_sign, (size_t)(ns > 0 ? ns : 1) * sizeof(float));
            memcpy(net->frozen_sign, ys, (size_t)ns * sizeof(float));
            net->frozen_n = ns;
        }
        dscale = net->distill_weight / (float)ns;
        total += dscale * hinge_forward(zs, ys, ws, net->distill_margin, ns);
    }
    if (task_step >= 0)
        total += soft_penalty(net, task_step, 0);
    if (!backward) {
        free(ys);
        return total;
    }
    /* backward */
    if (task_step < 0 && net->weigh == W_UNCERTAINTY)
        uncertainty_backward(NULL, net->unc_g, net->step_loss, net->unc_s, act, net->n_tasks);
    for (int t = 0; t < net->n_tasks; t++) {
        task *tk = &net->tasks[t];
        if (!tk->n)
            continue;
        for (int i = 0; i < tk->n; i++) {
            int b = tk->rows[i];
            tk->dlogit[i] = 0;
            if (net->btask[b] == t && act[t]) {
                float c = coef[t] / (float)net->step_n[t];
                float w = c * net->bw[b];
                bce_backward(&tk->dlogit[i], &tk->logit[i], &ex[b].label, &w, 1);
            }
        }
    }
    if (ns) {
        float *dz = xcalloc((size_t)ns, sizeof(float));
        hinge_backward(dz, zs, ys, ws, net->distill_margin, ns);
        for (int j = 0; j < ns; j++)
            net->tasks[S].dlogit[j] += dscale * dz[j];
        free(dz);
    }
    free(ys);
    for (int t = 0; t < net->n_tasks; t++)
        head_backward(net, &net->tasks[t]);
    memset(net->gn_ss, 0, sizeof(net->gn_ss));
    for (int i = net->n_nodes - 1; i >= 0; i--) {
        node *nd = &net->nodes[i];
        if (!nd->n)
            continue;
        if (nd->frontier && net->weigh == W_GRADNORM && task_step < 0)
            for (int k = 0; k < nd->n; k++) {
                const float *d = nd->dout + (size_t)k * nd->out_w;
                double s = 0;
                for (int j = 0; j < nd->out_w; j++)
                    s += (double)d[j] * d[j];
                net->gn_ss[net->btask[nd->rows[k]]] += s;
            }
        node_backward(net, nd, train);
    }
    if (task_step >= 0)
        soft_penalty(net, task_step, 1);
    return total;
}

/* ------------------------------------------------------------------ */
/* updates                                                             */

static void dense_step(mtl_optim_kind k, float lr, float *p, const float *g, float *m, float *v,
                       long *steps, size_t n)
{
    if (k == OPT_SGD)
        sgd_update(p, g, n, lr);
    else if (k == OPT_ADAGRAD)
        adagrad_update(p, g, m, n, lr, 1e-8f);
    else {
        adam_state s;
        adam_init(&s, lr);
        s.t = *steps;
        adam_update(&s, p, g, m, v, n);
        *steps = s.t;
    }
}

/* Update every node the step touched: task_step -1 joint, else that task's state. */
static void update(mtl_net *net, int task_step, uint32_t active)
{
    for (int i = 0; i < net->n_nodes; i++) {
        node *nd = &net->nodes[i];
        if (!(nd->users & active)) {
            if (nd->has_tab) /* e.g. a teacher's rows computed only for the student: zero gradients
                              */
                dyntable_clear_grad(&nd->tab);
            continue;
        }
        int shared = __builtin_popcount(nd->users) > 1;
        int owner = task_step >= 0 ? task_step : __builtin_ctz(nd->users);
        int st = task_step >= 0 ? nd->state_of[task_step] : 0;
        mtl_optim_kind k = shared && task_step < 0 ? net->shared_opt : net->tasks[owner].opt;
        float lr = shared && task_step < 0 ? net->shared_lr : net->tasks[owner].lr;
        float tlr = shared && task_step < 0 ? net->shared_table_lr : net->tasks[owner].table_lr;
        if (shared && task_step >= 0) { /* iterative: the task's pull on what it shares */
            float p = pull(net, nd, task_step);
            if (p == 0) { /* weight 0: no step, and no optimizer state built up for a reload */
                if (nd->has_tab)
                    dyntable_clear_grad(&nd->tab);
                continue;
            }
            lr *= p;
            tlr *= p;
        }
        if (nd->has_tab && task_step < 0)
            table_step(net, nd, k, tlr);
        else if (nd->has_tab)
            dyntable_update(&nd->tab, k, tlr, st);
        else
            dense_step(k, lr, nd->p, nd->g, nd->m + (size_t)st * nd->np,
                       nd->v + (size_t)st * nd->np, &nd->steps[st], nd->np);
    }
    for (int t = 0; t < net->n_tasks; t++) {
        task *tk = &net->tasks[t];
        if (!tk->n || !(active & (1u << t)))
            continue;
        dense_step(tk->opt, tk->head_lr, tk->p, tk->g, tk->m, tk->v, &tk->steps, tk->np);
    }
    if (task_step < 0 && net->weigh == W_UNCERTAINTY) {
        adam_update(&net->unc_adam, net->unc_s, net->unc_g, net->unc_m, net->unc_v,
                    (size_t)net->n_tasks);
    }
    if (task_step < 0 && net->weigh == W_GRADNORM) {
        /* G_t = ||grad of w_t L_t at the shared outputs||; target mean(G) * r_t^alpha */
        int cnt = 0;
        double gsum = 0, rsum = 0;
        double G[MTL_MAX_TASKS], r[MTL_MAX_TASKS];
        for (int t = 0; t < net->n_tasks; t++) {
            if (!(active & (1u << t)) || net->gn_ss[t] <= 0)
                continue;
            double L = net->step_loss[t];
            net->gn_Lema[t] = net->gn_L0[t] < 0 ? L : 0.95 * net->gn_Lema[t] + 0.05 * L;
            if (net->gn_L0[t] < 0)
                net->gn_L0[t] = L > 1e-6 ? L : 1e-6;
            G[t] = sqrt(net->gn_ss[t]);
            r[t] = net->gn_Lema[t] / net->gn_L0[t];
            gsum += G[t];
            rsum += r[t];
            cnt++;
        }
        if (cnt >= 2) {
            double wsum0 = 0, wsum = 0;
            for (int t = 0; t < net->n_tasks; t++) {
                if (!(active & (1u << t)) || net->gn_ss[t] <= 0)
                    continue;
                double target = gsum / cnt * pow(r[t] / (rsum / cnt), net->gn_alpha);
                double graw = G[t] / (net->gn_w[t] > 1e-6f ? net->gn_w[t] : 1e-6);
                double d = (G[t] > target ? 1.0 : G[t] < target ? -1.0 : 0.0) * graw;
                wsum0 += net->gn_w[t];
                float nw = net->gn_w[t] - net->gn_lr * (float)d;
                net->gn_w[t] = nw < 0.01f ? 0.01f : nw;
                wsum += net->gn_w[t];
            }
            /* renormalise the active tasks' weights to their sum before the step */
            for (int t = 0; t < net->n_tasks; t++)
                if ((active & (1u << t)) && net->gn_ss[t] > 0)
                    net->gn_w[t] = (float)(net->gn_w[t] * wsum0 / wsum);
        }
    }
}

static int usable(const mtl_net *net, const mtl_example *e)
{
    return e->task >= 0 && e->task < net->n_tasks && e->in && isfinite(e->label) &&
           e->label >= 0.0f && e->label <= 1.0f && isfinite(e->weight) && e->weight >= 0.0f;
}

int mtl_train_batch(mtl_net *net, const mtl_example *ex, int count, char *err, size_t errlen)
{
    if (!ex || count < 0 || count > MTL_MAX_BATCH) {
        snprintf(err, errlen, "malformed batch (rows %p, count %d, at most %d)", (const void *)ex,
                 count, MTL_MAX_BATCH);
        return -1;
    }
    ensure_batch(net, count);
    mtl_example *sel = xmalloc((size_t)(count > 0 ? count : 1) * sizeof(mtl_example));
    int k = 0;
    uint32_t active = 0;
    for (int i = 0; i < count; i++) {
        if (!usable(net, &ex[i])) {
            net->skipped++;
            continue;
        }
        const task *tk = &net->tasks[ex[i].task];
        float keep = ex[i].label >= 0.5f ? tk->pos_keep : tk->neg_keep;
        net->events++;
        if (keep < 1.0f && rng_uniform(&net->sample_rng) >= keep)
            continue;
        sel[k] = ex[i];
        sel[k].weight = ex[i].weight / keep; /* importance weight: expectations stay unbiased */
        active |= 1u << ex[i].task;
        k++;
    }
    if (net->mech == MECH_JOINT) {
        if (k > 0) {
            run(net, sel, k, -1, 1, 1);
            update(net, -1, active);
            for (int t = 0; t < net->n_tasks; t++)
                if (active & (1u << t))
                    net->last_loss[t] = net->step_loss[t];
        }
    } else {
        mtl_example *one = net->sel;
        for (int t = 0; t < net->n_tasks; t++) {
            if (!(active & (1u << t)))
                continue;
            int m = 0;
            for (int i = 0; i < k; i++)
                if (sel[i].task == t)
                    one[m++] = sel[i];
            run(net, one, m, t, 1, 1);
            update(net, t, 1u << t);
            net->last_loss[t] = net->step_loss[t];
        }
    }
    free(sel);
    return 0;
}

static void predict(mtl_net *net, const mtl_example *ex, int count, float *prob, int logits);

void mtl_predict(mtl_net *net, const mtl_example *ex, int count, float *prob)
{
    predict(net, ex, count, prob, 0);
}

void mtl_predict_logit(mtl_net *net, const mtl_example *ex, int count, float *logit)
{
    predict(net, ex, count, logit, 1);
}

static void predict(mtl_net *net, const mtl_example *ex, int count, float *prob, int logits)
{
    int k = 0;
    ensure_batch(net, count);
    mtl_example *sel = net->sel;
    int *idx = xmalloc((size_t)(count > 0 ? count : 1) * sizeof(int));
    for (int i = 0; i < count; i++) {
        prob[i] = NAN;
        if (ex[i].task < 0 || ex[i].task >= net->n_tasks || !ex[i].in)
            continue;
        sel[k] = ex[i];
        sel[k].label = 0;
        sel[k].weight = 1;
        idx[k++] = i;
    }
    int has_distill = net->has_distill;
    net->has_distill = 0; /* scoring needs no teacher rows */
    uint32_t saved[MTL_MAX_NODES];
    for (int i = 0; i < net->n_nodes; i++) {
        saved[i] = net->nodes[i].rowtasks;
        net->nodes[i].rowtasks = net->nodes[i].users;
    }
    uint32_t ev[MTL_MAX_TASKS];
    for (int t = 0; t < net->n_tasks; t++) {
        ev[t] = net->tasks[t].evalmask;
        net->tasks[t].evalmask = 1u << t;
    }
    if (k > 0)
        run(net, sel, k, -1, 0, 0);
    for (int t = 0; t < net->n_tasks; t++) {
        task *tk = &net->tasks[t];
        for (int i = 0; i < tk->n; i++)
            prob[idx[tk->rows[i]]] = logits ? tk->logit[i] : sigmoidf_stable(tk->logit[i]);
        tk->evalmask = ev[t];
    }
    for (int i = 0; i < net->n_nodes; i++)
        net->nodes[i].rowtasks = saved[i];
    net->has_distill = has_distill;
    free(idx);
}

double mtl_loss(mtl_net *net, const mtl_example *ex, int count, int task_step)
{
    return run(net, ex, count, task_step, 0, 0);
}

double mtl_forward_backward(mtl_net *net, const mtl_example *ex, int count, int task_step)
{
    return run(net, ex, count, task_step, 1, 1);
}

void mtl_freeze_teacher(mtl_net *net, int on)
{
    net->distill_frozen = on;
}

size_t mtl_grad_params(mtl_net *net, int task_step, float **w, float **g, size_t max)
{
    uint32_t mask = task_step >= 0 ? 1u << task_step : ~0u;
    size_t k = 0;
#define PUSH(pw, pg)                                                                               \
    do {                                                                                           \
        if (k < max) {                                                                             \
            w[k] = (pw);                                                                           \
            g[k] = (pg);                                                                           \
        }                                                                                          \
        k++;                                                                                       \
    } while (0)
    for (int i = 0; i < net->n_nodes; i++) {
        node *nd = &net->nodes[i];
        if (!(nd->users & mask))
            continue;
        if (nd->has_tab) {
            for (uint32_t j = 0; j < nd->tab.n_touched; j++)
                for (int d = 0; d < nd->out_w; d++)
                    PUSH(dyntable_row(&nd->tab, (int32_t)nd->tab.touched[j]) + d,
                         nd->tab.grad + (size_t)j * nd->out_w + d);
        } else
            for (size_t j = 0; j < nd->np; j++)
                PUSH(nd->p + j, nd->g + j);
    }
    for (int t = 0; t < net->n_tasks; t++)
        for (size_t j = 0; (mask & (1u << t)) && j < net->tasks[t].np; j++)
            PUSH(net->tasks[t].p + j, net->tasks[t].g + j);
    if (net->weigh == W_UNCERTAINTY)
        for (int t = 0; t < net->n_tasks; t++)
            PUSH(net->unc_s + t, net->unc_g + t);
#undef PUSH
    return k < max ? k : max;
}

uint64_t mtl_param_hash(const mtl_net *net)
{
    uint64_t h = 0x1234;
    for (int i = 0; i < net->n_nodes; i++) {
        const node *nd = &net->nodes[i];
        if (nd->has_tab) {
            for (uint32_t r = 0; r < nd->tab.top; r++) {
                if (nd->tab.last[r] == INT64_MIN)
                    continue; /* free row */
                h = mix64(h ^ (uint64_t)nd->tab.ids[r]);
                h = mix64(h ^ hash64(dyntable_row(&nd->tab, (int32_t)r),
                                     (size_t)nd->out_w * sizeof(float)));
            }
        } else
            h = mix64(h ^ hash64(nd->p, nd->np * sizeof(float)));
    }
    for (int t = 0; t < net->n_tasks; t++)
        h = mix64(h ^ hash64(net->tasks[t].p, net->tasks[t].np * sizeof(float)));
    h = mix64(h ^ hash64(net->unc_s, sizeof(net->unc_s)));
    h = mix64(h ^ hash64(net->gn_w, sizeof(net->gn_w)));
    return h;
}

static size_t node_params(const node *nd, int bound)
{
    if (nd->has_tab)
        return (size_t)(bound ? nd->tab.capacity : nd->tab.n) * nd->out_w;
    return nd->np;
}

size_t mtl_param_count(const mtl_net *net)
{
    size_t s = 0;
    for (int i = 0; i < net->n_nodes; i++)
        s += node_params(&net->nodes[i], 0);
    for (int t = 0; t < net->n_tasks; t++)
        s += net->tasks[t].np;
    return s;
}

/* ------------------------------------------------------------------ */
/* describe                                                            */

typedef struct {
    char *buf;
    size_t len, at;
} outbuf;

static void out(outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(outbuf *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *dst = o->at < o->len ? o->buf + o->at : NULL;
    size_t room = o->at < o->len ? o->len - o->at : 0;
    int n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->at += (size_t)n;
}

static void users_list(outbuf *o, const mtl_net *net, uint32_t users)
{
    int first = 1;
    for (int t = 0; t < net->n_tasks; t++)
        if (users & (1u << t)) {
            out(o, "%s%s", first ? "" : ", ", net->tasks[t].name);
            first = 0;
        }
}

static void describe_node(outbuf *o, const mtl_net *net, int i)
{
    const node *nd = &net->nodes[i];
    int depth = 0;
    for (int p = nd->parent; p >= 0; p = net->nodes[p].parent)
        depth++;
    out(o, "  [%d] %*s%s%s  params %zu", i, 2 * depth, "", depth ? "^ " : "", nd->desc,
        node_params(nd, 0));
    if (nd->has_tab)
        out(o, " now, up to %zu (capacity x dim)", node_params(nd, 1));
    out(o, "  used by: ");
    users_list(o, net, nd->users);
    if (net->soft && nd->soft_group >= 0 && nd->soft_group != i)
        out(o, "  (soft-shared with [%d])", nd->soft_group);
    out(o, "\n");
}

size_t mtl_describe(const mtl_net *net, char *buf, size_t len)
{
    outbuf o = {buf, len, 0};
    if (len)
        buf[0] = 0;
    static const char *wn[] = {"fixed", "uncertainty", "gradnorm"};
    out(&o, "multitask model: %d tasks, mechanism %s", net->n_tasks,
        net->mech == MECH_JOINT ? "joint" : "iterative");
    if (net->mech == MECH_JOINT)
        out(&o, " (task weights: %s; shared parts: %s lr %g, tables lr %g)", wn[net->weigh],
            optim_names[net->shared_opt], net->shared_lr, net->shared_table_lr);
    else
        out(&o, " (%s sharing%s)", net->soft ? "soft" : "hard",
            net->soft ? ", L2 pull between copies" : "");
    out(&o, "\ninputs:");
    for (int i = 0; i < net->n_inputs; i++)
        out(&o, " %s (%s)", net->input_name[i], kind_names[net->input_kind[i]]);
    out(&o, "\n");
    size_t sh_now = 0, sh_max = 0, own_now = 0, own_max = 0;
    int any = 0;
    out(&o, "shared components:\n");
    for (int i = 0; i < net->n_nodes; i++)
        if (__builtin_popcount(net->nodes[i].users) > 1) {
            describe_node(&o, net, i);
            sh_now += node_params(&net->nodes[i], 0);
            sh_max += node_params(&net->nodes[i], 1);
            any = 1;
        }
    if (!any)
        out(&o, "  (none%s)\n", net->soft ? ": soft sharing keeps one copy per task" : "");
    out(&o, "task-specific components:\n");
    for (int t = 0; t < net->n_tasks; t++) {
        const task *tk = &net->tasks[t];
        out(&o,
            " task %s (label %s, loss weight %g, pos_weight %g, %s lr %g, tables lr %g, keep pos "
            "%g neg %g):\n",
            tk->name, *tk->label ? tk->label : "-", tk->loss_weight, tk->pos_weight,
            optim_names[tk->opt], tk->lr, tk->table_lr, tk->pos_keep, tk->neg_keep);
        for (int i = 0; i < net->n_nodes; i++)
            if (net->nodes[i].users == (1u << t)) {
                describe_node(&o, net, i);
                own_now += node_params(&net->nodes[i], 0);
                own_max += node_params(&net->nodes[i], 1);
            }
        out(&o, "  head %s over towers", head_names[tk->head]);
        for (int k = 0; k < tk->n_towers; k++)
            out(&o, " %s=[%d]%s", tk->tower_name[k], tk->tower_node[k],
                tower_skip_width(net, tk, k) ? "+skip" : "");
        if (tk->head == HEAD_MLP)
            out(&o, " (hidden %d)", tk->hidden);
        if (tk->head == HEAD_DOT && tk->n_towers > 2)
            out(&o, " (a learned scale per pair)");
        if (tk->head_lr != tk->lr)
            out(&o, " (head lr %g)", (double)tk->head_lr);
        out(&o, "  params %zu\n", tk->np);
        own_now += tk->np;
        own_max += tk->np;
    }
    if (net->has_distill)
        out(&o, "distillation: teacher %s, student %s, hinge weight %g, margin %g\n",
            net->tasks[net->teacher].name, net->tasks[net->student].name, net->distill_weight,
            net->distill_margin);
    for (int p = 0; p < net->n_publish; p++)
        out(&o, "published: %s embedding = output of tower %s ([%d], width %d, keyed by %s)\n",
            net->publish_entity[p], net->publish_ref[p], net->publish_node[p],
            net->nodes[net->publish_node[p]].out_w,
            net->input_name[net->nodes[net->publish_bottom[p]].input]);
    out(&o, "parameters: shared %zu now (up to %zu), task-specific %zu now (up to %zu)\n", sh_now,
        sh_max, own_now, own_max);
    return o.at;
}

/* ------------------------------------------------------------------ */
/* published towers                                                    */

int mtl_publish_index(const mtl_net *n, const char *entity)
{
    for (int p = 0; p < n->n_publish; p++)
        if (!strcmp(n->publish_entity[p], entity))
            return p;
    return -1;
}

const char *mtl_publish_tower(const mtl_net *n, int p)
{
    return p >= 0 && p < n->n_publish ? n->publish_ref[p] : NULL;
}

int mtl_publish_width(const mtl_net *n, int p)
{
    return p >= 0 && p < n->n_publish ? n->nodes[n->publish_node[p]].out_w : 0;
}

const char *mtl_publish_input(const mtl_net *n, int p)
{
    return p >= 0 && p < n->n_publish ? n->input_name[n->nodes[n->publish_bottom[p]].input] : NULL;
}

static const dyntable *publish_table(const mtl_net *n, int p)
{
    return p >= 0 && p < n->n_publish ? &n->nodes[n->publish_bottom[p]].tab : NULL;
}

int mtl_publish_embed(const mtl_net *n, int p, int64_t id, float *out)
{
    const dyntable *t = publish_table(n, p);
    int32_t r = t ? dyntable_find(t, id) : -1;
    if (r < 0)
        return -1;
    /* the chain from the table up to the tower's top, one row through each dense layer */
    int chain[MTL_MAX_LAYERS + 1], depth = 0;
    for (int i = n->publish_node[p]; i >= 0 && depth <= MTL_MAX_LAYERS; i = n->nodes[i].parent)
        chain[depth++] = i;
    int maxw = 0;
    for (int k = 0; k < depth; k++)
        maxw = n->nodes[chain[k]].out_w > maxw ? n->nodes[chain[k]].out_w : maxw;
    float *a = xmalloc(2 * (size_t)maxw * sizeof(float)), *b = a + maxw;
    memcpy(a, dyntable_row(t, r), (size_t)t->dim * sizeof(float));
    for (int k = depth - 2; k >= 0; k--) {
        const node *nd = &n->nodes[chain[k]];
        dense_forward(b, a, nd->p, nd->p + (size_t)nd->out_w * nd->in_w, 1, nd->in_w, nd->out_w);
        if (nd->relu)
            relu_forward(b, b, nd->out_w);
        float *tmp = a;
        a = b;
        b = tmp;
    }
    int W = n->nodes[n->publish_node[p]].out_w;
    memcpy(out, a, (size_t)W * sizeof(float));
    if (n->publish_skip[p] && depth > 1) { /* the task's skip connection (tower_skip_width) */
        const float *row = dyntable_row(t, r);
        for (int j = 0; j < W && j < t->dim; j++)
            out[j] += row[j];
    }
    free(a < b ? a : b);
    return 0;
}

int mtl_publish_embed_exists(const mtl_net *n, int p, int64_t id)
{
    const dyntable *t = publish_table(n, p);
    return t && dyntable_find(t, id) >= 0;
}

size_t mtl_publish_ids(const mtl_net *n, int p, int64_t *ids, size_t max)
{
    const dyntable *t = publish_table(n, p);
    return t ? dyntable_ids(t, ids, max) : 0;
}

size_t mtl_publish_count(const mtl_net *n, int p)
{
    const dyntable *t = publish_table(n, p);
    return t ? t->n : 0;
}

uint64_t mtl_publish_refused(const mtl_net *n, int p)
{
    const dyntable *t = publish_table(n, p);
    return t ? t->refused : 0;
}

int mtl_set_loss_weight(mtl_net *n, int t, float w)
{
    if (t < 0 || t >= n->n_tasks || !isfinite(w) || w < 0)
        return -1;
    n->tasks[t].loss_weight = w;
    return 0;
}

/* ------------------------------------------------------------------ */
/* state (checkpoints)                                                 */

#define MTL_STATE_MAGIC 0x3154534c544d5453ULL /* "STMLTST1" */

uint64_t mtl_structure_hash(const mtl_net *n)
{
    mts_buf b;
    buf_init(&b);
    char line[320];
    int k = snprintf(line, sizeof(line), "mech=%d;weigh=%d;soft=%d;distill=%d,%d,%d;", (int)n->mech,
                     (int)n->weigh, n->soft, n->has_distill, n->teacher, n->student);
    buf_append(&b, line, (size_t)k);
    for (int i = 0; i < n->n_nodes; i++) {
        buf_append(&b, n->nodes[i].key, strlen(n->nodes[i].key));
        k = snprintf(line, sizeof(line), "|users=%u;states=%d;", n->nodes[i].users,
                     n->nodes[i].n_states);
        buf_append(&b, line, (size_t)k);
    }
    for (int t = 0; t < n->n_tasks; t++) {
        const task *tk = &n->tasks[t];
        k = snprintf(line, sizeof(line), "task=%s,%s,%d,%d,%zu,%d,skip=%d;", tk->name, tk->label,
                     (int)tk->head, tk->hidden, tk->np, (int)tk->opt, tk->skip);
        buf_append(&b, line, (size_t)k);
    }
    uint64_t h = hash64(b.data, b.len);
    buf_free(&b);
    return h;
}

void mtl_state_save(const mtl_net *n, mts_buf *b)
{
    uint64_t hdr[2] = {MTL_STATE_MAGIC, mtl_structure_hash(n)};
    buf_append(b, hdr, sizeof(hdr));
    for (int i = 0; i < n->n_nodes; i++) {
        const node *nd = &n->nodes[i];
        if (nd->has_tab) {
            dyntable_save(&nd->tab, b);
            continue;
        }
        buf_append(b, nd->p, nd->np * sizeof(float));
        buf_append(b, nd->m, nd->np * nd->n_states * sizeof(float));
        buf_append(b, nd->v, nd->np * nd->n_states * sizeof(float));
        for (int s = 0; s < nd->n_states; s++) {
            int64_t st = nd->steps[s];
            buf_append(b, &st, 8);
        }
    }
    for (int t = 0; t < n->n_tasks; t++) {
        const task *tk = &n->tasks[t];
        buf_append(b, tk->p, tk->np * sizeof(float));
        buf_append(b, tk->m, tk->np * sizeof(float));
        buf_append(b, tk->v, tk->np * sizeof(float));
        int64_t st = tk->steps;
        buf_append(b, &st, 8);
    }
    size_t T = (size_t)n->n_tasks;
    buf_append(b, n->unc_s, T * sizeof(float));
    buf_append(b, n->unc_m, T * sizeof(float));
    buf_append(b, n->unc_v, T * sizeof(float));
    int64_t ut = n->unc_adam.t;
    buf_append(b, &ut, 8);
    buf_append(b, n->gn_w, T * sizeof(float));
    buf_append(b, n->gn_L0, T * sizeof(double));
    buf_append(b, n->gn_Lema, T * sizeof(double));
    buf_append(b, n->gn_ss, T * sizeof(double));
    buf_append(b, n->last_loss, T * sizeof(double));
    buf_append(b, n->sample_rng.s, sizeof(n->sample_rng.s));
    int64_t ev = n->events;
    uint64_t sk = n->skipped;
    buf_append(b, &ev, 8);
    buf_append(b, &sk, 8);
}

static int take_arr(const uint8_t *p, size_t len, size_t *pos, void *dst, uint64_t count,
                    size_t size)
{
    if (*pos > len || count > (len - *pos) / size)
        return -1;
    if (count)
        memcpy(dst, p + *pos, (size_t)count * size);
    *pos += (size_t)count * size;
    return 0;
}

static int finite_nonneg(const float *v, size_t n, int nonneg)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]) || (nonneg && v[i] < 0))
            return 0;
    return 1;
}

int mtl_state_load(mtl_net *n, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    size_t pos = 0;
    uint64_t hdr[2];
    if (take_arr(p, len, &pos, hdr, 2, 8) || hdr[0] != MTL_STATE_MAGIC)
        FAIL("declared network state: bad header");
    if (hdr[1] != mtl_structure_hash(n))
        FAIL("declared network state was saved for another network declaration (structure hash "
             "%016llx, the "
             "configured one has %016llx)",
             (unsigned long long)hdr[1], (unsigned long long)mtl_structure_hash(n));
    for (int i = 0; i < n->n_nodes; i++) {
        node *nd = &n->nodes[i];
        if (nd->has_tab) {
            char e[256];
            if (dyntable_load(&nd->tab, p, len, &pos, e, sizeof(e)))
                FAIL("component %s: %s", nd->desc, e);
            continue;
        }
        size_t ns = nd->np * (size_t)nd->n_states;
        if (take_arr(p, len, &pos, nd->p, nd->np, 4) || take_arr(p, len, &pos, nd->m, ns, 4) ||
            take_arr(p, len, &pos, nd->v, ns, 4))
            FAIL("component %s: truncated", nd->desc);
        for (int s = 0; s < nd->n_states; s++) {
            int64_t st;
            if (take_arr(p, len, &pos, &st, 1, 8) || st < 0)
                FAIL("component %s: bad optimizer step count", nd->desc);
            nd->steps[s] = (long)st;
        }
        if (!finite_nonneg(nd->p, nd->np, 0) || !finite_nonneg(nd->m, ns, 0) ||
            !finite_nonneg(nd->v, ns, 1))
            FAIL("component %s: parameters or optimizer state not finite", nd->desc);
    }
    for (int t = 0; t < n->n_tasks; t++) {
        task *tk = &n->tasks[t];
        int64_t st;
        if (take_arr(p, len, &pos, tk->p, tk->np, 4) || take_arr(p, len, &pos, tk->m, tk->np, 4) ||
            take_arr(p, len, &pos, tk->v, tk->np, 4) || take_arr(p, len, &pos, &st, 1, 8) || st < 0)
            FAIL("task %s head: truncated", tk->name);
        tk->steps = (long)st;
        if (!finite_nonneg(tk->p, tk->np, 0) || !finite_nonneg(tk->m, tk->np, 0) ||
            !finite_nonneg(tk->v, tk->np, 1))
            FAIL("task %s head: parameters or optimizer state not finite", tk->name);
    }
    size_t T = (size_t)n->n_tasks;
    int64_t ut, ev;
    uint64_t sk;
    if (take_arr(p, len, &pos, n->unc_s, T, 4) || take_arr(p, len, &pos, n->unc_m, T, 4) ||
        take_arr(p, len, &pos, n->unc_v, T, 4) || take_arr(p, len, &pos, &ut, 1, 8) ||
        take_arr(p, len, &pos, n->gn_w, T, 4) || take_arr(p, len, &pos, n->gn_L0, T, 8) ||
        take_arr(p, len, &pos, n->gn_Lema, T, 8) || take_arr(p, len, &pos, n->gn_ss, T, 8) ||
        take_arr(p, len, &pos, n->last_loss, T, 8) ||
        take_arr(p, len, &pos, n->sample_rng.s, 4, 8) || take_arr(p, len, &pos, &ev, 1, 8) ||
        take_arr(p, len, &pos, &sk, 1, 8))
        FAIL("declared network state: task weights or counters truncated");
    if (pos != len)
        FAIL("declared network state: %zu trailing bytes", len - pos);
    if (ut < 0 || ev < 0 || !finite_nonneg(n->unc_s, T, 0) || !finite_nonneg(n->unc_m, T, 0) ||
        !finite_nonneg(n->unc_v, T, 1) || !finite_nonneg(n->gn_w, T, 1))
        FAIL("declared network state: task weights not finite");
    for (size_t t = 0; t < T; t++)
        if (!isfinite(n->gn_L0[t]) || !isfinite(n->gn_Lema[t]) || !isfinite(n->gn_ss[t]))
            FAIL("declared network state: GradNorm state not finite");
    n->unc_adam.t = (long)ut;
    n->events = ev;
    n->skipped = sk;
    return 0;
}
