/*
 * Register-blocked, fixed-order matrix product: one body, instantiated by
 * cyn_kernels.c once per (dtype, instruction set). Define before including:
 *
 *   T      the C type (double or float)
 *   SFX    dtype suffix (f64, f32)
 *   ISA    variant suffix (vec128, avx2, avx512)
 *   VB     vector width in bytes (16, 32, 64)
 *   MR     rows per register tile (1..8)
 *   NV     vectors per register tile row
 *
 * Defines (names through CYN_VFN, cyn_names.h): cyn_gemm_SFX_ISA (the entry
 * the variant table holds), cyn_colsum_SFX_ISA, and the static helpers
 * cyn_gemm_strided_, cyn_micro_, cyn_micro_any_, cyn_micro_full_,
 * cyn_transpose_pays_ and the vector type cyn_vec_, each + SFX_ISA.
 *
 * The product computed is
 *
 *   C[i, j] = (((+0.0 + A(i,0)*B(0,j)) + A(i,1)*B(1,j)) + ...) [+ bias[j]]
 *
 * and, with a bias, the activation step `act` of cyn_affine (cyn_kernels.h)
 * applied to each output as it is stored.
 *
 * with A(i,p) = a[i*ars + p*acs] and B(p,j) = b[p*bps + j*bcs]: exactly the
 * contract's order (README, "The numerical contract") for each output element. Vector lanes run across
 * independent outputs j, never inside a sum, and each lane does the same
 * separately rounded multiply and add as the scalar code, so every variant
 * gives identical bits (the sources are compiled with -ffp-contract=off).
 *
 * Splitting the reduction into blocks of KC is exact too: the running sum is
 * stored in C (in the array's own dtype, as the scalar loop would hold it)
 * and picked up again by the next block.
 *
 * B is packed per (KC x NR) panel into a zero-padded buffer on the stack, so
 * edge tiles never read outside the caller's arrays; edge columns are stored
 * with a masked last vector (AVX-512) or go through a small C tile (the
 * narrower variants, and a transposed destination). Strided B access covers
 * the transposed products of backpropagation (W^T) and the weight gradient
 * (A^T) without materialising a transpose.
 */
#if !defined(T) || !defined(SFX) || !defined(ISA) || !defined(VB) || !defined(MR) || !defined(NV)
#error "define T, SFX, ISA, VB, MR and NV before including cyn_gemm_impl.h"
#endif

#include "cyn_names.h"

#define GV CYN_VFN(cyn_vec)

#define GL ((int)(VB / sizeof(T)))        /* lanes per vector */
#define GNR (NV * GL)                      /* columns per register tile */
/* Reduction block: the packed panel takes about 32 KiB (measured on 784-256-256-10 training, batch 256:
 * 256 deep beat 128 and 64 by 4-5% for float64 AVX-512). */
#define GKC ((int)(32768 / (GNR * sizeof(T))) < 512 ? (int)(32768 / (GNR * sizeof(T))) : 512)

/* The loops over tile rows and vectors have constant trip counts after
 * specialisation; unrolled, the accumulators live in registers. gcc does it
 * unasked; clang needs telling (without it 784-256-256-10 training ran at 29 instead of 50 GFLOP/s). */
#ifndef CYN_UNROLL
#define CYN_UNROLL_(x) _Pragma(#x)
#if defined(__clang__)
#define CYN_UNROLL CYN_UNROLL_(clang loop unroll(full))
#else
#define CYN_UNROLL CYN_UNROLL_(GCC unroll 16)
#endif
#endif

/* Unaligned, aliasing-safe vector of T: loads and stores through it are
 * plain unaligned moves. */
typedef T GV __attribute__((vector_size(VB), aligned(sizeof(T)), may_alias));

