/* tests/test_core.c: RNG streams, shapes, the arena, the BLAS matrix product against its reference loop, image
 * patches against their definition. */
#include "core/arena.h"
#include "core/fastmath.h"
#include "core/gemm.h"
#include "core/patches.h"
#include "core/strbuf.h"
#include "plast.h"
#include "test.h"

static void test_rng(void) {
    plast_rng a, b, c;
    plast_rng_init(&a, 42, 7);
    plast_rng_init(&b, 42, 7);
    plast_rng_init(&c, 42, 8);
    int same = 1, differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t x = plast_rng_u32(&a), y = plast_rng_u32(&b), z = plast_rng_u32(&c);
        same &= x == y;
        differ += x != z;
    }
    CHECK(same, "same seed and stream must give the same sequence");
    CHECK(differ > 990, "another stream must give another sequence (%d of 1000 differ)", differ);

    /* the reference PCG32 sequence for seed 42, stream 54 (pcg32-demo output) */
    plast_rng r;
    plast_rng_init(&r, 42, 54);
    const uint32_t expect[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e};
    for (int i = 0; i < 6; i++) {
        uint32_t v = plast_rng_u32(&r);
        CHECK(v == expect[i], "pcg32 output %d: 0x%08x, expected 0x%08x", i, v, expect[i]);
    }

    /* moments of the uniform and normal draws */
    plast_rng_init(&r, 1, 1);
    double s = 0, s2 = 0, mn = 1, mx = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = plast_rng_uniform(&r);
        s += u;
        s2 += u * u;
        mn = u < mn ? u : mn;
        mx = u > mx ? u : mx;
    }
    CHECK(mn >= 0 && mx < 1, "uniform out of [0, 1): %g %g", mn, mx);
    CHECK_CLOSE(s / n, 0.5, 0, 0.005, "uniform mean");
    CHECK_CLOSE(s2 / n - (s / n) * (s / n), 1.0 / 12, 0, 0.002, "uniform variance");
    s = s2 = 0;
    for (int i = 0; i < n; i++) {
        double g = plast_rng_normal(&r);
        s += g;
        s2 += g * g;
    }
    CHECK_CLOSE(s / n, 0.0, 0, 0.01, "normal mean");
    CHECK_CLOSE(s2 / n, 1.0, 0, 0.02, "normal variance");

    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) counts[plast_rng_below(&r, 7)]++;
    int ok = 1;
    for (int k = 0; k < 7; k++) ok &= counts[k] > 9500 && counts[k] < 10500;
    CHECK(ok, "plast_rng_below(7) is not uniform");

    int32_t perm[50];
    plast_rng_permutation(&r, perm, 50);
    int seen[50] = {0}, valid = 1;
    for (int i = 0; i < 50; i++) valid &= perm[i] >= 0 && perm[i] < 50 && !seen[perm[i]]++;
    CHECK(valid, "permutation is not a permutation");

    plast_rng parent1, parent2;
    plast_rng_init(&parent1, 9, 0);
    plast_rng_init(&parent2, 9, 0);
    plast_rng k1 = plast_rng_fork(&parent1, 3), k2 = plast_rng_fork(&parent2, 3);
    CHECK(plast_rng_u64(&k1) == plast_rng_u64(&k2), "forks of equal parents must agree");
}

static void test_shapes(void) {
    CHECK(plast_shape_numel(PLAST_SHAPE0()) == 1, "a scalar has one element");
    CHECK(plast_shape_numel(PLAST_SHAPE3(2, 3, 4)) == 24, "2x3x4");
    CHECK(plast_shape_numel(PLAST_SHAPE2(-1, 3)) == -1, "negative sizes are invalid");
    CHECK(plast_shape_numel(PLAST_SHAPE2(INT64_MAX, 3)) == -1, "overflow is invalid");
    char buf[64];
    CHECK(strcmp(plast_shape_format(PLAST_SHAPE2(3, 4), buf, sizeof buf), "(3, 4)") == 0, "format: %s", buf);
    CHECK(strcmp(plast_shape_format(PLAST_SHAPE1(5), buf, sizeof buf), "(5,)") == 0, "format: %s", buf);
    CHECK(strcmp(plast_shape_format(PLAST_SHAPE0(), buf, sizeof buf), "()") == 0, "format: %s", buf);
}

