/* src/core/gemm.h: the one matrix-product entry point (internal).
 *
 * Row-major C (M x N) = alpha * op(A) * op(B) + beta * C, op(A) of size M x K (A stored K x M when trans_a),
 * op(B) of size K x N (B stored N x K when trans_b); lda, ldb, ldc are row strides in elements, as in CBLAS.
 * beta = 1 accumulates, which is what backward passes need. plast_gemm goes through CBLAS (OpenBLAS); plast_gemm_ref
 * is the plain triple loop it is tested against. Inside an OpenMP parallel region the OpenMP build of OpenBLAS (the
 * one plast links, see tools/deps.sh) runs single-threaded: engine/lowrank.c relies on that to split its products
 * between threads itself. A BLAS with threads of its own still computes correctly there, but oversubscribes.
 */
#ifndef PLAST_CORE_GEMM_H
#define PLAST_CORE_GEMM_H

#include <stdint.h>

#include "plast/base.h"

void plast_gemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, plast_real alpha, const plast_real *A,
                int64_t lda, const plast_real *B, int64_t ldb, plast_real beta, plast_real *C, int64_t ldc);
/* the same product as one BLAS call on the calling thread, C never cut into tiles: for callers that share out
 * products between threads themselves (a product's bits depend on how it is cut, so the cut must be the caller's) */
void plast_gemm_one(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, plast_real alpha, const plast_real *A,
                    int64_t lda, const plast_real *B, int64_t ldb, plast_real beta, plast_real *C, int64_t ldc);
void plast_gemm_ref(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, plast_real alpha,
                    const plast_real *A, int64_t lda, const plast_real *B, int64_t ldb, plast_real beta,
                    plast_real *C, int64_t ldc);

#endif
