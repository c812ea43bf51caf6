/*
 * cyneuron kernels: the one translation unit. It instantiates the SIMD
 * variants of the fixed-order products and elementwise passes
 * (cyn_instantiate.h; the variant is chosen at run time from the CPU, no
 * -march) and their tables, the public per-dtype entry points
 * (cyn_kernels_impl.h over the plain loops of cyn_scalar_impl.h), the
 * persistent worker pool that runs the parts of a large pass (the caller and
 * the workers claim parts from one generation-tagged ticket, so a worker the
 * OS has not scheduled does not hold the caller up; a part is whole rows or
 * whole columns of a product's output, or a range of an optimizer update's
 * elements, cut in cyn_kernels_impl.h by cyn_parallel), and the build
 * probes. csrc/README.md maps the files.
 *
 * Variants (all give identical bits; tests force each one):
 *   0 scalar  plain loops (cyn_scalar_impl.h), any C compiler
 *   1 vec128  register-blocked, 16-byte vectors: SSE2 on x86-64, NEON on arm64
 *   2 avx2    register-blocked, 32-byte vectors, 16 registers
 *   3 avx512  register-blocked, 64-byte vectors, 32 registers
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1               /* sched_getaffinity, for cyn_crowded */
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cyn_kernels.h"

/* CYN_NO_SIMD builds only the plain loops, as compilers without GCC vector
 * extensions (MSVC) do; CI compiles that path too. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(CYN_NO_SIMD)
#define CYN_HAVE_SIMD 1
#else
#define CYN_HAVE_SIMD 0
#endif

#if CYN_HAVE_SIMD && (defined(__x86_64__) || defined(__i386__))
#define CYN_X86 1
#else
#define CYN_X86 0
#endif

#define CYN_MAX_THREADS 64

/* ---- codes --------------------------------------------------------------- */

#define CYN_CODE_ROW_(kind, NAME, name, value) {#kind, name, value},
static const cyn_code cyn_code_table[] = { CYN_CODES(CYN_CODE_ROW_) };

const cyn_code *cyn_codes(int *n)
{
    *n = (int)(sizeof cyn_code_table / sizeof cyn_code_table[0]);
    return cyn_code_table;
}

/* ---- elementwise tables ------------------------------------------------ */

#define CYN_EW_TYPE(T, SFX)                                                     \
    typedef struct {                                                            \
        void (*recip1p)(T *, cyn_int);                                          \
        void (*dmul)(int, T, const T *, T *, cyn_int);                          \
        void (*mul)(T *, const T *, cyn_int);                                   \
        void (*step)(int, const T *, T *, const T *, T *, T *, cyn_int);        \
    } cyn_ew_##SFX;
CYN_EW_TYPE(double, f64)
CYN_EW_TYPE(float, f32)
#define CYN_EW_INIT(SFX, ISA) { cyn_ew_recip1p_##SFX##_##ISA, cyn_ew_dmul_##SFX##_##ISA,  \
    cyn_ew_mul_##SFX##_##ISA, cyn_ew_step_##SFX##_##ISA }

/* A product's entry, any variant (cyn_gemm in cyn_gemm_impl.h). */
typedef void (*cyn_gemm_fn_f64)(cyn_int, cyn_int, cyn_int, const double *, cyn_int, cyn_int,
                                const double *, cyn_int, cyn_int, const double *, int, double,
                                double *, cyn_int);
typedef void (*cyn_gemm_fn_f32)(cyn_int, cyn_int, cyn_int, const float *, cyn_int, cyn_int,
                                const float *, cyn_int, cyn_int, const float *, int, float,
                                float *, cyn_int);

/* The baseline build of the elementwise passes (all compilers). */
#define ISA base
#define CYN_BODY "cyn_elementwise_impl.h"
#include "cyn_per_dtype.h"
#undef CYN_BODY
#undef ISA
#if !CYN_HAVE_SIMD
static const cyn_ew_f64 cyn_ew_base_f64 = CYN_EW_INIT(f64, base);
static const cyn_ew_f32 cyn_ew_base_f32 = CYN_EW_INIT(f32, base);
#endif

#if CYN_HAVE_SIMD

/* ---- SIMD variants ---------------------------------------------------- */

#define ISA vec128
#define VB 16
#define MR 4
#define NV 3
#include "cyn_instantiate.h"

#if CYN_X86
#ifndef CYN_A2_MR
#define CYN_A2_MR 4
#define CYN_A2_NV 3
#endif
#define ISA avx2
#define VB 32
#define MR CYN_A2_MR
#define NV CYN_A2_NV
#define CYN_TARGET "avx2"
#include "cyn_instantiate.h"

static int cyn_half_edges(int which);
/* Products that went to half-width vectors, per CYN_HALF_* (tests). */
static long cyn_half_edge_splits[2] = {0, 0};

#ifndef CYN_A512_MR
#define CYN_A512_MR 4
#define CYN_A512_NV 4
#endif
#include <immintrin.h>     /* AVX-512's masked loads and stores (cyn_gemm_impl.h) */
#define ISA avx512
#define VB 64
#define MR CYN_A512_MR
#define NV CYN_A512_NV
#define CYN_TARGET "avx512f"
#define NARROW_ISA avx2
#define CYN_EMBEDDED_BCAST 1        /* see cyn_mul_bcast in cyn_gemm_impl.h */
#include "cyn_instantiate.h"
#undef CYN_EMBEDDED_BCAST

/* What a lane costs in AVX2's half-width vectors against AVX-512's, in
 * thousandths, per CYN_HALF_*: the AVX-512 variant hands a part of a product
 * to half-width vectors when they take fewer lanes by more than this cost
 * (cyn_gemm). That pays where 256-bit vectors compute about as many lanes
 * per second as 512-bit ones (AMD's Zen 4 executes a 512-bit operation as
 * two 256-bit halves), and not where the 512-bit units are full width
 * (Zen 5, most Intel server cores). Measured once per kind, at the first
 * product that could use it, on a product of the shape that kind has, the
 * best of 8 runs of 8 each on both variants (a few hundred microseconds):
 *   CYN_HALF_EDGE: a float32 product 32 rows by 36 columns, 64 deep, a
 *   100-wide layer's last panel (48 lanes against 40). On a Zen 4, 0.81-0.83
 *   while AVX-512's partial panels went through a small C tile and 1.2-1.55
 *   since they store a masked last vector straight into C (both ways equally
 *   fast); 1.67 on a Zen 5.
 *   CYN_HALF_NARROW: a float64 product 32 by 10, 64 deep, W3's output layer
 *   (16 lanes against 12). On a Zen 4 AVX2 took 21% less time (200x100x10
 *   forward 10.05 against 12.75 us), on a Zen 5 AVX-512 is the faster (1.60-
 *   1.63 measured; W3's float64 fit 6% faster, W6 unchanged).
 * -1: not measured yet. */