static void test_arena(void) {
    plast_arena a;
    plast_arena_init(&a, 4096);
    int aligned = 1;
    void *big = NULL;
    for (int i = 1; i < 200; i++) {
        unsigned char *p = plast_arena_alloc(&a, (size_t)i * 37);
        aligned &= ((uintptr_t)p % PLAST_ARENA_ALIGN) == 0;
        memset(p, 0xab, (size_t)i * 37);
        if (i == 100) big = plast_arena_alloc(&a, 10 << 20);
    }
    CHECK(aligned, "arena blocks must be %d-byte aligned", PLAST_ARENA_ALIGN);
    CHECK(big != NULL, "a block larger than any chunk must still be served");
    size_t reserved = a.reserved;
    plast_arena_reset(&a);
    CHECK(a.used == 0, "reset forgets every block");
    for (int i = 1; i < 200; i++) plast_arena_alloc(&a, (size_t)i * 37);
    CHECK(a.reserved == reserved, "after a reset the same work reuses the chunks (%zu vs %zu)", a.reserved, reserved);
    plast_arena_release(&a);
    CHECK(a.reserved == 0 && a.head == NULL, "release returns everything");
}

static void test_gemm(void) {
    plast_rng r;
    plast_rng_init(&r, 3, 3);
    /* the last three: a product cut into tiles; one with few tiles cut along K as well (gemm.c); one so long that its
     * chunks grow past the shortest, with C wider than the 64 columns its chunks are added by */
    const int64_t sizes[][3] = {{1, 7, 5},      {5, 1, 3},       {4, 6, 0},        {17, 9, 13},
                                {64, 33, 48},   {300, 260, 20},  {20, 9, 9000},    {40, 70, 40000}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int64_t M = sizes[s][0], N = sizes[s][1], K = sizes[s][2];
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int64_t lda = (ta ? M : K) + 2, ldb = (tb ? K : N) + 1, ldc = N + 3; /* padded rows */
                int64_t ra = ta ? K : M, rb = tb ? N : K;
                plast_real *A = malloc(sizeof(plast_real) * (size_t)(ra * lda + 1));
                plast_real *B = malloc(sizeof(plast_real) * (size_t)(rb * ldb + 1));
                plast_real *C1 = malloc(sizeof(plast_real) * (size_t)(M * ldc + 1));
                plast_real *C2 = malloc(sizeof(plast_real) * (size_t)(M * ldc + 1));
                plast_rng_fill_uniform(&r, A, (size_t)(ra * lda), -1, 1);
                plast_rng_fill_uniform(&r, B, (size_t)(rb * ldb), -1, 1);
                plast_rng_fill_uniform(&r, C1, (size_t)(M * ldc), -1, 1);
                memcpy(C2, C1, sizeof(plast_real) * (size_t)(M * ldc));
                plast_gemm(ta, tb, M, N, K, (plast_real)0.7, A, lda, B, ldb, (plast_real)0.5, C1, ldc);
                plast_gemm_ref(ta, tb, M, N, K, (plast_real)0.7, A, lda, B, ldb, (plast_real)0.5, C2, ldc);
                double err = 0;
                for (int64_t i = 0; i < M; i++)
                    for (int64_t j = 0; j < N; j++) err = fmax(err, fabs((double)C1[i * ldc + j] - C2[i * ldc + j]));
                double tol = (sizeof(plast_real) == 8 ? 1e-12 : 1e-4) * (K > 1000 ? 10 : 1);
                CHECK(err <= tol, "gemm %lldx%lldx%lld ta=%d tb=%d differs from the reference by %g", (long long)M,
                      (long long)N, (long long)K, ta, tb, err);
                if (M * N * K >= (1 << 20)) { /* split between threads: the same bits for any thread count */
                    memcpy(C2, C1, sizeof(plast_real) * (size_t)(M * ldc));
                    plast_runtime_set_threads(1);
                    plast_gemm(ta, tb, M, N, K, (plast_real)0.7, A, lda, B, ldb, (plast_real)0.5, C1, ldc);
                    plast_runtime_set_threads(3);
                    plast_gemm(ta, tb, M, N, K, (plast_real)0.7, A, lda, B, ldb, (plast_real)0.5, C2, ldc);
                    CHECK(memcmp(C1, C2, sizeof(plast_real) * (size_t)(M * ldc)) == 0,
                          "gemm %lldx%lldx%lld ta=%d tb=%d differs between 1 and 3 threads", (long long)M, (long long)N,
                          (long long)K, ta, tb);
                }
                free(A);
                free(B);
                free(C1);
                free(C2);
            }
    }
}

