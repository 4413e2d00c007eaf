/* exp_mtl_affinity.c - train a DECLARED multitask network (model/mtl.h) on the
 * generator's planted world (gen/world.h) in memory, no Kafka, and report the
 * held-out quartile AUC of its published member/company embeddings (as
 * exp_affinity does for the fixed model) and the progressive AUC of the view
 * task: a quick loop for finding what the declared network needs.
 *
 * usage: exp_mtl_affinity VIEWS [CONF|-] [members companies]
 *   CONF: a file with a multitask section (default conf/multitask-example.conf;
 *   "-" uses a minimal one-task declaration). Events map to tasks by name:
 *   views -> job_view and job_view_sampled, applies -> job_apply, InMails ->
 *   inmail (tasks not declared are skipped). The clock is the event time in
 *   seconds, as the service uses it. */
#include "common/util.h"
#include "gen/world.h"
#include "model/mtl.h"
#include "heldout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *minimal =
    "multitask: { mechanism = \"joint\"; weighting = \"fixed\"; shared_lr = 0.005; shared_table_lr "
    "= 0.2;\n"
    "  publish = { member = \"job_view.member\"; company = \"job_view.company\"; };\n"
    "  tasks = ( { name = \"job_view\"; label = \"viewed\"; optimizer = \"adam\"; lr = 0.005; "
    "table_lr = 0.2;\n"
    "    model = { member = ( { type = \"embedding\"; input = \"member_id\"; dim = 32; capacity = "
    "100000; },\n"
    "                         { type = \"dense\"; units = 32; activation = \"relu\"; }, { type = "
    "\"dense\"; units = 16; } );\n"
    "              company = ( { type = \"embedding\"; input = \"company_id\"; dim = 32; capacity "
    "= 100000; },\n"
    "                         { type = \"dense\"; units = 32; activation = \"relu\"; }, { type = "
    "\"dense\"; units = 16; } );\n"
    "              head = { type = \"dot\"; }; }; } ); };\n";

int main(int argc, char **argv)
{
    long views = argc > 1 ? atol(argv[1]) : 300000;
    const char *conf = argc > 2 ? argv[2] : "conf/multitask-example.conf";
    char err[512];
    mtl_net *net = strcmp(conf, "-") == 0 ? mtl_new_from_string(minimal, err, sizeof(err))
                                          : mtl_new_from_file(conf, err, sizeof(err));
    if (!net) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    world_config wc;
    world_config_defaults(&wc);
    wc.seed = 11;
    if (argc > 4) {
        wc.n_members = atoi(argv[3]);
        wc.n_companies = atoi(argv[4]);
    }
    gen_world *w = world_new(&wc);
    int M = wc.n_members, C = wc.n_companies;
    int in_m = mtl_input_index(net, "member_id"), in_c = mtl_input_index(net, "company_id");
    int ni = mtl_n_inputs(net);
    int tv = mtl_task_index(net, "job_view"), ts = mtl_task_index(net, "job_view_sampled");
    int ta = mtl_task_index(net, "job_apply"), tm = mtl_task_index(net, "inmail");
    int pm = mtl_publish_index(net, "member"), pc = mtl_publish_index(net, "company");
    if (in_m < 0 || in_c < 0 || tv < 0 || pm < 0 || pc < 0) {
        fprintf(stderr, "the declaration needs inputs member_id, company_id, task job_view and "
                        "published towers\n");
        return 1;
    }
    enum { B = 256 };
    mtl_example ex[B];
    mtl_value *vals = xcalloc((size_t)B * ni, sizeof(mtl_value));
    uint8_t *seen = xcalloc((size_t)M * C, 1);
    /* progressive AUC of job_view over the last half of the stream */
    size_t pcap = (size_t)views, pn = 0;
    double *prog = xmalloc(sizeof(double) * 2 * pcap);
    long v = 0;
    double t0 = mono_sec();
    while (v < views) {
        int n = 0;
        while (n < B - 1 && v < views) {
            gen_event ev;
            world_next_event(w, &ev);
            seen[(size_t)world_member_index(w, ev.member_id) * C +
                 world_company_index(w, ev.company_id)] = 1;
            int tasks[2], nt = 0;
            if (ev.kind == EV_JOB_VIEW) {
                v++;
                tasks[nt++] = tv;
                if (ts >= 0)
                    tasks[nt++] = ts;
            } else if (ev.kind == EV_JOB_APPLY && ta >= 0) {
                tasks[nt++] = ta;
            } else if (ev.kind == EV_INMAIL && tm >= 0) {
                tasks[nt++] = tm;
            }
            for (int k = 0; k < nt; k++) {
                mtl_value *iv = vals + (size_t)n * ni;
                memset(iv, 0, sizeof(mtl_value) * ni);
                iv[in_m].id = ev.member_id;
                iv[in_c].id = ev.company_id;
                ex[n] = (mtl_example){.task = tasks[k],
                                      .label = (float)ev.label,
                                      .weight = 1.0f,
                                      .time = ev.timestamp_ms / 1000,
                                      .in = iv};
                n++;
            }
        }
        float logit[B];
        mtl_predict_logit(net, ex, n, logit);
        for (int i = 0; i < n; i++)
            if (ex[i].task == tv && v > views / 2) {
                prog[2 * pn] = logit[i];
                prog[2 * pn + 1] = ex[i].label;
                pn++;
            }
        if (mtl_train_batch(net, ex, n, err, sizeof(err))) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
    }
    double secs = mono_sec() - t0;
    int D = mtl_publish_width(net, pm);
    float *me = xcalloc((size_t)M * D, sizeof(float)), *ce = xcalloc((size_t)C * D, sizeof(float));
    int miss = 0;
    for (int i = 0; i < M; i++)
        miss += mtl_publish_embed(net, pm, world_member_id(w, i), me + (size_t)i * D) < 0;
    for (int j = 0; j < C; j++)
        miss += mtl_publish_embed(net, pc, world_company_id(w, j), ce + (size_t)j * D) < 0;
    /* held-out pairs: top vs bottom quartile of the planted affinity */
    double hq = heldout_quartile_auc(
        &(heldout_spec){.w = w, .M = M, .C = C, .seen = seen, .me = me, .ce = ce, .D = D}, NULL);
    double pa = heldout_auc_exact(prog, pn);
    printf(
        "%s %dx%d views %ld: held-out quartile AUC %.4f; progressive AUC job_view (2nd half) %.4f; "
        "missing rows %d; %.1f s\n",
        conf, M, C, views, hq, pa, miss, secs);
    free(me);
    free(ce);
    free(prog);
    free(seen);
    free(vals);
    world_free(w);
    mtl_free(net);
    return 0;
}