static int cyn_half_cost[2] = {-1, -1};

/* One call of kind `which`'s product on variant w (0: AVX-512's tiles, with
 * no hand-over, 1: AVX2). The entries are read through volatile pointers
 * the compiler cannot see through: these constant arguments must not change
 * how it compiles the kernels for the products (their layout in the library
 * moves W3's float32 fit by up to 5%: benchmarks/ANALYSIS.md). */
static void cyn_half_probe(int which, int w, float *f, double *d)
{
    static cyn_gemm_fn_f32 volatile f32[2] = {cyn_gemm_tiles_f32_avx512, cyn_gemm_f32_avx2};
    static cyn_gemm_fn_f64 volatile f64[2] = {cyn_gemm_tiles_f64_avx512, cyn_gemm_f64_avx2};
    if (which == CYN_HALF_EDGE)
        f32[w](32, 36, 64, f, 64, 1, f + 32 * 64, 36, 1, NULL, 0, 0.0f, f + 32 * 64 + 64 * 36, 36);
    else
        f64[w](32, 10, 64, d, 64, 1, d + 32 * 64, 10, 1, NULL, 0, 0.0, d + 32 * 64 + 64 * 10, 10);
}

static int cyn_half_cost_measure(int which)
{
#if defined(_WIN32)
    (void)which;
    return 1000000;
#else
    /* A, B and C of either product, one after another */
    float f[32 * 64 + 64 * 36 + 32 * 36];
    double d[32 * 64 + 64 * 10 + 32 * 10];
    if (which == CYN_HALF_EDGE)
        for (int i = 0; i < 32 * 64 + 64 * 36; ++i)
            f[i] = (float)(i % 7) - 3.0f;
    else
        for (int i = 0; i < 32 * 64 + 64 * 10; ++i)
            d[i] = (double)(i % 5) - 2.0;
    double best[2] = {1e30, 1e30};
    for (int r = 0; r < 8; ++r)
        for (int w = 0; w < 2; ++w) {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            for (int q = 0; q < 8; ++q)
                cyn_half_probe(which, w, f, d);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            const double t =
                (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
            if (t < best[w])
                best[w] = t;
        }
    /* lanes: 48 against 40 (36 float32 columns), 16 against 12 (10 float64) */
    const double ratio = which == CYN_HALF_EDGE ? (best[1] / 40) / (best[0] / 48)
                                                : (best[1] / 12) / (best[0] / 16);
    return ratio < 1000.0 ? (int)(ratio * 1000.0 + 0.5) : 1000000;
#endif
}

static int cyn_half_edges(int which)
{
    int cost = __atomic_load_n(&cyn_half_cost[which], __ATOMIC_RELAXED);
    if (cost < 0) {
        cost = cyn_half_cost_measure(which);
        __atomic_store_n(&cyn_half_cost[which], cost, __ATOMIC_RELAXED);
    }
    return cost;
}

static int cyn_half_which(int which)
{
    return which == CYN_HALF_NARROW ? CYN_HALF_NARROW : CYN_HALF_EDGE;
}

long cyn_half_width_splits(int which)
{
    return __atomic_load_n(&cyn_half_edge_splits[cyn_half_which(which)], __ATOMIC_RELAXED);
}

int cyn_half_width_cost(int which, int permille)
{
    __builtin_cpu_init();
    which = cyn_half_which(which);
    const int was = __builtin_cpu_supports("avx512f") ? cyn_half_edges(which) : 0;
    if (permille > 0 || permille == -1)
        __atomic_store_n(&cyn_half_cost[which], permille, __ATOMIC_RELAXED);
    return was;
}
#endif /* CYN_X86 */

/* ---- variant table and dispatch --------------------------------------- */

typedef void (*cyn_colsum_fn_f64)(cyn_int, cyn_int, const double *, cyn_int, double *);
typedef void (*cyn_colsum_fn_f32)(cyn_int, cyn_int, const float *, cyn_int, float *);

typedef struct {
    const char *name;
    cyn_gemm_fn_f64 gemm_f64;      /* NULL: the scalar loops */
    cyn_gemm_fn_f32 gemm_f32;
    cyn_colsum_fn_f64 colsum_f64;
    cyn_colsum_fn_f32 colsum_f32;
    cyn_ew_f64 ew_f64;
    cyn_ew_f32 ew_f32;
} cyn_variant;

static const cyn_variant cyn_variants[] = {
    {"scalar", NULL, NULL, NULL, NULL, CYN_EW_INIT(f64, base), CYN_EW_INIT(f32, base)},
    {"vec128", cyn_gemm_f64_vec128, cyn_gemm_f32_vec128,
     cyn_colsum_f64_vec128, cyn_colsum_f32_vec128,
     CYN_EW_INIT(f64, vec128), CYN_EW_INIT(f32, vec128)},
#if CYN_X86
    {"avx2", cyn_gemm_f64_avx2, cyn_gemm_f32_avx2, cyn_colsum_f64_avx2, cyn_colsum_f32_avx2,
     CYN_EW_INIT(f64, avx2), CYN_EW_INIT(f32, avx2)},
    {"avx512", cyn_gemm_f64_avx512, cyn_gemm_f32_avx512,
     cyn_colsum_f64_avx512, cyn_colsum_f32_avx512,
     CYN_EW_INIT(f64, avx512), CYN_EW_INIT(f32, avx512)},
#endif
};
#define CYN_N_VARIANTS ((int)(sizeof(cyn_variants) / sizeof(cyn_variants[0])))

#if !CYN_X86
int cyn_half_width_cost(int which, int permille) { (void)which; (void)permille; return 0; }
long cyn_half_width_splits(int which) { (void)which; return 0; }
#endif

int cyn_variant_count(void) { return CYN_N_VARIANTS; }

const char *cyn_variant_name(int v)
{
    return (v >= 0 && v < CYN_N_VARIANTS) ? cyn_variants[v].name : NULL;
}

int cyn_variant_supported(int v)
{
    if (v < 0 || v >= CYN_N_VARIANTS)
        return 0;
#if CYN_X86
    __builtin_cpu_init();
    if (v == 2)
        return __builtin_cpu_supports("avx2");
    if (v == 3)
        return __builtin_cpu_supports("avx512f");
#endif
    return 1;
}

static int cyn_best_variant(void)
{
    for (int v = CYN_N_VARIANTS - 1; v > 0; --v)
        if (cyn_variant_supported(v))
            return v;
    return 0;
}

/* -1: automatic (best variant, scalar loops for tiny products); otherwise
 * the forced variant for every size. Set only from tests and benchmarks,
 * never while kernels run. */
static int cyn_forced = -1;
static int cyn_best = -1;

int cyn_set_variant(int v)
{
    if (v != -1 && !cyn_variant_supported(v))
        return -1;
    cyn_forced = v;
    return 0;
}

int cyn_get_variant(void)
{
    if (cyn_forced >= 0)
        return cyn_forced;
    if (cyn_best < 0)
        cyn_best = cyn_best_variant();
    return cyn_best;
}

static const cyn_variant *cyn_pick(cyn_int M, cyn_int N, cyn_int K)
{
    if (cyn_forced >= 0)
        return &cyn_variants[cyn_forced];
    if ((double)M * (double)N * (double)K < CYN_SMALL_PRODUCT)
        return &cyn_variants[0];
    return &cyn_variants[cyn_get_variant()];
}

/* ---- threads ----------------------------------------------------------- */

/* One part of a parallel pass: run(args, lo, hi) does [lo, hi) of the
 * pass's range (rows or columns of a product, elements of an update). Parts
 * never overlap, and each output is computed by one part in one fixed order,
 * so the bits do not depend on who runs which part. */
typedef struct {
    void (*run)(const void *args, cyn_int lo, cyn_int hi);
    const void *args;
    cyn_int lo, hi;
    long long ns;               /* how long it ran (pool passes only) */
    int who;                    /* who ran it: 0 the caller, i worker i */
} cyn_job;

static void cyn_run_job(const cyn_job *j) { j->run(j->args, j->lo, j->hi); }

/* Jobs handed to worker threads so far (tests read it to see that a split
 * really happened; a handed-out job may still run on the caller, see
 * cyn_pool). Updated by the thread that owns the pool only. */
static long cyn_jobs_run = 0;
/* Passes after which the caller found the worker late (cyn_run_jobs). */
static long cyn_late_passes = 0;
/* Windows the caller began alone because the cores were taken (cyn_crowded). */
static long cyn_crowded_starts = 0;

long cyn_worker_jobs(void) { return cyn_jobs_run; }
long cyn_pool_late_passes(void) { return cyn_late_passes; }
long cyn_pool_crowded_starts(void) { return cyn_crowded_starts; }

/* Threads pay off only for passes of this much work or more: multiply-adds
 * of a product, elements of an optimizer update. Handing a part to a worker
 * that is polling costs about a microsecond; one that sleeps, several. */
#ifndef CYN_THREAD_MIN_WORK
#define CYN_THREAD_MIN_WORK (1 << 17)
#endif
#ifndef CYN_THREAD_MIN_ELEMENTS
#define CYN_THREAD_MIN_ELEMENTS 8192
#endif

static int cyn_threads_for(int n_threads, double work, double min_work)
{
    if (n_threads > CYN_MAX_THREADS)
        n_threads = CYN_MAX_THREADS;
    if (n_threads < 1 || work < min_work)
        return 1;
    return n_threads;
}

#if defined(_WIN32)
#include <windows.h>
#include <process.h>
static unsigned __stdcall cyn_thread_main(void *p)
{
    cyn_run_job((const cyn_job *)p);
    return 0;
}
/* Windows: one thread per job (nt == nj, see cyn_split). */
static void cyn_run_jobs(cyn_job *jobs, int nj, int nt, cyn_int q)
{
    HANDLE th[CYN_MAX_THREADS];
    (void)nt;
    (void)q;
    for (int q = 1; q < nj; ++q) {
        th[q] = (HANDLE)_beginthreadex(NULL, 0, cyn_thread_main, &jobs[q], 0, NULL);
        if (th[q])
            ++cyn_jobs_run;
        else
            cyn_run_job(&jobs[q]);   /* no thread: same work, same bits */
    }
    cyn_run_job(&jobs[0]);
    for (int q = 1; q < nj; ++q)
        if (th[q]) {
            WaitForSingleObject(th[q], INFINITE);
            CloseHandle(th[q]);
        }
}
#else
#include <pthread.h>
#include <time.h>
#if defined(__linux__)
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* A small persistent pool: starting threads for every product costs tens of
 * microseconds and cold stacks. Workers sleep on a condition variable between
 * products. One caller at a time owns the pool; a second concurrent caller
 * (another Python thread training another network) runs its jobs on its own
 * thread instead, which gives the same bits.
 *
 * The caller and the workers claim jobs from one ticket, the caller too (it
 * from the front of the list, they from the back, see cyn_claim):
 * a worker that the operating system has not scheduled yet (another process
 * busy on the other core) then costs nothing, because the caller runs the
 * jobs nobody took. Before, each worker owned one job and the caller waited
 * for it, which made two threads two to three times slower than one on a
 * loaded machine (40-100-100-10 training at batch 200). Who runs a job does not change its bits. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    pthread_mutex_t owner;          /* held by the thread using the pool */
    int n_workers;
    unsigned long generation;
    cyn_job *jobs;
    /* (generation << 32) | jobs << 24 | jobs taken from the back << 12 |
     * from the front: a claim is a compare-and-swap on it, so a worker still
     * holding the previous generation can never take a job of the next one,
     * and the job count it claims against is its generation's. */
    unsigned long long ticket;
    unsigned long finished;         /* jobs of this generation completed */
    /* Workers asleep on `work`, and the caller asleep on `done`: only then
     * does a pass take the mutex (see cyn_worker). */
    int sleepers, caller_waits;
    /* Owner-only (see cyn_run_jobs: a starved worker): passes forced onto
     * the caller alone (tests), the time until which the caller goes alone,
     * and the length of the next such stretch. */
    long serial_left;
    long long alone_until, alone_next;
    /* the caller's window: its start (wall and thread CPU time), the end of
     * the last pass */
    long long win_wall, win_cpu, win_last;
    int adaptive;                   /* the CYN_RULE_* bits that are on */
} cyn_pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
              PTHREAD_MUTEX_INITIALIZER, 0, 0, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
              CYN_RULES_ALL};

