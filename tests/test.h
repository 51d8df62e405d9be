/* tests/test.h: a tiny test harness. Each test program counts checks, prints every failure with its location,
 * ends with "N passed, N failed" and exits non-zero if anything failed. */
#ifndef PLAST_TESTS_TEST_H
#define PLAST_TESTS_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct test_counts {
    long passed, failed;
} test_counts;

static test_counts test_result;

#define CHECK(cond, ...)                                                                                           \
    do {                                                                                                          \
        if (cond) {                                                                                               \
            test_result.passed++;                                                                                 \
        } else {                                                                                                  \
            test_result.failed++;                                                                                 \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                      \
            fprintf(stderr, __VA_ARGS__);                                                                         \
            fputc('\n', stderr);                                                                                  \
        }                                                                                                         \
    } while (0)

/* |a - b| <= atol + rtol * max(|a|, |b|), and both finite */
static inline int test_close(double a, double b, double rtol, double atol) {
    if (!isfinite(a) || !isfinite(b)) return 0;
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= atol + rtol * m;
}

#define CHECK_CLOSE(a, b, rtol, atol, ...)                                                                         \
    do {                                                                                                          \
        double ca_ = (double)(a), cb_ = (double)(b);                                                              \
        if (test_close(ca_, cb_, (rtol), (atol))) {                                                               \
            test_result.passed++;                                                                                 \
        } else {                                                                                                  \
            test_result.failed++;                                                                                 \
            fprintf(stderr, "FAIL %s:%d: %.17g vs %.17g: ", __FILE__, __LINE__, ca_, cb_);                        \
            fprintf(stderr, __VA_ARGS__);                                                                         \
            fputc('\n', stderr);                                                                                  \
        }                                                                                                         \
    } while (0)

/* Prints the closing line and returns the exit status. */
static inline int test_finish(const char *name) {
    printf("%s: %ld passed, %ld failed\n", name, test_result.passed, test_result.failed);
    return test_result.failed ? 1 : 0;
}

#endif
