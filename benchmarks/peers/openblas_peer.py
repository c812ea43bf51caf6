"""The machine's BLAS as a yardstick for W4 and W6: NumPy's ``X @ W`` (OpenBLAS here).

Per 256-sample batch it multiplies (256 x 784)(784 x 256), (256 x 256)
(256 x 256) and (256 x 256)(256 x 10) into preallocated outputs: the forward
GEMMs of W4, 2 * sum(k*m) FLOPs per sample.  Its GFLOP/s is what a BLAS
reaches on exactly these shapes; the W4 table divides each peer's GFLOP/s by
it.  In W6 the same on W6's shapes (batch 200), and the machine's peak as
this run measures it: a square 768 x 768 x 768 GEMM, the largest rate the
BLAS reaches.  The worker limits BLAS to its thread count (threadpoolctl if installed,
and the OPENBLAS/OMP/MKL_NUM_THREADS variables it is started with).
"""
import numpy as np
from timing import Case

NAME = "OpenBLAS (NumPy X @ W)"
WORKLOADS = ("W4", "W6")     # not a peer in W1-W3, W5
PEAK_N = 768


def available():
    return True, ""


def numpy_blas():
    """threadpoolctl's record of the BLAS NumPy uses, or None (no threadpoolctl / not found)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    for info in threadpool_info():
        if info.get("user_api") == "blas" and "numpy" in info.get("filepath", ""):
            return info
    return None


def version():
    info = numpy_blas()
    if info is None:
        return "unknown (threadpoolctl not installed)"
    return f"{info['internal_api']} {info['version']} ({info.get('architecture')})"


def _forward_gemms(wl, threads, per_unit, flops, note):
    """X @ W on the workload's forward shapes at its batch size; per_unit batches."""
    bs = wl.params["batch_size"]
    cases = []
    for dtype in ("float64", "float32"):
        def setup(units, dtype=dtype):
            rng = np.random.default_rng(0)
            shapes = list(zip(wl.sizes[:-1], wl.sizes[1:]))
            A = [rng.standard_normal((bs, k)).astype(dtype) for k, _ in shapes]
            W = [rng.standard_normal((k, m)).astype(dtype) for k, m in shapes]
            C = [np.empty((bs, m), dtype=dtype) for _, m in shapes]
            return list(zip(A, W, C))

        def run(gemms, units):
            for _ in range(per_unit(units)):
                for A, W, C in gemms:
                    np.matmul(A, W, out=C)
        cases.append(Case("OpenBLAS X @ W", dtype, setup, run, threads=threads,
                          flops_per_unit=flops, note=note))
    return cases


def w4(wl, threads=1):
    bs = wl.params["batch_size"]
    return _forward_gemms(wl, threads, lambda units: len(range(0, units, bs)),
                          wl.gemm_flops_per_sample,
                          "forward GEMM shapes at batch 256, 2*sum(k*m) FLOPs/sample")


def w6(wl, threads=1):
    batches = wl.N // wl.params["batch_size"]
    cases = _forward_gemms(wl, threads, lambda units: units * batches, wl.gemm_flops_per_unit,
                           "forward GEMM shapes at batch 200, 2*sum(k*m) FLOPs/sample")
    for dtype in ("float64", "float32"):
        def setup(units, dtype=dtype):
            rng = np.random.default_rng(0)
            A, B = (rng.standard_normal((PEAK_N, PEAK_N)).astype(dtype) for _ in range(2))
            return A, B, np.empty((PEAK_N, PEAK_N), dtype=dtype)

        def run(state, units):
            A, B, C = state
            for _ in range(units):
                np.matmul(A, B, out=C)
        cases.append(Case("OpenBLAS peak", dtype, setup, run, threads=threads,
                          flops_per_unit=2.0 * PEAK_N ** 3, kind="peak",
                          note=f"{PEAK_N}^3 GEMM (a unit is one GEMM): the machine's peak "
                               "as this run measures it"))
    return cases