/* A starved worker. When another thread wants a core too (another library's
 * pool still spinning after its own work, as OpenBLAS's does for about 0.1 s
 * after a GEMM; another process), the worker can be preempted in the middle of
 * a job, and the caller then waits a whole scheduler slice (milliseconds) for
 * it: 40-100-100-10 training took 1.7x as long on two threads as on one in the
 * 0.1 s after a NumPy matrix product. So a caller that waited for the
 * worker's jobs longer than CYN_LATE_NS and than half its own share of the
 * pass (a large pass's parts may end that far apart on time) runs its passes
 * alone for a while, and the worker goes to sleep, freeing its core:
 * CYN_ALONE_MIN_NS, twice as long each time the next try is starved again, up
 * to CYN_ALONE_MAX_NS, and back to the minimum after a window on time.
 * The other sign of too few cores: the caller itself gets less than
 * CYN_BUSY_PCT percent of a CPU over a window of passes (CYN_WINDOW_NS of
 * work without an idle gap of CYN_IDLE_NS): with another process busy on
 * one of two cores, three threads share two, a part is preempted in most
 * passes, and the worker's polling takes time the caller needs (two threads
 * ran at half the speed of one). A healthy worker that was asleep wakes
 * within tens of microseconds. Who runs a job does not change its bits. */