/* the vectorisable exp, sigmoid and tanh against libm in double */
static void test_fastmath(void) {
    double ee = 0, es = 0, et = 0;
    for (int i = -200000; i <= 200000; i++) {
        double x = i * 5e-5; /* [-10, 10] */
        plast_real xr = (plast_real)x;
        double xx = (double)xr; /* the value actually passed */
        ee = fmax(ee, fabs((double)plast_fexp(xr) - exp(xx)) / exp(xx));
        double sg = 1 / (1 + exp(-xx));
        es = fmax(es, fabs((double)plast_fsigmoid(xr) - sg) / sg);
        if (xx != 0) et = fmax(et, fabs((double)plast_ftanh(xr) - tanh(xx)) / fabs(tanh(xx)));
    }
    double tol = sizeof(plast_real) == 8 ? 1e-15 : 2e-7;
    CHECK(ee <= tol, "exp relative error %g", ee);
    CHECK(es <= tol, "sigmoid relative error %g", es);
    CHECK(et <= 1.5 * tol, "tanh relative error %g", et);
    CHECK(plast_fexp((plast_real)-200) >= 0 && isfinite((double)plast_fexp((plast_real)200)), "exp saturates");
    CHECK(plast_fsigmoid((plast_real)-200) >= 0 && plast_fsigmoid((plast_real)200) == 1, "sigmoid saturates");
    CHECK(plast_ftanh((plast_real)30) == 1 && plast_ftanh((plast_real)-30) == -1, "tanh saturates");
    printf("fast math: exp %.2g, sigmoid %.2g, tanh %.2g relative error\n", ee, es, et);
}

static void test_strbuf_and_errors(void) {
    plast_strbuf b;
    plast_strbuf_init(&b);
    for (int i = 0; i < 1000; i++) plast_strbuf_printf(&b, "%d,", i);
    CHECK(b.len > 3000 && strncmp(b.buf, "0,1,2,", 6) == 0, "strbuf grows");
    plast_strbuf_free(&b);
    for (int s = 0; s < PLAST_STATUS_COUNT; s++)
        CHECK(strlen(plast_status_name((plast_status)s)) > 1, "status %d has a name", s);
    CHECK(plast_real_bytes() == (int)sizeof(plast_real), "the linked variant matches the header");
    char desc[512];
    plast_runtime_describe(desc, sizeof desc);
    CHECK(strstr(desc, PLAST_VERSION_STRING) != NULL, "describe: %s", desc);
}

/* summaries over seeds: the figures numpy gives for the same values */
static void test_summarize(void) {
    const double x[4] = {3, 1, 2, 4};
    plast_summary s = plast_summarize(x, 4);
    CHECK(s.n == 4 && fabs(s.mean - 2.5) < 1e-15 && fabs(s.sd - 1.2909944487358056) < 1e-14, "mean and sd");
    CHECK(fabs(s.ci95 - 3.182 * 1.2909944487358056 / 2) < 1e-12, "95%% interval from t(0.975, 3)");
    CHECK(s.median == 2.5 && s.q1 == 1.75 && s.q3 == 3.25, "quartiles as numpy.percentile: %g %g %g", s.median, s.q1,
          s.q3);
    const double one[1] = {7};
    s = plast_summarize(one, 1);
    CHECK(s.mean == 7 && s.median == 7 && isnan(s.sd), "one value: its mean and median, no spread");
    const double gap[3] = {1, NAN, 2};
    CHECK(isnan(plast_summarize(gap, 3).median), "a missing value leaves the median undefined");
}