/* v * *p: every lane times the scalar at p, one rounded multiply. In the
 * AVX-512 build it is one multiply whose memory operand is broadcast as it
 * loads: a separate 512-bit vbroadcastsd takes one of the floating-point
 * pipes the products need on AMD Zen 4 (the 4x4 tile spends 4 broadcasts
 * per 32 multiplies and adds; measured 44 against 50-53 GFLOP/s in a
 * register-tile loop), while a load with embedded broadcast does not. The
 * compiler never forms it itself, since the tile reuses each scalar for
 * every vector of its row. */
#if defined(CYN_EMBEDDED_BCAST) && VB == 64
static inline __attribute__((always_inline)) GV
CYN_VFN(cyn_mul_bcast)(GV v, const T *p)
{
    GV r;
    if (sizeof(T) == 8)
        __asm__("vmulpd %2%{1to8%}, %1, %0" : "=v"(r) : "v"(v), "m"(*p));
    else
        __asm__("vmulps %2%{1to16%}, %1, %0" : "=v"(r) : "v"(v), "m"(*p));
    return r;
}
#else
static inline __attribute__((always_inline)) GV
CYN_VFN(cyn_mul_bcast)(GV v, const T *p)
{
    /* vector * scalar splats the scalar: no extra rounding */
    return v * *p;
}
#endif

/* The last vector of a partial panel, of which only `n` (< GL) lanes are
 * columns of C: AVX-512's masked loads and stores touch only those, so such
 * a panel's tiles go straight into C, as whole panels do, instead of through
 * a small C tile and two copies per tile (the copies made a 100-wide
 * float32 product, 64 + 36 columns, 8-10% slower than a 112-wide one). */
#if defined(CYN_EMBEDDED_BCAST) && VB == 64
#define G_MASKED 1
static inline __attribute__((always_inline)) GV
CYN_VFN(cyn_load_tail)(const T *p, int n)
{
    const unsigned k = (1u << n) - 1u;
    if (sizeof(T) == 8)
        return (GV)_mm512_maskz_loadu_pd((__mmask8)k, p);
    return (GV)_mm512_maskz_loadu_ps((__mmask16)k, p);
}

static inline __attribute__((always_inline)) void
CYN_VFN(cyn_store_tail)(T *p, GV x, int n)
{
    const unsigned k = (1u << n) - 1u;
    if (sizeof(T) == 8)
        _mm512_mask_storeu_pd(p, (__mmask8)k, (__m512d)x);
    else
        _mm512_mask_storeu_ps(p, (__mmask16)k, (__m512)x);
}
#define G_LOAD(p, v) ((v) == nv - 1 && tail < GL ? CYN_VFN(cyn_load_tail)((p), tail) \
                                                 : *(const GV *)(p))
#define G_STORE(p, v, x)                                     \
    do {                                                     \
        if ((v) == nv - 1 && tail < GL)                      \
            CYN_VFN(cyn_store_tail)((p), (x), tail);         \
        else                                                 \
            *(GV *)(p) = (x);                                \
    } while (0)
#else
#define G_MASKED 0
#define G_LOAD(p, v) (*(const GV *)(p))
#define G_STORE(p, v, x) (*(GV *)(p) = (x))
#endif

/* acc[r][v] over a kc-long reduction for mr rows and nv vectors (nv <= NV:
 * an edge panel computes only the vectors it needs); c is a tile with row
 * stride ldc, bp a packed panel with row stride GNR; tail: the lanes of the
 * last vector that are columns of c (GL: all; fewer only where G_MASKED). */