#ifndef CYN_LATE_NS
#define CYN_LATE_NS 250000
#endif
#define CYN_ALONE_MIN_NS 20000000LL
#define CYN_ALONE_MAX_NS 1280000000LL
#define CYN_WINDOW_NS 2000000LL
#define CYN_IDLE_NS 1000000LL
#define CYN_BUSY_PCT 80

/* The next unclaimed job of generation gen, or -1; *n is set to the
 * generation's number of jobs. The caller takes them from the front, the
 * workers from the back (the ticket's low 12 bits count the jobs taken from
 * the front, the next 12 those from the back). So with one job per thread
 * each thread runs the same part of a kind of pass from one pass to the
 * next (its rows stay in its cache, and the parts can be sized to its
 * speed, see cyn_balance_cut), and the jobs a late worker has not taken are
 * still run by the caller. */
static int cyn_claim(unsigned long gen, int from_back, int *n)
{
    unsigned long long t = __atomic_load_n(&cyn_pool.ticket, __ATOMIC_ACQUIRE);
    for (;;) {
        const int front = (int)(t & 0xfffULL), back = (int)((t >> 12) & 0xfffULL);
        *n = (int)((t >> 24) & 0xffULL);
        if ((t >> 32) != (gen & 0xffffffffULL) || front + back >= *n)
            return -1;
        if (__atomic_compare_exchange_n(&cyn_pool.ticket, &t,
                                        t + (from_back ? 0x1000ULL : 1ULL), 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return from_back ? *n - 1 - back : front;
    }
}

/* The generation each worker was created in: it waits for the next one. */
static unsigned long cyn_worker_gen0[CYN_MAX_THREADS];

#if defined(__linux__)
/* The kernel's id of each worker thread (0 until it has started). */
static long cyn_worker_tid[CYN_MAX_THREADS];

/* Cores this process may run on (its affinity mask). */
static int cyn_cores_allowed(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* A small file, whole, NUL-terminated in buf: its length, or -1. */
static int cyn_read_small(const char *path, char *buf, int size)
{
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    const ssize_t n = read(fd, buf, (size_t)size - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = 0;
    return (int)n;
}

/* Threads of the whole machine running or waiting for a core now, the
 * caller included (the fourth field of /proc/loadavg, "running/total"), or
 * -1 when unknown. */
static int cyn_machine_runnable(void)
{
    char buf[128];
    if (cyn_read_small("/proc/loadavg", buf, sizeof buf) < 0)
        return -1;
    const char *p = buf;
    for (int f = 0; f < 3 && p != NULL; ++f) {
        p = strchr(p, ' ');
        if (p != NULL)
            ++p;
    }
    return p != NULL ? atoi(p) : -1;
}

/* Threads of this process, other than the caller and the pool's workers,
 * running or waiting for a core now (state R in /proc/self/task/N/stat). */
static int cyn_process_runnable_others(void)
{
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL)
        return 0;
    const long me = (long)syscall(SYS_gettid);
    int count = 0;
    char path[64], buf[512];
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        const long tid = atol(e->d_name);
        int skip = tid == me;
        for (int w = 1; w < CYN_MAX_THREADS && !skip; ++w)
            skip = __atomic_load_n(&cyn_worker_tid[w], __ATOMIC_RELAXED) == tid;
        snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
        if (skip || cyn_read_small(path, buf, sizeof buf) <= 0)
            continue;
        /* "tid (name) state ...": the name may hold spaces and parentheses */
        const char *r = strrchr(buf, ')');
        if (r != NULL && r[1] == ' ' && r[2] == 'R')
            ++count;
    }
    closedir(dir);
    return count;
}

/* Whether nt threads would find too few free cores: the caller, nt - 1
 * workers and this process's other runnable threads more than the cores
 * allowed. What it catches: another library's pool still spinning after its
 * own work in this process, as OpenBLAS's does for about 0.1 s after a
 * product (a 40-100-100-10 fit began with 4-5 starved passes, 0.84-0.95x one
 * thread, when it followed a NumPy product). The machine's count (one small
 * file) is read first, and only when it leaves too few cores are this
 * process's threads looked at (20-40 us): other processes, and in a
 * container other tenants, whom the machine's count includes, are left to
 * the CPU-share window of cyn_run_jobs. */
static int cyn_crowded(int nt)
{
    const int cores = cyn_cores_allowed();
    const int running = cyn_machine_runnable();
    if (running >= 1 && running + nt - 1 <= cores)
        return 0;
    return 1 + cyn_process_runnable_others() + nt - 1 > cores;
}
#else
static int cyn_crowded(int nt)
{
    (void)nt;
    return 0;
}
#endif

/* A training step hands the workers a product every few tens of microseconds;
 * sleeping on the condition variable in between costs a wake-up of several
 * microseconds each time (more in a VM). So both sides first poll for up to
 * CYN_SPIN_NS, then sleep. The polled values are hints read atomically; the
 * decision is taken again under the mutex. */
#ifndef CYN_SPIN_NS
#define CYN_SPIN_NS 100000
#endif

static inline void cyn_pause(void)
{
#if CYN_X86
    __builtin_ia32_pause();
#endif
}

static long long cyn_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Run a job of a pool pass, noting who ran it and for how long. */
static void cyn_run_timed(cyn_job *j, int who)
{
    const long long t0 = cyn_now_ns();
    cyn_run_job(j);
    j->ns = cyn_now_ns() - t0;
    j->who = who;
}

/* CPU time of the calling thread (a system call: once per window) */
static long long cyn_thread_cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Poll until *word == target (want_equal) or != target, or the spin time is
 * up; returns 1 if the condition came true. */
static int cyn_spin(unsigned long *word, unsigned long target, int want_equal)
{
    long long until = 0;
    for (int s = 0;; ++s) {
        if ((__atomic_load_n(word, __ATOMIC_ACQUIRE) == target) == want_equal)
            return 1;
        if ((s & 63) == 0) {
            long long now = cyn_now_ns();
            if (until == 0)
                until = now + CYN_SPIN_NS;
            else if (now >= until)
                return 0;
        }
        cyn_pause();
    }
}

static void *cyn_worker(void *arg)
{
    const int id = (int)(size_t)arg;
#if defined(__linux__)
    __atomic_store_n(&cyn_worker_tid[id], (long)syscall(SYS_gettid), __ATOMIC_RELAXED);
#endif
    unsigned long seen = cyn_worker_gen0[id];
    for (;;) {
        /* A pass takes no lock: the worker polls the generation, and only
         * after CYN_SPIN_NS without a pass does it sleep, counted in
         * sleepers, which the caller reads after publishing (both
         * sequentially consistent: either the caller sees the sleeper and
         * wakes it under the mutex, or the worker sees the new generation
         * before it waits). */
        if (!cyn_spin(&cyn_pool.generation, seen, 0)) {
            pthread_mutex_lock(&cyn_pool.mu);
            __atomic_add_fetch(&cyn_pool.sleepers, 1, __ATOMIC_SEQ_CST);
            while (__atomic_load_n(&cyn_pool.generation, __ATOMIC_SEQ_CST) == seen)
                pthread_cond_wait(&cyn_pool.work, &cyn_pool.mu);
            __atomic_sub_fetch(&cyn_pool.sleepers, 1, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&cyn_pool.mu);
        }
        seen = __atomic_load_n(&cyn_pool.generation, __ATOMIC_ACQUIRE);
        int n;
        for (int q; (q = cyn_claim(seen, 1, &n)) >= 0;) {
            /* a claim of this generation: its jobs are the caller's, who
             * waits for them */
            cyn_job *jobs = __atomic_load_n(&cyn_pool.jobs, __ATOMIC_ACQUIRE);
            cyn_run_timed(&jobs[q], id);
            if (__atomic_add_fetch(&cyn_pool.finished, 1, __ATOMIC_SEQ_CST) == (unsigned long)n
                && __atomic_load_n(&cyn_pool.caller_waits, __ATOMIC_SEQ_CST)) {
                pthread_mutex_lock(&cyn_pool.mu);
                pthread_cond_signal(&cyn_pool.done);
                pthread_mutex_unlock(&cyn_pool.mu);
            }
        }
    }
    return NULL;
}

/* Measured, not assumed: every cyn_probe_every-th pass of a kind (the same
 * function over the same range in as many parts) runs on the caller alone,
 * and when it took at most cyn_probe_pct percent of the mean time of that
 * kind's passes on the pool since its last probe, the pool does not pay off
 * now, and the caller goes alone for a stretch as after a starved worker.
 * (The mean, not the fastest: a pool 10% slower than one thread has a
 * fastest pass quicker than a typical pass alone.)
 * Seen on the 2-vCPU benchmark VM, mostly in a process's first two-thread
 * fit: both threads busy the whole fit, neither preempted, and two threads
 * no faster than one (as when the host runs both vCPUs on one physical
 * core). A healthy pool's passes take 0.55-0.7 of the time of a pass alone,
 * so one probe in 128 passes costs about 0.3% of a fit. The first probe of
 * a kind (and the first after a stretch alone) comes after cyn_probe_first
 * passes: waiting 128 passes of each kind kept a pool that was slower than
 * one thread (the host giving the second vCPU no time of its own) running
 * for a third of a 20-epoch 40-100-100-10 fit, and again after every
 * stretch alone. */
#define CYN_KINDS 8
static int cyn_probe_every = 128, cyn_probe_first = 16, cyn_probe_pct = 105;
static long cyn_probed_alone = 0;           /* stretches alone a probe began */
static struct cyn_kind {
    void (*run)(const void *, cyn_int, cyn_int);
    cyn_int lo, hi;
    int nj, passes;             /* passes on the pool since the last probe */
    long long sum;              /* their time (ns) */
    int probed;                 /* probed since it began or the caller last went alone */
    double share;               /* the caller's part of a two-part pass (cyn_balance_cut), 0: unset */
    cyn_int cut;                /* its cut now, in quanta (0: unset) */
} cyn_kinds[CYN_KINDS];
static int cyn_kind_next = 0;

static void cyn_kinds_reset(void)
{
    for (int i = 0; i < CYN_KINDS; ++i) {
        cyn_kinds[i].passes = 0;
        cyn_kinds[i].sum = 0;
        cyn_kinds[i].probed = 0;
    }
}

/* The kind of the pass made of jobs[0 .. nj - 1] (a new one replaces the
 * oldest: a training step has two to a dozen kinds of pass). */
static struct cyn_kind *cyn_kind_of(const cyn_job *jobs, int nj)
{
    const cyn_int lo = jobs[0].lo, hi = jobs[nj - 1].hi;
    for (int i = 0; i < CYN_KINDS; ++i) {
        struct cyn_kind *k = &cyn_kinds[i];
        if (k->run == jobs[0].run && k->lo == lo && k->hi == hi && k->nj == nj)
            return k;
    }
    struct cyn_kind *k = &cyn_kinds[cyn_kind_next];
    cyn_kind_next = (cyn_kind_next + 1) % CYN_KINDS;
    k->run = jobs[0].run;
    k->lo = lo;
    k->hi = hi;
    k->nj = nj;
    k->passes = 0;
    k->sum = 0;
    k->probed = 0;
    k->share = 0;
    k->cut = 0;
    return k;
}

/* Parts sized to the threads' speeds. The two vCPUs of these VMs often run
 * at different speeds for seconds at a time (the host's other tenants: a
 * 40-100-100-10 fit's row pass took 54 us on the caller and 42 on the
 * worker for the same 100 rows, pass after pass), and an even split then
 * waits for the slower at every pass. So a two-part pass's cut follows the
 * parts' measured rates: after each pass on the pool, the caller's share
 * moves a quarter of the way to rate0 / (rate0 + rate1), by at most 1/32
 * (one preempted part must not throw the cut off), within [1/16, 15/16].
 * Where the cut falls changes no bits: a part is whole rows or whole
 * columns, each computed by one thread in one order.
 * Cut [lo, hi) of a two-part pass at the kind's share (in quanta of q). */
static int cyn_forced_share = 0;        /* permille, 0: measured (cyn_pool_force_share) */
static void cyn_balance_cut(cyn_job *jobs, struct cyn_kind *kind, cyn_int q)
{
    const cyn_int lo = jobs[0].lo, len = jobs[1].hi - lo, nq = (len + q - 1) / q;
    const double share = cyn_forced_share > 0 ? cyn_forced_share / 1000.0 : kind->share;
    if (share <= 0 || nq < 2)
        return;
    const double want = share * (double)nq, band = nq / 25.0 > 1 ? nq / 25.0 : 1;
    cyn_int p0 = kind->cut;
    if (cyn_forced_share > 0 || p0 == 0 || want - (double)p0 > band || (double)p0 - want > band)
        p0 = (cyn_int)(want + 0.5);
    p0 = p0 < 1 ? 1 : p0 > nq - 1 ? nq - 1 : p0;
    if (cyn_forced_share == 0)
        kind->cut = p0;
    jobs[0].hi = jobs[1].lo = lo + p0 * q;
}

/* After a two-part pass on the pool in which the caller ran part 0 and a
 * worker part 1: the kind's share follows their rates (see above). */
static void cyn_balance_learn(const cyn_job *jobs, struct cyn_kind *kind)
{
    if (cyn_forced_share > 0 || jobs[0].who != 0 || jobs[1].who == 0 || jobs[0].ns <= 0
        || jobs[1].ns <= 0)
        return;
    const double n0 = (double)(jobs[0].hi - jobs[0].lo), n1 = (double)(jobs[1].hi - jobs[1].lo);
    const double r0 = n0 / (double)jobs[0].ns, r1 = n1 / (double)jobs[1].ns;
    const double share = kind->share > 0 ? kind->share : n0 / (n0 + n1);
    double step = (r0 / (r0 + r1) - share) / 4;
    step = step > 1.0 / 32 ? 1.0 / 32 : step < -1.0 / 32 ? -1.0 / 32 : step;
    const double next = share + step;
    kind->share = next < 1.0 / 16 ? 1.0 / 16 : next > 15.0 / 16 ? 15.0 / 16 : next;
}

/* The caller goes alone from `now` for a stretch: CYN_ALONE_MIN_NS, twice as
 * long each time it goes alone again before a window on time. */
static void cyn_alone_stretch(long long now)
{
    const long long span = cyn_pool.alone_next > CYN_ALONE_MIN_NS ? cyn_pool.alone_next
                                                                  : CYN_ALONE_MIN_NS;
    cyn_pool.alone_until = now + span;
    cyn_pool.alone_next = span < CYN_ALONE_MAX_NS / 2 ? 2 * span : CYN_ALONE_MAX_NS;
    cyn_kinds_reset();          /* measured before: may no longer hold */
}

/* After fork() the child has none of the parent's workers: start afresh. */
static void cyn_pool_atfork_child(void)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    cyn_pool.mu = mu;
    cyn_pool.owner = mu;
    cyn_pool.work = cv;
    cyn_pool.done = cv;
    cyn_pool.n_workers = 0;
    cyn_pool.ticket = 0;
    cyn_pool.sleepers = cyn_pool.caller_waits = 0;
    cyn_pool.finished = 0;
    cyn_pool.serial_left = 0;
    cyn_pool.alone_until = 0;
    cyn_pool.alone_next = 0;
    cyn_pool.win_wall = cyn_pool.win_cpu = cyn_pool.win_last = 0;
#if defined(__linux__)
    memset(cyn_worker_tid, 0, sizeof cyn_worker_tid);
#endif
}

static void cyn_pool_install_atfork(void)
{
    pthread_atfork(NULL, NULL, cyn_pool_atfork_child);
}

/* Every job of a pass on the calling thread, in order (no pool, or the pool
 * going alone). */
static void cyn_run_here(const cyn_job *jobs, int nj)
{
    for (int q = 0; q < nj; ++q)
        cyn_run_job(&jobs[q]);
}

/* Run nj jobs on nt threads (the caller and nt - 1 workers); the parts are
 * multiples of q long (but the last). */
static void cyn_run_jobs(cyn_job *jobs, int nj, int nt, cyn_int q)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (nj <= 1 || pthread_mutex_trylock(&cyn_pool.owner) != 0) {
        cyn_run_here(jobs, nj);
        return;
    }
    const long long began = cyn_now_ns();
    if (cyn_pool.serial_left > 0 || began < cyn_pool.alone_until) {
        if (cyn_pool.serial_left > 0)
            --cyn_pool.serial_left;
        cyn_run_here(jobs, nj);
        pthread_mutex_unlock(&cyn_pool.owner);
        return;
    }
    if ((cyn_pool.adaptive & CYN_RULE_CROWDED) && began - cyn_pool.win_last > CYN_IDLE_NS
        && cyn_crowded(nt)) {
        /* a window begins (after an idle gap, or a stretch alone) and the
         * cores are taken: alone for a stretch, then look again */
        cyn_pool.alone_until = began + CYN_ALONE_MIN_NS;
        ++cyn_crowded_starts;
        cyn_run_here(jobs, nj);
        pthread_mutex_unlock(&cyn_pool.owner);
        return;
    }
    struct cyn_kind *kind = (cyn_pool.adaptive & (CYN_RULE_PROBES | CYN_RULE_BALANCE))
                                ? cyn_kind_of(jobs, nj) : NULL;
    const int balance = kind != NULL && nj == 2 && (cyn_pool.adaptive & CYN_RULE_BALANCE);
    if (kind != NULL && (cyn_pool.adaptive & CYN_RULE_PROBES)
        && kind->passes >= (kind->probed ? cyn_probe_every : cyn_probe_first)) {
        cyn_run_here(jobs, nj);
        kind->probed = 1;
        const long long ended = cyn_now_ns();
        const double alone = (double)(ended - began) * kind->passes * 100;
        const double pool = (double)kind->sum * cyn_probe_pct;
        kind->passes = 0;
        kind->sum = 0;
        if (alone <= pool) {
            ++cyn_probed_alone;
            cyn_alone_stretch(ended);
        }
        cyn_pool.win_last = ended;
        pthread_mutex_unlock(&cyn_pool.owner);
        return;
    }
    pthread_once(&once, cyn_pool_install_atfork);
    if (cyn_pool.n_workers < nt - 1) {
        pthread_mutex_lock(&cyn_pool.mu);
        while (cyn_pool.n_workers < nt - 1) {
            pthread_t th;
            const int id = cyn_pool.n_workers + 1;
            cyn_worker_gen0[id] = cyn_pool.generation;
            if (pthread_create(&th, NULL, cyn_worker, (void *)(size_t)id) != 0)
                break;
            pthread_detach(th);
            ++cyn_pool.n_workers;
        }
        pthread_mutex_unlock(&cyn_pool.mu);
    }
    if (balance)
        cyn_balance_cut(jobs, kind, q);
    /* publish (no lock, see cyn_worker): the jobs, then the ticket, then the
     * generation the workers poll */
    const unsigned long gen = cyn_pool.generation + 1;
    __atomic_store_n(&cyn_pool.jobs, jobs, __ATOMIC_RELAXED);
    __atomic_store_n(&cyn_pool.finished, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&cyn_pool.ticket, (unsigned long long)(gen & 0xffffffffUL) << 32
                                            | (unsigned long long)nj << 24,
                     __ATOMIC_RELEASE);
    __atomic_store_n(&cyn_pool.generation, gen, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&cyn_pool.sleepers, __ATOMIC_SEQ_CST) > 0) {
        pthread_mutex_lock(&cyn_pool.mu);
        pthread_cond_broadcast(&cyn_pool.work);
        pthread_mutex_unlock(&cyn_pool.mu);
    }
    if (began - cyn_pool.win_last > CYN_IDLE_NS) {
        cyn_pool.win_wall = began;             /* a new window after an idle gap */
        cyn_pool.win_cpu = cyn_thread_cpu_ns();
    }
    int claimed_n;
    for (int q; (q = cyn_claim(gen, 0, &claimed_n)) >= 0;) {
        cyn_run_timed(&jobs[q], 0);
        __atomic_add_fetch(&cyn_pool.finished, 1, __ATOMIC_ACQ_REL);
    }
    /* every job is claimed; wait for the ones a worker is still running */
    int late = 0;
    if (__atomic_load_n(&cyn_pool.finished, __ATOMIC_ACQUIRE) < (unsigned long)nj) {
        const long long t0 = cyn_now_ns();
        if (!cyn_spin(&cyn_pool.finished, (unsigned long)nj, 1)) {
            /* asleep until the last job's worker signals (see cyn_worker) */
            pthread_mutex_lock(&cyn_pool.mu);
            __atomic_store_n(&cyn_pool.caller_waits, 1, __ATOMIC_SEQ_CST);
            while (__atomic_load_n(&cyn_pool.finished, __ATOMIC_SEQ_CST) < (unsigned long)nj)
                pthread_cond_wait(&cyn_pool.done, &cyn_pool.mu);
            __atomic_store_n(&cyn_pool.caller_waits, 0, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&cyn_pool.mu);
        }
        /* late: a wait longer than CYN_LATE_NS and than half the caller's own
         * share (a large pass's parts may end that far apart on time) */
        const long long t1 = cyn_now_ns();
        late = t1 - t0 > CYN_LATE_NS && 2 * (t1 - t0) > t0 - began;
    }
    cyn_jobs_run += nj - 1;
    const long long ended = cyn_now_ns();
    int verdict = late;                     /* 1: starved, -1: a window on time */
    if (!verdict && ended - cyn_pool.win_wall >= CYN_WINDOW_NS) {
        const long long cpu = cyn_thread_cpu_ns();
        verdict = (cpu - cyn_pool.win_cpu) * 100 < (ended - cyn_pool.win_wall) * CYN_BUSY_PCT
                      ? 1 : -1;
        cyn_pool.win_wall = ended;
        cyn_pool.win_cpu = cpu;
    }
    cyn_pool.win_last = ended;
    if (kind != NULL) {
        ++kind->passes;
        kind->sum += ended - began;
    }
    if (balance)
        cyn_balance_learn(jobs, kind);
    if (verdict > 0 && (cyn_pool.adaptive & CYN_RULE_LATE)) {
        cyn_alone_stretch(ended);
        ++cyn_late_passes;
    } else if (verdict < 0) {
        cyn_pool.alone_next = CYN_ALONE_MIN_NS;
    }
    pthread_mutex_unlock(&cyn_pool.owner);
}
#endif

