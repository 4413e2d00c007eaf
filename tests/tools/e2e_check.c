/* e2e_check.c - check the embeddings a pipeline run published against the
 * planted world that generated its events.
 *
 * usage: e2e_check --views N --members M --companies C --seed S EMBEDDINGS.jsonl
 * EMBEDDINGS.jsonl is the output of `mtlstream tail` (latest line per entity
 * wins). Replays the generator's stream to know which members, companies and
 * member-company pairs occurred, then asserts:
 *   (a) every member and company that occurred has an embedding;
 *   (b) on held-out pairs (never in the stream), the dot product of the
 *       published embeddings separates the planted top-quartile affinity
 *       pairs from the bottom-quartile ones with AUC >= --min-auc (0.90).
 * Prints the figures on "figure:" lines; exits 1 on any failed assertion. */
#include "common/util.h"
#include "gen/world.h"
#include "heldout.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    world_config wc;
    world_config_defaults(&wc);
    long views = 0;
    double min_auc = 0.90;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--views") && i + 1 < argc)
            views = atol(argv[++i]);
        else if (!strcmp(argv[i], "--members") && i + 1 < argc)
            wc.n_members = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--companies") && i + 1 < argc)
            wc.n_companies = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            wc.seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--min-auc") && i + 1 < argc)
            min_auc = atof(argv[++i]);
        else
            path = argv[i];
    }
    if (!path || views <= 0) {
        fprintf(stderr, "usage: e2e_check --views N [--members M --companies C --seed S] FILE\n");
        return 2;
    }
    gen_world *w = world_new(&wc);
    if (!w)
        return 2;
    int M = wc.n_members, C = wc.n_companies;
    uint8_t *seen = xcalloc((size_t)M * C, 1);
    uint8_t *member_seen = xcalloc(M, 1), *company_seen = xcalloc(C, 1);
    gen_event ev;
    for (long v = 0; v < views;) {
        world_next_event(w, &ev);
        int mi = world_member_index(w, ev.member_id), ci = world_company_index(w, ev.company_id);
        seen[(size_t)mi * C + ci] = 1;
        member_seen[mi] = company_seen[ci] = 1;
        if (ev.kind == EV_JOB_VIEW)
            v++;
    }

    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 2;
    }
    int dim = -1;
    float *mvec = NULL, *cvec = NULL;
    uint8_t *mhave = xcalloc(M, 1), *chave = xcalloc(C, 1);
    char *line = NULL;
    size_t cap = 0;
    long lines = 0, unknown = 0;
    while (getline(&line, &cap, f) > 0) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (!o) {
            fprintf(stderr, "bad JSON line %ld: %s\n", lines + 1, je.text);
            return 1;
        }
        lines++;
        const char *type = json_string_value(json_object_get(o, "entity_type"));
        int64_t id = json_integer_value(json_object_get(o, "entity_id"));
        json_t *vec = json_object_get(o, "vector");
        if (dim < 0) {
            dim = (int)json_array_size(vec);
            mvec = xcalloc((size_t)M * dim, sizeof(float));
            cvec = xcalloc((size_t)C * dim, sizeof(float));
        }
        if ((int)json_array_size(vec) != dim || !type) {
            fprintf(stderr, "line %ld: vector of %zu values, expected %d\n", lines,
                    json_array_size(vec), dim);
            return 1;
        }
        int is_member = !strcmp(type, "MEMBER");
        int idx = is_member ? world_member_index(w, id) : world_company_index(w, id);
        if (idx < 0) {
            unknown++;
        } else {
            float *dst = (is_member ? mvec : cvec) + (size_t)idx * dim;
            for (int k = 0; k < dim; k++) {
                double x = json_number_value(json_array_get(vec, k));
                if (!isfinite(x)) {
                    fprintf(stderr, "line %ld: non-finite value\n", lines);
                    return 1;
                }
                dst[k] = (float)x;
            }
            (is_member ? mhave : chave)[idx] = 1;
        }
        json_decref(o);
    }
    fclose(f);
    free(line);

    int failures = 0;
    int m_occ = 0, m_emb = 0, c_occ = 0, c_emb = 0;
    for (int i = 0; i < M; i++) {
        m_occ += member_seen[i];
        m_emb += member_seen[i] && mhave[i];
    }
    for (int j = 0; j < C; j++) {
        c_occ += company_seen[j];
        c_emb += company_seen[j] && chave[j];
    }
    printf("figure: %ld embedding messages read, dim %d, %ld for unknown ids\n", lines, dim,
           unknown);
    printf("figure: members with an embedding %d / %d that occurred; companies %d / %d\n", m_emb,
           m_occ, c_emb, c_occ);
    if (m_emb != m_occ || c_emb != c_occ || dim <= 0) {
        printf("FAIL: some members or companies that occurred have no embedding\n");
        failures++;
    }

    /* Held-out pairs: never in the stream, both sides embedded. */
    size_t n;
    double a = heldout_quartile_auc(&(heldout_spec){.w = w,
                                                    .M = M,
                                                    .C = C,
                                                    .seen = seen,
                                                    .me = mvec,
                                                    .ce = cvec,
                                                    .D = dim,
                                                    .mhave = mhave,
                                                    .chave = chave},
                                    &n);
    printf(
        "figure: held-out pairs %zu; AUC of learned affinity, planted top vs bottom quartile: %.4f "
        "(required >= %.2f)\n",
        n, a, min_auc);
    if (!(a >= min_auc)) {
        printf("FAIL: held-out AUC %.4f below %.2f\n", a, min_auc);
        failures++;
    }
    free(seen);
    free(member_seen);
    free(company_seen);
    free(mhave);
    free(chave);
    free(mvec);
    free(cvec);
    world_free(w);
    printf("%s\n", failures ? "e2e_check: FAILED" : "e2e_check: ok");
    return failures ? 1 : 0;
}