static inline __attribute__((always_inline)) void
CYN_VFN(cyn_micro)(const int mr, const int nv, cyn_int kc, const T *restrict a, cyn_int ars,
               cyn_int acs, const T *restrict bp, T *restrict c, cyn_int ldc, int init,
               const T *restrict bias, int act, T alpha, int tail)
{
    GV acc[MR][NV];
    (void)tail;
    CYN_UNROLL
    for (int r = 0; r < mr; ++r)
        CYN_UNROLL
        for (int v = 0; v < nv; ++v)
            acc[r][v] = init ? (GV){0} : G_LOAD(c + r * ldc + v * GL, v);
    for (cyn_int p = 0; p < kc; ++p) {
        GV bv[NV];
        CYN_UNROLL
        for (int v = 0; v < nv; ++v)
            bv[v] = *(const GV *)(bp + p * GNR + v * GL);
        const T *restrict ap = a + p * acs;
        CYN_UNROLL
        for (int r = 0; r < mr; ++r) {
            CYN_UNROLL
            for (int v = 0; v < nv; ++v)
                acc[r][v] = acc[r][v] + CYN_VFN(cyn_mul_bcast)(bv[v], ap + r * ars);
        }
    }
    if (bias) {
        CYN_UNROLL
        for (int v = 0; v < nv; ++v) {
            const GV bb = *(const GV *)(bias + v * GL);
            CYN_UNROLL
            for (int r = 0; r < mr; ++r)
                acc[r][v] = acc[r][v] + bb;
        }
        /* the activation step, lane by lane as CYN_ACT_STEP: comparisons give
         * all-ones lanes where true, so bit masks select without branches */
        typedef __typeof__((GV){0} <= (GV){0}) GI;
        const GV zero = {0};
        if (act == CYN_ACT_SIGMOID) {
            CYN_UNROLL
            for (int r = 0; r < mr; ++r)
                CYN_UNROLL
                for (int v = 0; v < nv; ++v)
                    acc[r][v] = -acc[r][v];
        } else if (act == CYN_ACT_RELU) {
            CYN_UNROLL
            for (int r = 0; r < mr; ++r)
                CYN_UNROLL
                for (int v = 0; v < nv; ++v) {
                    const GI le = acc[r][v] <= zero;      /* NaN: false, kept */
                    acc[r][v] = (GV)((GI)acc[r][v] & ~le); /* <= 0 (and -0): +0 */
                }
        } else if (act == CYN_ACT_LEAKY_RELU) {
            CYN_UNROLL
            for (int r = 0; r < mr; ++r)
                CYN_UNROLL
                for (int v = 0; v < nv; ++v) {
                    const GI gt = acc[r][v] > zero;
                    const GV scaled = acc[r][v] * alpha;
                    acc[r][v] = (GV)(((GI)acc[r][v] & gt) | ((GI)scaled & ~gt));
                }
        }
    }
    CYN_UNROLL
    for (int r = 0; r < mr; ++r)
        CYN_UNROLL
        for (int v = 0; v < nv; ++v)
            G_STORE(c + r * ldc + v * GL, v, acc[r][v]);
}

/* One specialisation per row count and vector count, so that every tile
 * keeps its accumulators in registers. */
#if NV == 1
#define G_NV_SWITCH(R) CYN_VFN(cyn_micro)(R, 1, kc, a, ars, acs, bp, c, ldc, init, bias, act, alpha, tail);
#else
#define G_NV(R, V) case V: \
    CYN_VFN(cyn_micro)(R, V, kc, a, ars, acs, bp, c, ldc, init, bias, act, alpha, tail); break;
#if NV == 2
#define G_NV_SWITCH(R) switch (nv) { G_NV(R, 1) default: G_NV(R, 2) }
#elif NV == 3
#define G_NV_SWITCH(R) switch (nv) { G_NV(R, 1) G_NV(R, 2) default: G_NV(R, 3) }
#elif NV == 4
#define G_NV_SWITCH(R) switch (nv) { G_NV(R, 1) G_NV(R, 2) G_NV(R, 3) default: G_NV(R, 4) }
#else
#error "cyn_micro_any handles NV of 1 to 4"
#endif
#endif
static void
CYN_VFN(cyn_micro_any)(int mr, int nv, cyn_int kc, const T *restrict a, cyn_int ars, cyn_int acs,
                   const T *restrict bp, T *restrict c, cyn_int ldc, int init,
                   const T *restrict bias, int act, T alpha, int tail)
{
#define G_CASE(R) case R: G_NV_SWITCH(R) break;
    switch (mr) {
    G_CASE(1)
#if MR >= 2
    G_CASE(2)
#endif
#if MR >= 3
    G_CASE(3)
#endif
#if MR >= 4
    G_CASE(4)
#endif
#if MR >= 5
    G_CASE(5)
#endif
#if MR >= 6
    G_CASE(6)
#endif
#if MR >= 7
    G_CASE(7)
#endif
#if MR >= 8
    G_CASE(8)
#endif
    default: break;
    }
#undef G_CASE
#undef G_NV_SWITCH
#ifdef G_NV
#undef G_NV
#endif
}