#if !defined(_WIN32)
int cyn_pool_adaptive(int on)
{
    const int was = cyn_pool.adaptive;
    if (on >= 0)
        cyn_pool.adaptive = on & CYN_RULES_ALL;
    return was;
}

void cyn_pool_run_alone(long passes)
{
    cyn_pool.serial_left = passes > 0 ? passes : 0;
    cyn_pool.alone_until = 0;
    cyn_pool.alone_next = 0;
}

long cyn_pool_probe(int every, int percent)
{
    const long was = (long)cyn_probe_every * 1000000L + cyn_probe_pct;
    if (every > 0 && percent >= 0 && percent <= 1000000) {
        cyn_probe_every = every;
        cyn_probe_first = every < 16 ? every : 16;
        cyn_probe_pct = percent;
        cyn_kinds_reset();
    }
    return was;
}

long cyn_pool_probed_alone(void) { return cyn_probed_alone; }

int cyn_pool_force_share(int permille)
{
    const int was = cyn_forced_share;
    cyn_forced_share = permille > 0 && permille < 1000 ? permille : 0;
    return was;
}
#else
int cyn_pool_adaptive(int on) { (void)on; return 0; }
void cyn_pool_run_alone(long passes) { (void)passes; }
long cyn_pool_probe(int every, int percent) { (void)every; (void)percent; return 0; }
long cyn_pool_probed_alone(void) { return 0; }
int cyn_pool_force_share(int permille) { (void)permille; return 0; }
#endif

