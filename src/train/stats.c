/* src/train/stats.c: summaries over seeds: mean, standard deviation, standard error and the 95% confidence
 * interval of the mean from Student's t (the papers' tables use 1.96 SEM, which is too narrow for 4 seeds:
 * t(0.975, 3) = 3.18; docs/DEVIATIONS.md). */
#include <math.h>
#include <stdlib.h>

#include "plast/train.h"

/* t(0.975, dof) for dof = 1..30 (standard tables) */
static const double T975[30] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};

static double t975(int dof) {
    if (dof <= 30) return T975[dof - 1];
    const double z = 1.959964, v = dof; /* Cornish-Fisher expansion, accurate to 1e-4 beyond 30 */
    return z + (z * z * z + z) / (4 * v) + (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * v * v);
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* the p-quantile of sorted v (n values): v at position p (n - 1), linearly between its neighbours */
static double quantile(const double *v, int n, double p) {
    const double pos = p * (n - 1);
    const int i = (int)floor(pos);
    return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[n - 1];
}

plast_summary plast_summarize(const double *x, int n) {
    plast_summary s = {n, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    if (n < 1) return s;
    double sorted[n > 0 && n <= 1024 ? n : 1];
    int finite = n <= 1024;
    for (int i = 0; i < n && finite; i++) finite = !isnan(x[i]);
    if (finite) {
        for (int i = 0; i < n; i++) sorted[i] = x[i];
        qsort(sorted, (size_t)n, sizeof sorted[0], cmp_double);
        s.median = quantile(sorted, n, 0.5), s.q1 = quantile(sorted, n, 0.25), s.q3 = quantile(sorted, n, 0.75);
    }
    double sum = 0;
    for (int i = 0; i < n; i++) sum += x[i];
    s.mean = sum / n;
    if (n < 2) return s;
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (x[i] - s.mean) * (x[i] - s.mean);
    s.sd = sqrt(ss / (n - 1));
    s.sem = s.sd / sqrt((double)n);
    s.ci95 = t975(n - 1) * s.sem;
    return s;
}