/* Full-width tiles (the common case): only the row count varies, so the
 * compiler can inline the one loop nest into the product below. */
static inline __attribute__((always_inline)) void
CYN_VFN(cyn_micro_full)(int mr, cyn_int kc, const T *restrict a, cyn_int ars, cyn_int acs,
                    const T *restrict bp, T *restrict c, cyn_int ldc, int init,
                    const T *restrict bias, int act, T alpha)
{
#define G_FULL(R) case R: \
    CYN_VFN(cyn_micro)(R, NV, kc, a, ars, acs, bp, c, ldc, init, bias, act, alpha, GL); break;
    switch (mr) {
    G_FULL(1)
#if MR >= 2
    G_FULL(2)
#endif
#if MR >= 3
    G_FULL(3)
#endif
#if MR >= 4
    G_FULL(4)
#endif
#if MR >= 5
    G_FULL(5)
#endif
#if MR >= 6
    G_FULL(6)
#endif
#if MR >= 7
    G_FULL(7)
#endif
#if MR >= 8
    G_FULL(8)
#endif
    default: break;
    }
#undef G_FULL
}

/* C(i,j) = c[i*crs + j*ccs] = step(A(M,K) B(K,N) [+ bias]); see the header
 * comment. With ccs != 1 (a transposed destination) every tile goes
 * through the small C tile, since its columns are not contiguous. */