/* Deal [0, len) out to `parts` parts in multiples of q (the larger parts
 * first, since the threads claim parts in order) and run them on nt threads. */
static void cyn_parallel(void (*run)(const void *, cyn_int, cyn_int), const void *args,
                         cyn_int len, cyn_int q, int parts, int nt)
{
    cyn_job jobs[CYN_MAX_THREADS];
    const cyn_int nq = (len + q - 1) / q;
    if (parts > CYN_MAX_THREADS)
        parts = CYN_MAX_THREADS;
    if ((cyn_int)parts > nq)
        parts = nq > 0 ? (int)nq : 1;
    int nj = 0;
    for (cyn_int s0 = 0, s = 0; s < parts; ++s) {
        cyn_int w = (nq / parts + (s < nq % parts)) * q;
        if (w > len - s0)
            w = len - s0;
        jobs[nj].run = run;
        jobs[nj].args = args;
        jobs[nj].lo = s0;
        jobs[nj].hi = s0 + w;
        jobs[nj].ns = 0;
        jobs[nj].who = -1;
        ++nj;
        s0 += w;
    }
    cyn_run_jobs(jobs, nj, nt, q);
}

void cyn_run_parallel(void (*run)(const void *, cyn_int, cyn_int), const void *args,
                      cyn_int len, cyn_int quantum, int n_threads)
{
    const int nt = cyn_threads_for(n_threads, (double)len, (double)(2 * quantum));
    if (nt == 1) {
        run(args, 0, len);
        return;
    }
    cyn_parallel(run, args, len, quantum, nt, nt);
}

