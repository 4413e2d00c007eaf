/* exp_affinity.c - train the affinity model on the generator's planted world
 * in memory (no Kafka) and report held-out quartile AUC: a quick loop for
 * choosing defaults. usage: exp_affinity VIEWS [lr_dense lr_table dim id_dim hidden batch] */
#include "common/util.h"
#include "gen/world.h"
#include "model/model.h"
#include "../unit/model_test_layout.h"
#include "heldout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long views = argc > 1 ? atol(argv[1]) : 600000;
    model_config c;
    model_config_defaults(&c);
    if (argc > 2)
        c.lr_dense = atof(argv[2]);
    if (argc > 3)
        c.lr_table = atof(argv[3]);
    if (argc > 4)
        c.dim = atoi(argv[4]);
    if (argc > 5)
        c.id_dim = atoi(argv[5]);
    if (argc > 6)
        c.hidden = atoi(argv[6]);
    int batch = argc > 7 ? atoi(argv[7]) : 256;
    test_task(&c, "view", TASK_AFFINITY, "viewed", 1.0f, 1.0f);
    test_task(&c, "apply", TASK_AFFINITY, "applied", 1.0f, 2.0f);
    test_task(&c, "inmail", TASK_AFFINITY, "accepted", 1.0f, 2.0f);
    mts_layout *l = test_layout_standard();
    char err[256];
    mts_model *m = model_new(&c, l, err, sizeof(err));
    if (!m) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    world_config wc;
    world_config_defaults(&wc);
    wc.seed = 7;
    gen_world *w = world_new(&wc);
    int M = wc.n_members, C = wc.n_companies;
    uint8_t *seen = xcalloc((size_t)M * C, 1);
    mts_row *rows = xcalloc(batch, sizeof(mts_row));
    mts_value *vals = xcalloc((size_t)batch * F_COUNT, sizeof(mts_value));
    long v = 0;
    double t0 = mono_sec();
    while (v < views) {
        int n = 0;
        while (n < batch && v < views) {
            gen_event ev;
            world_next_event(w, &ev);
            if (ev.kind == EV_JOB_VIEW)
                v++;
            seen[(size_t)world_member_index(w, ev.member_id) * C +
                 world_company_index(w, ev.company_id)] = 1;
            int lab = ev.kind == EV_JOB_VIEW    ? F_VIEWED
                      : ev.kind == EV_JOB_APPLY ? F_APPLIED
                                                : F_ACCEPTED;
            test_affinity_row(&rows[n], vals + (size_t)n * F_COUNT, (int)ev.kind, lab, ev.member_id,
                              ev.company_id, ev.label);
            n++;
        }
        model_train_batch(m, rows, n, err, sizeof(err));
    }
    double secs = mono_sec() - t0;
    int D = model_dim(m);
    float *me = xmalloc(sizeof(float) * M * D), *ce = xmalloc(sizeof(float) * C * D);
    for (int i = 0; i < M; i++)
        model_embedding(m, ENTITY_MEMBER, world_member_id(w, i), me + (size_t)i * D, NULL);
    for (int j = 0; j < C; j++)
        model_embedding(m, ENTITY_COMPANY, world_company_id(w, j), ce + (size_t)j * D, NULL);
    /* AUC top vs bottom quartile, estimated on 200000 sampled pairs */
    double hq = heldout_quartile_auc(
        &(heldout_spec){.w = w, .M = M, .C = C, .seen = seen, .me = me, .ce = ce, .D = D}, NULL);
    task_metrics tm[3];
    for (int t = 0; t < 3; t++)
        model_task_metrics(m, t, &tm[t]);
    printf("views %ld lr %.4g/%.4g D %d E %d H %d B %d: held-out quartile AUC %.4f; progressive "
           "AUC view %.3f (recent %.3f) apply %.3f inmail %.3f; %.0f ev/s\n",
           views, c.lr_dense, c.lr_table, c.dim, c.id_dim, c.hidden, batch, hq, tm[0].auc,
           tm[0].auc_recent, tm[1].auc, tm[2].auc, (views * 1.13) / secs);
    return 0;
}