static void
CYN_VFN(cyn_gemm_strided)(cyn_int M, cyn_int N, cyn_int K,
                      const T *restrict a, cyn_int ars, cyn_int acs,
                      const T *restrict b, cyn_int bps, cyn_int bcs,
                      const T *restrict bias, int act, T alpha, T *restrict c,
                      cyn_int crs, cyn_int ccs)
{
    T pack[GKC * GNR] __attribute__((aligned(64)));
    T bpad[GNR] __attribute__((aligned(64)));
    T tile[MR * GNR] __attribute__((aligned(64)));
    if (K == 0 && act == CYN_GEMM_CONTINUE)
        return;                /* no terms to add to the sums in C */
    if (K == 0) {
        /* an empty sum is +0.0, then + bias */
        for (cyn_int i = 0; i < M; ++i)
            for (cyn_int j = 0; j < N; ++j) {
                const T z = bias ? (T)0 + bias[j] : (T)0;
                c[i * crs + j * ccs] = bias ? CYN_ACT_STEP(T, act, z, alpha) : z;
            }
        return;
    }
    for (int q = 0; q < MR * GNR; ++q)
        tile[q] = (T)0;
    for (cyn_int j0 = 0; j0 < N; j0 += GNR) {
        const int nr = (int)(N - j0 < GNR ? N - j0 : GNR), nvec = (nr + GL - 1) / GL;
        if (bias) {
            for (int q = 0; q < GNR; ++q)
                bpad[q] = q < nr ? bias[j0 + q] : (T)0;
        }
        for (cyn_int p0 = 0; p0 < K; p0 += GKC) {
            const cyn_int kc = K - p0 < GKC ? K - p0 : GKC;
            /* the first block starts each sum at +0.0, unless C holds sums to continue */
            const int init = p0 == 0 && act != CYN_GEMM_CONTINUE;
            const T *restrict bsrc = b + p0 * bps + j0 * bcs;
            const T *restrict bb = (bias && p0 + kc == K) ? bpad : NULL;
            if (bcs == 1 && nr == GNR) {
                /* whole vectors: written as a loop of q, gcc makes each row a
                 * memcpy call, which cost 3-5% of a 100-wide product */
                for (cyn_int p = 0; p < kc; ++p) {
                    const T *restrict row = bsrc + p * bps;
                    T *restrict dst = pack + p * GNR;
                    CYN_UNROLL
                    for (int v = 0; v < NV; ++v)
                        *(GV *)(dst + v * GL) = *(const GV *)(row + v * GL);
                }
            } else if (bcs == 1) {
                /* a partial panel: the micro-kernel reads only the vectors
                 * that hold its nr columns, so only those are zeroed (all
                 * GNR lanes, one float at a time, were 28% of a 32x64x10
                 * float32 product) */
                for (cyn_int p = 0; p < kc; ++p) {
                    const T *restrict row = bsrc + p * bps;
                    T *restrict dst = pack + p * GNR;
                    for (int q = 0; q < nr; ++q)
                        dst[q] = row[q];
                    for (int q = nr; q < nvec * GL; ++q)
                        dst[q] = (T)0;
                }
            } else {
                /* transposed source: walk each source row once */
                for (int q = 0; q < nvec * GL; ++q) {
                    if (q < nr) {
                        const T *restrict col = bsrc + q * bcs;
                        for (cyn_int p = 0; p < kc; ++p)
                            pack[p * GNR + q] = col[p * bps];
                    } else {
                        for (cyn_int p = 0; p < kc; ++p)
                            pack[p * GNR + q] = (T)0;
                    }
                }
            }
            for (cyn_int i0 = 0; i0 < M; i0 += MR) {
                const int mr = (int)(M - i0 < MR ? M - i0 : MR);
                const T *restrict ap = a + i0 * ars + p0 * acs;
                T *restrict cp = c + i0 * crs + j0 * ccs;
                if (nr == GNR && ccs == 1) {
                    CYN_VFN(cyn_micro_full)(mr, kc, ap, ars, acs, pack, cp, crs, init, bb, act,
                                        alpha);
                } else if (ccs == 1 && (nr % GL == 0 || G_MASKED)) {
                    /* whole vectors (a thread's share of the columns ends on
                     * a vector), or a masked last one: straight into C */
                    CYN_VFN(cyn_micro_any)(mr, nvec, kc, ap, ars, acs, pack, cp, crs, init, bb,
                                       act, alpha, nr % GL ? nr % GL : GL);
                } else {
                    if (!init)
                        for (int r = 0; r < mr; ++r)
                            for (int q = 0; q < nr; ++q)
                                tile[r * GNR + q] = cp[r * crs + q * ccs];
                    CYN_VFN(cyn_micro_any)(mr, nvec, kc, ap, ars, acs, pack, tile, GNR,
                                       init, bb, act, alpha, GL);
                    for (int r = 0; r < mr; ++r)
                        for (int q = 0; q < nr; ++q)
                            cp[r * crs + q * ccs] = tile[r * GNR + q];
                }
            }
        }
    }
}

/* The lanes computed for n columns: whole tiles, then only the vectors the
 * last, partial panel needs (cyn_micro_any's nv). */
static cyn_int
CYN_VFN(cyn_lanes)(cyn_int n)
{
    return n / GNR * GNR + (n % GNR + GL - 1) / GL * GL;
}