#else /* !CYN_HAVE_SIMD */

void cyn_run_parallel(void (*run)(const void *, cyn_int, cyn_int), const void *args,
                      cyn_int len, cyn_int quantum, int n_threads)
{
    (void)quantum;
    (void)n_threads;
    run(args, 0, len);
}

int cyn_half_width_cost(int which, int permille) { (void)which; (void)permille; return 0; }
long cyn_half_width_splits(int which) { (void)which; return 0; }
int cyn_variant_count(void) { return 1; }
const char *cyn_variant_name(int v) { return v == 0 ? "scalar" : NULL; }
int cyn_variant_supported(int v) { return v == 0; }
int cyn_set_variant(int v) { return (v == -1 || v == 0) ? 0 : -1; }
int cyn_get_variant(void) { return 0; }
long cyn_worker_jobs(void) { return 0; }
long cyn_pool_late_passes(void) { return 0; }
long cyn_pool_crowded_starts(void) { return 0; }
int cyn_pool_adaptive(int on) { (void)on; return 0; }
void cyn_pool_run_alone(long passes) { (void)passes; }
long cyn_pool_probe(int every, int percent) { (void)every; (void)percent; return 0; }
long cyn_pool_probed_alone(void) { return 0; }

#endif /* CYN_HAVE_SIMD */

