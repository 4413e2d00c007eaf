/* gradcheck.h - finite-difference gradient checks shared by the unit tests
 * (test_grad.c: every layer and the affinity/skill models; test_mtl.c: the
 * multitask layers and whole declared networks).
 *
 * What is checked: an analytic gradient, as a backward pass leaves it, against
 * the numeric derivative of a scalar loss f(ctx), one parameter element at a
 * time. A layer is wrapped as L = <R, out> with a fixed random R (so
 * dL/dout = R; gc_dot); a whole model is checked on its real loss.
 *
 * How: central differences, numeric = (f(x + eps) - f(x - eps)) / (2 eps),
 * the element restored afterwards. The error of an element is
 *     |analytic - numeric| / max(|analytic| + |numeric|, floor)
 * a relative error; the floor (the caller's: 1e-2 in test_grad.c, 1e-3 in
 * test_mtl.c) keeps float rounding on a near-zero gradient from counting as
 * a failure. A non-finite error counts as infinitely large.
 *
 * Step sizes: gc_element takes a list and the smallest error over it counts.
 * A ReLU or hinge kink lying between x - eps and x + eps spoils the
 * difference at that step only, while a wrong analytic gradient disagrees
 * with every step; so the whole-network checks, whose kinks cannot be placed
 * by hand, use several steps (1e-2, 1e-3, 1e-4). gc_check uses one step: its
 * callers keep inputs away from kinks, and one step is the stricter test. */
#ifndef MTS_TEST_GRADCHECK_H
#define MTS_TEST_GRADCHECK_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>

typedef double (*gc_loss_fn)(void *ctx);

/* The largest error of a set of elements, and where it was found. */
typedef struct {
    double worst;             /* largest relative error (0 when none checked) */
    size_t at;                /* its element */
    double analytic, numeric; /* the two derivatives there */
    size_t nonzero;           /* elements with |analytic| > 1e-6 */
} gc_result;

/* <a, b> accumulated in double: the scalar loss wrapping a layer. */
static inline double gc_dot(const float *a, const float *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

static inline double gc_rel_err(double analytic, double numeric, double floor)
{
    double e = fabs(numeric - analytic) / fmax(fabs(numeric) + fabs(analytic), floor);
    return isfinite(e) ? e : HUGE_VAL;
}

/* Central difference of f in the element *x at step eps; *x is restored. */
static inline double gc_central(float *x, float eps, gc_loss_fn f, void *ctx)
{
    float save = *x;
    *x = save + eps;
    double lp = f(ctx);
    *x = save - eps;
    double lm = f(ctx);
    *x = save;
    return (lp - lm) / (2.0 * eps);
}

/* Error of one element against its analytic derivative: the smallest over the
 * n_eps step sizes; *numeric gets the numeric derivative of that step. */
static inline double gc_element(float *x, double analytic, const float *eps, int n_eps,
                                double floor, gc_loss_fn f, void *ctx, double *numeric)
{
    double best = HUGE_VAL, num = NAN;
    for (int k = 0; k < n_eps; k++) {
        double nk = gc_central(x, eps[k], f, ctx);
        double ek = gc_rel_err(analytic, nk, floor);
        if (k == 0 || ek < best)
            best = ek, num = nk;
    }
    *numeric = num;
    return best;
}

/* Records element i's error in r. */
static inline void gc_note(gc_result *r, size_t i, double err, double analytic, double numeric)
{
    r->nonzero += fabs(analytic) > 1e-6;
    if (err > r->worst) {
        r->worst = err;
        r->at = i, r->analytic = analytic, r->numeric = numeric;
    }
}

/* Checks the n contiguous elements of param against grad at one step size,
 * prints "what n=.. max rel err .." and returns the largest error. */
static inline double gc_check(const char *what, float *param, int n, const float *grad,
                              gc_loss_fn f, void *ctx, float eps, double floor)
{
    gc_result r = {0};
    for (int i = 0; i < n; i++) {
        double num, e = gc_element(&param[i], grad[i], &eps, 1, floor, f, ctx, &num);
        gc_note(&r, (size_t)i, e, grad[i], num);
    }
    printf("  %-40s n=%5d  max rel err %.2e\n", what, n, r.worst);
    return r.worst;
}

#endif