/* Vector lanes run across the columns of C, in tiles GNR wide: a narrow C
 * (an output layer of 1 to 10 units, or its weight gradient) would leave
 * most lanes idle. Its transpose C^T = B^T A^T has the same sums in the same
 * order, with the long side across the lanes; it costs a copy of A into the
 * packed panels. Costs below are in lane-operations: the tiles' lanes (only
 * the vectors computed, cyn_lanes), doubled when a tile has fewer than 8
 * accumulators (each sum's adds wait for the one before: a 1-vector tile is
 * bound by the add's latency, not by throughput), and the packing of B, one
 * vector operation per vector of a contiguous row (bcs 1) but one per
 * element of a gathered one (the forward's X^T). Checked on an AVX-512 Zen 4
 * against both ways, interleaved: 200x100x10 (X W) plain 14.8 us, transposed
 * 19.4 (float64 15.6 and 20.9); 100x10 from 200 samples (A^T D) transposed
 * 15.0, plain 17.2 (float64 plain 16.7, transposed 19.8): each time the
 * cheaper is chosen, in the AVX2 variant too but for A^T D in float32 (plain
 * 14.9 against 13.8 us, as the model before). The 200x100x10 forward in
 * float32 went from transposed (19.4 us) to plain (14.6). */
static double
CYN_VFN(cyn_gemm_cost)(cyn_int M, cyn_int N, cyn_int K, cyn_int bcs)
{
    const cyn_int nv = (N < GNR ? (N + GL - 1) / GL : NV);
    const double rows = (double)((M + MR - 1) / MR * MR), lanes = (double)CYN_VFN(cyn_lanes)(N);
    const double latency = MR * nv < 8 ? 2.0 : 1.0;
    return rows * lanes * (double)K * latency + (double)K * lanes * (bcs == 1 ? 1.0 : (double)GL);
}

static int
CYN_VFN(cyn_transpose_pays)(cyn_int M, cyn_int N, cyn_int K, cyn_int ars, cyn_int bcs)
{
    return N < GNR && 4 * CYN_VFN(cyn_gemm_cost)(N, M, K, ars) <
                          3 * CYN_VFN(cyn_gemm_cost)(M, N, K, bcs);
}

/* C[M,N] (row stride ldc) = step(A(M,K) B(K,N) [+ bias]), see the header
 * comment, all in this variant's tiles; narrow products are computed as
 * their transpose (same bits), with the bias and the activation step
 * applied afterwards, element by element, exactly as the fused epilogue
 * does. */
static void
CYN_VFN(cyn_gemm_tiles)(cyn_int M, cyn_int N, cyn_int K,
                        const T *restrict a, cyn_int ars, cyn_int acs,
                        const T *restrict b, cyn_int bps, cyn_int bcs,
                        const T *restrict bias, int act, T alpha, T *restrict c, cyn_int ldc)
{
    if (K == 0 || !CYN_VFN(cyn_transpose_pays)(M, N, K, ars, bcs)) {
        CYN_VFN(cyn_gemm_strided)(M, N, K, a, ars, acs, b, bps, bcs, bias, act, alpha, c, ldc, 1);
        return;
    }
    CYN_VFN(cyn_gemm_strided)(N, M, K, b, bcs, bps, a, acs, ars, NULL,
                              act == CYN_GEMM_CONTINUE ? CYN_GEMM_CONTINUE : 0, alpha, c, 1, ldc);
    if (bias)
        for (cyn_int i = 0; i < M; ++i)
            for (cyn_int j = 0; j < N; ++j) {
                const T z = c[i * ldc + j] + bias[j];
                c[i * ldc + j] = CYN_ACT_STEP(T, act, z, alpha);
            }
}

#ifdef NARROW_ISA
/* The variants' entries, called through pointers the compiler cannot see
 * through, so that these calls do not change how it compiles the kernels
 * for every other product (the kernels' layout moves W3's float32 fit by up
 * to 5%: benchmarks/ANALYSIS.md). */
static void (*volatile const CYN_VFN(cyn_gemm_entries)[2])(
    cyn_int, cyn_int, cyn_int, const T *, cyn_int, cyn_int, const T *, cyn_int, cyn_int,
    const T *, int, T, T *, cyn_int) = {CYN_VFN(cyn_gemm_tiles),
                                        CYN_CAT3(cyn_gemm, SFX, NARROW_ISA)};

