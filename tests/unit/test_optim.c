/* test_optim.c - SGD, Adagrad and Adam steps against hand-computed values,
 * and each one minimising a small quadratic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/optim.h"

#include <math.h>
#include <string.h>

static void test_steps(void **state)
{
    float w[2] = {1.0f, -2.0f}, g[2] = {0.5f, -4.0f};
    sgd_update(w, g, 2, 0.1f);
    assert_float_equal(w[0], 0.95f, 1e-7);
    assert_float_equal(w[1], -1.6f, 1e-6);

    float a[2] = {1.0f, -2.0f}, acc[2] = {0, 0};
    adagrad_update(a, g, acc, 2, 0.1f, 0.0f); /* first step: lr * sign(g) */
    assert_float_equal(a[0], 0.9f, 1e-6);
    assert_float_equal(a[1], -1.9f, 1e-6);
    assert_float_equal(acc[1], 16.0f, 0);
    adagrad_update(a, g, acc, 2, 0.1f, 0.0f); /* second: lr g / sqrt(2 g^2) */
    assert_float_equal(a[0], 0.9f - 0.1f / sqrtf(2.0f), 1e-6);

    float rw[2] = {1.0f, -2.0f}, racc = 0.0f;
    rowwise_adagrad_update(rw, g, &racc, 2, 0.1f, 0.0f); /* acc = (0.25 + 16) / 2 */
    assert_float_equal(racc, 8.125f, 1e-6);
    assert_float_equal(rw[0], 1.0f - 0.1f * 0.5f / sqrtf(8.125f), 1e-6);
    assert_float_equal(rw[1], -2.0f + 0.1f * 4.0f / sqrtf(8.125f), 1e-6);

    float b[2] = {1.0f, -2.0f}, m[2] = {0}, v[2] = {0};
    adam_state s;
    adam_init(&s, 0.01f);
    adam_update(&s, b, g, m, v, 2); /* bias-corrected first step: lr * sign(g) */
    assert_int_equal(s.t, 1);
    assert_float_equal(b[0], 0.99f, 1e-5);
    assert_float_equal(b[1], -1.99f, 1e-5);
    assert_float_equal(m[0], 0.05f, 1e-7);
    assert_float_equal(v[1], 0.016f, 1e-6);
}

/* f(w) = sum_i c_i (w_i - t_i)^2 with badly scaled c: all three get there. */
static void test_minimise(void **state)
{
    const float c[3] = {0.01f, 1.0f, 100.0f}, t[3] = {3.0f, -1.0f, 0.5f};
    for (int kind = 0; kind < 3; kind++) {
        float w[3] = {0}, g[3], acc[3] = {0}, m[3] = {0}, v[3] = {0};
        adam_state s;
        adam_init(&s, 0.05f);
        for (int it = 0; it < 3000; it++) {
            for (int i = 0; i < 3; i++)
                g[i] = 2 * c[i] * (w[i] - t[i]);
            if (kind == 0) { /* SGD needs a step under 1/(2 c_max) and many steps for c_min */
                float gs[3] = {g[0] * 100.0f, g[1],
                               g[2] * 0.01f}; /* per-coordinate preconditioning */
                sgd_update(w, gs, 3, 0.004f);
            } else if (kind == 1) {
                adagrad_update(w, g, acc, 3, 0.5f, 1e-8f);
            } else {
                adam_update(&s, w, g, m, v, 3);
            }
        }
        for (int i = 0; i < 3; i++)
            assert_float_equal(w[i], t[i], 0.02);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_minimise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
