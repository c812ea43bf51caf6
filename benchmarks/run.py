#!/usr/bin/env python
"""Run cyneuron's benchmark suite (SPEC section 4) and write RESULTS.md.

    python benchmarks/run.py                 # everything, about 15 minutes on 2 cores
    python benchmarks/run.py --quick         # smoke run (3-5 min): 3 repeats, 1/10 of the time budget
    python benchmarks/run.py --only W1,W3 --peers cyneuron,torch --repeats 7

Each (workload, peer, thread count) runs in its own worker process (this
script with ``--worker``), started with OPENBLAS/OMP/MKL_NUM_THREADS set to
its thread count, so a peer that is missing, hangs or crashes costs only
its own rows.  A full run of everything writes benchmarks/RESULTS.md; any
other run writes benchmarks/_work/RESULTS-partial.md unless --out says where.

This is a benchmark, not a test: it never fails because something is slow.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import peers  # noqa: E402
import report  # noqa: E402
import workloads  # noqa: E402
from timing import Budget, Unsupported, measure  # noqa: E402

MARK = "@@CYNEURON-BENCH@@"
_LIMITER = None
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


# --- worker: one peer, one workload, one thread count ---------------------------------

def _limit_threads(threads):
    """Keep BLAS/OpenMP pools at `threads` (env vars are set by the parent too)."""
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(limits=threads)
    except ImportError:
        return None


def worker(wid, peer_name, threads, budget):
    global _LIMITER
    _LIMITER = _limit_threads(threads)      # keep the limits alive for the process
    wl = workloads.get(wid)
    out = {"peer": peer_name, "name": peer_name, "version": "", "rows": []}

    def single(status, reason, label=None):
        out["rows"].append({"label": label or out["name"], "dtype": "-", "threads": threads,
                            "status": status, "reason": reason, "note": "", "kind": ""})

    try:
        mod = peers.load(peer_name)
        out["name"] = mod.NAME
        ok, why = mod.available()
    except Exception as exc:  # noqa: BLE001
        ok, why = False, f"cannot load the peer module ({type(exc).__name__}: {exc})"
    if not ok:
        single("skipped", why)
        return out
    try:
        out["version"] = mod.version()
    except Exception as exc:  # noqa: BLE001
        out["version"] = f"unknown ({exc})"
    fn = getattr(mod, wid.lower(), None)
    if fn is None:
        single("unsupported", f"{mod.NAME} does not implement {wid}")
        return out
    try:
        cases = fn(wl, threads)
    except Unsupported as exc:
        single("unsupported", str(exc))
        return out
    except Exception as exc:  # noqa: BLE001
        single("error", f"{type(exc).__name__}: {exc}")
        return out
    for case in cases:
        out["rows"].append(measure(case, wl.full_units, wl.step, wl.pilot_units, budget))
    return out


# --- parent: start workers, collect rows, print and write tables ------------------------

def run_worker(wid, peer_name, threads, budget, timeout, extra_env=None):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", wid, peer_name,
           "--threads", str(threads), "--repeats", str(budget.repeats),
           "--warmup", str(budget.warmup), "--budget", str(budget.seconds),
           "--min-total", str(budget.min_total)]
    env = dict(os.environ, **{v: str(threads) for v in THREAD_VARS}, **(extra_env or {}))
    fail = {"peer": peer_name, "name": peer_name, "version": "", "rows": []}
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        reason = f"worker timed out after {timeout} s"
    else:
        for line in reversed(proc.stdout.splitlines()):
            if line.startswith(MARK):
                return json.loads(line[len(MARK):])
        tail = " ".join(proc.stderr.strip().splitlines()[-3:])[-300:]
        code = proc.returncode
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        reason = f"worker {how}" + (f": {tail}" if tail else "")
    fail["rows"].append({"label": peer_name, "dtype": "-", "threads": threads,
                         "status": "error", "reason": reason, "note": "", "kind": ""})
    return fail


def _sort(rows):
    order = {}
    for r in rows:
        order.setdefault((r["peer"], r["label"]), len(order))
    dt = {"float64": 0, "float32": 1}
    return sorted(rows, key=lambda r: (order[(r["peer"], r["label"])],
                                       dt.get(r["dtype"], 2), r["threads"]))


def run_workload(wl, peer_names, budget, timeout, versions, log):
    rows = []
    for name in peer_names:
        try:
            mod = peers.load(name)
        except Exception:  # noqa: BLE001 - the worker reports import problems
            mod = None
        if wl.id not in getattr(mod, "WORKLOADS", (wl.id,)):
            continue
        if mod is not None and not hasattr(mod, wl.id.lower()) and wl.id in ("W5", "W6", "W7"):
            continue           # the older peers (FANN, cynn) stop at W4: no empty rows
        for threads in getattr(mod, "THREADS", {}).get(wl.id, wl.threads):
            t0 = time.perf_counter()
            res = run_worker(wl.id, name, threads, budget, timeout, getattr(mod, "ENV", None))
            for r in res["rows"]:
                r["peer"] = name
            rows += res["rows"]
            if res.get("version"):
                versions[res["name"]] = res["version"]
            log(f"  {wl.id} {name:<9} {threads} thread(s): "
                + ", ".join(f"{r['label']} {r['dtype']} {r['status']}" for r in res["rows"])
                + f"  [{time.perf_counter() - t0:.1f} s]")
            if not any(r.get("status") == "ok" for r in res["rows"]):
                break          # nothing ran on 1 thread: no point trying 2
    return _sort(rows)


def _git_commit():
    try:
        head = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", HERE, "status", "--porcelain", "--", "../src",
                                "../csrc"], capture_output=True, text=True, timeout=10).stdout
        return head + (" with uncommitted changes in src/ or csrc/" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def write_markdown(path, args, budget, scale, info, versions, wls, rows_by_wl, elapsed):
    """RESULTS.md: how it was run, machine, versions, goals, one table per workload."""
    L = []
    mode = "quick" if args.quick else "full"
    L.append("# cyneuron benchmark results\n")
    L.append(f"Generated by `python benchmarks/run.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}` "
             f"on {datetime.datetime.now():%Y-%m-%d %H:%M} ({mode} mode, {elapsed / 60:.1f} min). "
             f"Each number is the median of at least {budget.repeats} timed runs (runs shorter "
             f"than {budget.min_total / budget.repeats:g} s are repeated until they add up to "
             f"{budget.min_total:g} s, at most {budget.max_repeats} times) after "
             f"{budget.warmup} warm-up run(s), each on a freshly built model. One timed run is "
             "sized to a time budget ("
             + ", ".join(f"{w.id} {w.budget_s * scale:g} s" for w in wls)
             + "): where the whole workload would take longer, only part of it is measured "
             "and the time extrapolated linearly (such rows say so). This is a benchmark, "
             "not a test; the machine drifts between runs, so compare numbers only within "
             "one run. See benchmarks/README.md.\n")
    L.append("## Machine\n")
    L.append(f"- CPU: {info['cpu']}")
    L.append(f"- SIMD flags: {info['flags']}")
    L.append(f"- cores: {info['logical_cpus']} logical CPUs, {info['physical_cores']} physical "
             f"core(s), {info['affinity']} usable by this process; memory {info['memory']}")
    L.append(f"- OS: {info['os']}\n")
    L.append("## Versions\n")
    import numpy
    L.append(f"- Python {info['python']}, NumPy {numpy.__version__}")
    L.append(f"- cyneuron source: git {_git_commit()}")
    for name, ver in versions.items():
        L.append(f"- {name}: {ver}")
    L.append("")
    L.append("## SPEC section 4 goals, cyneuron compiled float64\n")
    L.append(report.goal_summary(wls, rows_by_wl) + "\n")
    later = report.issue31_summary(wls, rows_by_wl)
    if later:
        L.append("## Issue 31 goals (ratios measured in this run)\n")
        L.append(later + "\n")
    for wl in wls:
        rows = rows_by_wl[wl.id]
        L.append(f"## {wl.id}: {wl.title}\n")
        L.append(report.workload_table(wl, rows) + "\n")
        if wl.id == "W6":
            L.append("OpenBLAS (NumPy `X @ W` on the three forward GEMM shapes at batch 200, "
                     f"and a square {report.PEAK_NOTE} GEMM: the peak), measured in this "
                     "run:\n")
            L.append(report.blas_table(wl, rows) + "\n")
            L.append("GFLOP/s counts 6 x sum(k*m) = 90,000 FLOPs per sample, 360 MFLOP per "
                     "epoch of 4000 samples (as W4). 'same bits' trains 1-thread and 2-thread "
                     "cyneuron networks for 2 epochs and compares the weights byte for byte.\n")
            for r in rows:
                if "same_bits_1_vs_2_threads" in r.get("metrics", {}):
                    L.append(f"- {r['label']} {r['dtype']}: same bits on 1 and 2 threads: "
                             f"{report.fmt_num(r['metrics']['same_bits_1_vs_2_threads'])}")
            L.append("")
        if wl.id == "W7":
            L.append("Every peer trains on the same float64 CSR matrix (scipy). 'same bits' "
                     "trains 1-thread and 2-thread cyneuron networks for one epoch on the "
                     "first 2048 rows and compares the weights byte for byte. The accuracy "
                     "noise is two standard errors of the difference of two accuracies on "
                     f"{wl.N_TEST} test rows. Peak memory of a larger sparse fit: "
                     "benchmarks/sparse_memory.py.\n")
            for r in rows:
                if "same_bits_1_vs_2_threads" in r.get("metrics", {}):
                    L.append(f"- {r['label']} {r['dtype']}: same bits on 1 and 2 threads: "
                             f"{report.fmt_num(r['metrics']['same_bits_1_vs_2_threads'])}")
            L.append("")
        if wl.id == "W4":
            L.append("OpenBLAS (NumPy `X @ W`, the three forward GEMM shapes at batch 256), "
                     "measured in this run:\n")
            L.append(report.blas_table(wl, rows) + "\n")
            L.append("GFLOP/s counts 6 x sum(k*m) = 1,612,800 FLOPs per sample (forward "
                     "2*S, backward 4*S for dW and the error; S = sum of k*m over the "
                     "layers); see workloads.py. The OpenBLAS row counts 2*S (forward only). "
                     "'same bits' is checked by training 1-thread and 2-thread cyneuron "
                     "networks on 4096 samples and comparing the weights byte for byte.\n")
            same = [r for r in rows if "same_bits_1_vs_2_threads" in r.get("metrics", {})]
            for r in same:
                L.append(f"- {r['label']} {r['dtype']}: same bits on 1 and 2 threads: "
                         f"{report.fmt_num(r['metrics']['same_bits_1_vs_2_threads'])}")
            L.append("")
    # The profile analysis is written by hand (it needs perf and judgement);
    # every RESULTS.md carries the current one, dated by its own text.
    analysis = os.path.join(HERE, "ANALYSIS.md")
    if os.path.exists(analysis):
        with open(analysis) as fh:
            L.append(fh.read())
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as fh:
        fh.write("\n".join(L))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 3 repeats and 1/10 of the time budget per run")
    ap.add_argument("--only", default="", help="workloads to run, e.g. W1,W3 (default all)")
    ap.add_argument("--peers", default="", help=f"peers to run (default all: {','.join(peers.PEERS)})")
    ap.add_argument("--repeats", type=int, default=None, help="timed runs per case (default 5; quick 3)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs before timing (default 1)")
    ap.add_argument("--budget-scale", type=float, default=None,
                    help="multiply every workload's time budget per run (default 1; quick 0.1)")
    ap.add_argument("--timeout", type=int, default=1200, help="seconds per worker process")
    ap.add_argument("--out", default=None, help="Markdown output file")
    ap.add_argument("--worker", nargs=2, metavar=("WORKLOAD", "PEER"), help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--budget", type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--min-total", type=float, default=1.0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    repeats = args.repeats or (3 if args.quick else 5)
    if args.worker:
        budget = Budget(repeats=repeats, warmup=args.warmup, seconds=args.budget,
                        min_total=args.min_total)
        res = worker(args.worker[0], args.worker[1], args.threads, budget)
        print(MARK + json.dumps(res), flush=True)
        return 0

    wids = [w.strip().upper() for w in args.only.split(",") if w.strip()] or list(workloads.WORKLOADS)
    bad = [w for w in wids if w not in workloads.WORKLOADS]
    names = [p.strip() for p in args.peers.split(",") if p.strip()] or list(peers.PEERS)
    bad += [p for p in names if p not in peers.PEERS]
    if bad:
        ap.error(f"unknown workload/peer: {', '.join(bad)}")
    scale = args.budget_scale or (0.1 if args.quick else 1.0)
    complete = not (args.quick or args.only or args.peers)
    out = args.out or os.path.join(HERE, "RESULTS.md" if complete else "_work/RESULTS-partial.md")

    info = report.machine_info()
    print(f"cyneuron benchmarks: {info['cpu']} ({info['flags']}), "
          f"{info['logical_cpus']} CPUs; {repeats} repeats after {args.warmup} warm-up; "
          f"workloads {','.join(wids)}; peers {','.join(names)}", flush=True)
    t_start = time.perf_counter()
    versions, rows_by_wl, wls = {}, {}, []
    for wid in wids:
        wl = workloads.get(wid)
        wls.append(wl)
        budget = Budget(repeats=repeats, warmup=args.warmup, seconds=wl.budget_s * scale,
                        min_total=scale)
        print(f"\n== {wl.id}: {wl.title}", flush=True)
        rows = run_workload(wl, names, budget, args.timeout, versions,
                            lambda s: print(s, flush=True))
        rows_by_wl[wl.id] = rows
        print()
        print(report.workload_table(wl, rows), flush=True)
        if wl.id in ("W4", "W6") and any(r["peer"] == "openblas" for r in rows):
            print("\nOpenBLAS X @ W (forward GEMM shapes)"
                  + (" and the peak" if wl.id == "W6" else "") + ":")
            print(report.blas_table(wl, rows))
    elapsed = time.perf_counter() - t_start
    raw = os.path.join(HERE, "_work", "last-run.json")       # every row, every run time
    os.makedirs(os.path.dirname(raw), exist_ok=True)
    with open(raw, "w") as fh:
        json.dump({"argv": sys.argv[1:], "machine": info, "versions": versions,
                   "rows": rows_by_wl}, fh, indent=1)
    write_markdown(out, args, Budget(repeats, args.warmup, min_total=scale), scale, info,
                   versions, wls, rows_by_wl, elapsed)
    print(f"\nGoals (SPEC section 4), cyneuron compiled float64:\n"
          f"{report.goal_summary(wls, rows_by_wl)}")
    later = report.issue31_summary(wls, rows_by_wl)
    if later:
        print(f"\nIssue 31 goals:\n{later}")
    print(f"\nwrote {os.path.relpath(out)} in {elapsed / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