/* im2col and its adjoint against patches.h's definition, position by position: padding on either side, strides,
 * one and several channels, windows that reach past the image, and the Mnih and Conv-4 shapes */
static void test_patches(void) {
    const int64_t cases[][6] = {/* H, W, C, k, pad, stride */
                                {84, 84, 1, 8, 0, 4}, {20, 20, 16, 4, 0, 2}, {28, 28, 1, 3, 1, 1}, {7, 5, 3, 3, 1, 1},
                                {6, 9, 2, 4, 2, 3},   {5, 5, 4, 5, 4, 1},    {3, 4, 1, 2, 0, 1}, {9, 7, 3, 3, 2, 2}};
    plast_rng rng;
    plast_rng_init(&rng, 5, 5);
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
        const int64_t N = 3, H = cases[q][0], W = cases[q][1], C = cases[q][2];
        const int k = (int)cases[q][3], pad = (int)cases[q][4], st = (int)cases[q][5];
        const int64_t Ho = (H + 2 * pad - k) / st + 1, Wo = (W + 2 * pad - k) / st + 1, K = (int64_t)k * k * C;
        const int64_t nx = N * H * W * C, nc = N * Ho * Wo * K;
        plast_real *x = malloc(sizeof(plast_real) * (size_t)nx), *cols = malloc(sizeof(plast_real) * (size_t)nc);
        plast_real *back = calloc((size_t)nx, sizeof(plast_real)), *ref = calloc((size_t)nx, sizeof(plast_real));
        for (int64_t e = 0; e < nx; e++) x[e] = (plast_real)plast_rng_normal(&rng);
        for (int64_t e = 0; e < nc; e++) cols[e] = (plast_real)-7; /* every element must be written */
        plast_patches_gather(x, cols, N, H, W, C, k, pad, st);
        int64_t bad = 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < Ho; i++)
                for (int64_t j = 0; j < Wo; j++)
                    for (int64_t a = 0; a < k; a++)
                        for (int64_t b = 0; b < k; b++)
                            for (int64_t c = 0; c < C; c++) {
                                const int64_t r = st * i + a - pad, cc = st * j + b - pad;
                                const int in = r >= 0 && r < H && cc >= 0 && cc < W;
                                const plast_real want = in ? x[((n * H + r) * W + cc) * C + c] : 0;
                                const int64_t o = ((n * Ho + i) * Wo + j) * K + (a * k + b) * C + c;
                                bad += cols[o] != want;
                                if (in) ref[((n * H + r) * W + cc) * C + c] += cols[o]; /* col2im, in this order */
                            }
        CHECK(bad == 0, "patches %lldx%lldx%lld k %d pad %d stride %d: %lld elements differ from the definition",
              (long long)H, (long long)W, (long long)C, k, pad, st, (long long)bad);
        plast_patches_scatter_add(back, cols, N, H, W, C, k, pad, st);
        CHECK(memcmp(back, ref, sizeof(plast_real) * (size_t)nx) == 0,
              "scatter_add %lldx%lldx%lld k %d pad %d stride %d differs from the position-by-position sums",
              (long long)H, (long long)W, (long long)C, k, pad, st);
        free(x), free(cols), free(back), free(ref);
    }
}

int main(void) {
    test_summarize();
    test_rng();
    test_shapes();
    test_arena();
    test_gemm();
    test_patches();
    test_fastmath();
    test_strbuf_and_errors();
    return test_finish(sizeof(plast_real) == 8 ? "test_core (float64)" : "test_core (float32)");
}