/* ---- scalar loops and public entry points, per dtype ------------------- */

#define CYN_BODY "cyn_kernels_impl.h"
#include "cyn_per_dtype.h"
#undef CYN_BODY

/* ---- build probes ------------------------------------------------------ */

int cyn_fp_contract_off(void)
{
#ifdef CYN_FP_CONTRACT_OFF
    return 1;
#else
    return 0;
#endif
}

/* The probe is compiled for an FMA-capable target where the compiler can
 * see one (x86 GCC/Clang), so that contraction, if it were on, would really
 * fuse the expression; the caller only runs it when the CPU has FMA.
 * Everywhere else plain code: aarch64 and most other targets have FMA in
 * their baseline. */
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define CYN_PROBE_TARGET __attribute__((target("fma"), noinline))
int cyn_probe_cpu_has_fma(void) { __builtin_cpu_init(); return __builtin_cpu_supports("fma"); }
#else
#define CYN_PROBE_TARGET
int cyn_probe_cpu_has_fma(void) { return 1; }
#endif

CYN_PROBE_TARGET double cyn_probe_mul_add(double a, double b, double c)
{
    /* Fused, this returns the exact a*b+c; with contraction off, the product
     * is rounded first. The caller picks inputs where the two differ. */
    return a * b + c;
}

/* ---- sparse input: the first layer's products over CSR rows (issue 29) -- */

#include "cyn_sparse.h"

cyn_int cyn_csr_batch_nnz(const cyn_int *indptr, const cyn_int *rows, cyn_int row0, cyn_int n)
{
    if (!rows)
        return indptr[row0 + n] - indptr[row0];
    cyn_int s = 0;
    for (cyn_int i = 0; i < n; ++i)
        s += indptr[rows[i] + 1] - indptr[rows[i]];
    return s;
}

cyn_int cyn_csr_check(const cyn_int *indices, const cyn_int *indptr, cyn_int n_rows,
                      cyn_int n_cols, cyn_int nnz)
{
    if (indptr[0] != 0 || indptr[n_rows] != nnz)
        return 1;
    for (cyn_int r = 0; r < n_rows; ++r) {
        const cyn_int p0 = indptr[r], p1 = indptr[r + 1];
        if (p1 < p0 || p1 > nnz)
            return r + 1;
        for (cyn_int p = p0; p < p1; ++p)
            if (indices[p] < 0 || indices[p] >= n_cols || (p > p0 && indices[p] <= indices[p - 1]))
                return r + 1;
    }
    return 0;
}

#define CYN_BODY "cyn_sparse_impl.h"
#include "cyn_per_dtype.h"
#undef CYN_BODY
