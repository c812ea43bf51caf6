/* W2 written out by hand with numerics="portable": the lower bound for an
 * exact per-sample SGD step of the 2-2-1 sigmoid net with cyneuron's exp.
 *
 *   cc -O2 -ffp-contract=off -Icsrc benchmarks/floor/w2_floor_portable.c -o /tmp/w2p
 *   /tmp/w2p            # add -DFAKE_EXP for the same step without the exp chain
 *
 * With -DW2P_LIBRARY -shared -fPIC it is a library instead, whose
 * w2p_train(epochs) runs that many epochs of 4 updates: the "hand-written
 * floor" row of W2 in benchmarks/run.py (benchmarks/peers/floor_peer.py).
 *
 * Constant sizes, every value in a register, the contract's operations in
 * its order, the scalar copy of the portable exp (csrc/cyn_portable.h)
 * inline. The weights are arbitrary (the time does not depend on them).
 * The program prints the best of 40 runs of 80000 updates.
 */
#include <stdio.h>
#include <time.h>
#include "cyn_portable.h"

#ifdef FAKE_EXP
static inline double step_exp(double z) { return 1.0 + 0.001 * z; }
#else
#define step_exp cynp_exp_f64
#endif

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static const double X[4][2] = {{-2, -1}, {25, 6}, {17, 4}, {-15, -6}}, Y[4] = {1, 0, 0, 1};

static double W1[2][2] = {{0.27, -0.9}, {0.6, 0.3}}, b1[2] = {0, 0}, W2[2] = {0.5, -0.4}, b2 = 0;

/* `epochs` epochs of the 4 per-sample updates, on the weights above */
void w2p_train(long epochs)
{
    const double lr = 0.1;
    for (long e = 0; e < epochs; e++)
        for (int s = 0; s < 4; s++) {
            const double *x = X[s];
            double z0 = ((0.0 + x[0] * W1[0][0]) + x[1] * W1[1][0]) + b1[0];
            double z1 = ((0.0 + x[0] * W1[0][1]) + x[1] * W1[1][1]) + b1[1];
            double a0 = 1.0 / (1.0 + step_exp(-z0)), a1 = 1.0 / (1.0 + step_exp(-z1));
            double z2 = ((0.0 + a0 * W2[0]) + a1 * W2[1]) + b2;
            double a2 = 1.0 / (1.0 + step_exp(-z2));
            double d2 = ((2.0 * (a2 - Y[s])) * 1.0) * (a2 * (1.0 - a2));
            double d10 = (0.0 + d2 * W2[0]) * (a0 * (1.0 - a0));
            double d11 = (0.0 + d2 * W2[1]) * (a1 * (1.0 - a1));
            W2[0] = W2[0] - lr * (0.0 + a0 * d2);
            W2[1] = W2[1] - lr * (0.0 + a1 * d2);
            b2 = b2 - lr * (0.0 + d2);
            W1[0][0] = W1[0][0] - lr * (0.0 + x[0] * d10);
            W1[0][1] = W1[0][1] - lr * (0.0 + x[0] * d11);
            W1[1][0] = W1[1][0] - lr * (0.0 + x[1] * d10);
            W1[1][1] = W1[1][1] - lr * (0.0 + x[1] * d11);
            b1[0] = b1[0] - lr * (0.0 + d10);
            b1[1] = b1[1] - lr * (0.0 + d11);
        }
}

#ifndef W2P_LIBRARY
int main(void)
{
    double best = 1e9;
    for (int r = 0; r < 40; r++) {
        double t0 = now();
        w2p_train(20000);
        double t = (now() - t0) / 80000 * 1e9;
        if (t < best)
            best = t;
    }
    printf("W2 portable floor: %.1f ns per update (W2[0] = %g)\n", best, W2[0]);
    return 0;
}
#endif