/* A product's columns past its last whole tile on the half-width variant
 * NARROW_ISA (instantiated earlier in the same translation unit, same bits)
 * where the lanes they take there, at what a half-width lane costs on this
 * CPU (cyn_half_edges, measured per kind), are fewer. Returns 1 when it
 * computed the product (the whole tiles here).
 *
 * A product narrower than one tile (CYN_HALF_NARROW) computes whole vectors
 * of which the last may be mostly idle lanes: 10 float64 outputs take 12
 * half-width lanes against 16. A wider product's last, partial panel
 * (CYN_HALF_EDGE, 5% margin): 100 float32 columns are 64 + 36, and the 36
 * take 40 half-width lanes instead of 48 (W6's products 8% faster in
 * float32, 3% in float64 on a Zen 4). */
static __attribute__((noinline)) int
CYN_VFN(cyn_gemm_half)(cyn_int M, cyn_int N, cyn_int K,
                       const T *restrict a, cyn_int ars, cyn_int acs,
                       const T *restrict b, cyn_int bps, cyn_int bcs,
                       const T *restrict bias, int act, T alpha, T *restrict c, cyn_int ldc)
{
    const cyn_int whole = N / GNR * GNR, e = N - whole, half = GL / 2;
    const int which = whole == 0 ? CYN_HALF_NARROW : CYN_HALF_EDGE;
    const double narrow = (double)((e + half - 1) / half * half);
    const double wide = (double)((e + GL - 1) / GL * GL);
    if (narrow * cyn_half_edges(which) >= (which == CYN_HALF_EDGE ? 950.0 : 1000.0) * wide)
        return 0;
    __atomic_add_fetch(&cyn_half_edge_splits[which], 1, __ATOMIC_RELAXED);
    if (whole > 0)
        CYN_VFN(cyn_gemm_entries)[0](M, whole, K, a, ars, acs, b, bps, bcs, bias, act, alpha,
                                     c, ldc);
    CYN_VFN(cyn_gemm_entries)[1](M, e, K, a, ars, acs, b + whole * bcs, bps, bcs,
                                 bias ? bias + whole : NULL, act, alpha, c + whole, ldc);
    return 1;
}
#endif

/* C[M,N] (row stride ldc) = step(A(M,K) B(K,N) [+ bias]): this variant's
 * tiles (cyn_gemm_tiles), or the columns past the last whole tile on the
 * half-width variant where that is cheaper (cyn_gemm_half). */
static void
CYN_VFN(cyn_gemm)(cyn_int M, cyn_int N, cyn_int K,
              const T *restrict a, cyn_int ars, cyn_int acs,
              const T *restrict b, cyn_int bps, cyn_int bcs,
              const T *restrict bias, int act, T alpha, T *restrict c, cyn_int ldc)
{
#ifdef NARROW_ISA
    if (N % GNR != 0 && K > 0 &&
        CYN_VFN(cyn_gemm_half)(M, N, K, a, ars, acs, b, bps, bcs, bias, act, alpha, c, ldc))
        return;
#endif
    CYN_VFN(cyn_gemm_tiles)(M, N, K, a, ars, acs, b, bps, bcs, bias, act, alpha, c, ldc);
}

/* db[j] = sum over rows of D, in row order, starting at +0.0 */
static void
CYN_VFN(cyn_colsum)(cyn_int n, cyn_int m, const T *restrict D, cyn_int ldd, T *restrict db)
{
    for (cyn_int j = 0; j < m; ++j)
        db[j] = (T)0;
    for (cyn_int i = 0; i < n; ++i) {
        const T *restrict d = D + i * ldd;
        for (cyn_int j = 0; j < m; ++j)
            db[j] = db[j] + d[j];
    }
}

#undef G_LOAD
#undef G_STORE
#undef G_MASKED
#undef GKC
#undef GNR
#undef GL
#undef GV
