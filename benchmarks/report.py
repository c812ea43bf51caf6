"""Turn result rows into tables (Markdown, also readable in a terminal).

A row is what ``timing.measure`` returns plus ``peer`` (the peer module's
name).  Ratios compare times of the *full* workload (extrapolated where only
part was measured): "vs cyneuron f64" is this row's time divided by
cyneuron compiled float64's time, so 40x means forty times as long.  In W4
the baseline is cyneuron at the same thread count.
"""
from __future__ import annotations

import os
import platform
import re
import statistics

BASELINE = ("cyneuron compiled", "float64")
LOOP = "NumPy + OpenBLAS loop"
PEAK_NOTE = "768^3"


# --- numbers ------------------------------------------------------------------

def fmt_time(s):
    if s is None:
        return "-"
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
        if s >= scale:
            v = s / scale
            return f"{v:.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"
    return f"{s * 1e9:.3g} ns"


def fmt_ratio(r):
    if r is None:
        return "-"
    return f"{r:.2f}x" if r < 10 else f"{r:.0f}x" if r >= 100 else f"{r:.1f}x"


def fmt_num(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def table(headers, rows):
    """A Markdown pipe table, columns padded so it also reads well as plain text."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line(r) for r in cells])


# --- derived values -------------------------------------------------------------

def full_time(row):
    """Median time of the whole workload (extrapolated if only part was measured)."""
    return row["per_unit"] * row["full_units"] if row.get("status") == "ok" else None


def spread(row):
    """Interquartile range of the run times, relative to the median."""
    times = row.get("times") or []
    if len(times) < 2:
        return "-"
    q1, _, q3 = statistics.quantiles(times, n=4)
    return f"{100 * (q3 - q1) / row['median']:.0f}%"


def gflops(row, wl):
    if row.get("status") != "ok":
        return None
    per_unit = row.get("flops_per_unit") or wl.flops_per_unit
    return per_unit / row["per_unit"] / 1e9


def blas_gflops(rows, wl, kind=""):
    """{(dtype, threads): GFLOP/s} of the OpenBLAS X @ W rows (kind "peak": the peak's)."""
    return {(r["dtype"], r["threads"]): gflops(r, wl)
            for r in rows if r["peer"] == "openblas" and r.get("status") == "ok"
            and r.get("kind", "") == kind}


def baseline(rows, threads=1, kind="", label=BASELINE[0], dtype=BASELINE[1]):
    for r in rows:
        if (r["label"], r["dtype"]) == (label, dtype) and r["threads"] == threads \
                and r.get("kind", "") == kind and r.get("status") == "ok":
            return r
    return None


def _sklearn_row(rows, kind="", threads=1):
    for r in rows:
        if r["peer"] == "sklearn" and r.get("kind", "") == kind and r["threads"] == threads \
                and r.get("status") == "ok":
            return r
    return None


def notes(row, wl):
    parts = []
    if row.get("status") != "ok":
        reason = row.get("reason", "")
        return reason if reason.startswith("not yet") else f"{status_cell(row)}: {reason}"
    if row.get("extrapolated"):
        parts.append(f"measured {row['units']:,} of {row['full_units']:,} {wl.unit}, "
                     f"extrapolated")
    if row.get("note"):
        parts.append(row["note"])
    return "; ".join(parts)


def status_cell(row):
    return {"skipped": "skipped", "unsupported": "not supported",
            "error": "error"}.get(row.get("status"), "")


PORTABLE = ("cyneuron compiled, portable", "float64")


FLOOR = "hand-written floor, portable exp"


def portable_goal(row, wl, rows):
    """numerics="portable" float64 (issue 30, item 4): W1 against the numpy-mode
    row of the same run (at most 0.8x its time), W2 against the hand-written
    floor of the same run (at most 1.15x), W3/W4 no slower than numpy mode."""
    if row.get("status") != "ok":
        return "NOT met (not run)"
    if hasattr(wl, "goal_portable_vs_numpy") or hasattr(wl, "goal_portable_vs_floor"):
        if hasattr(wl, "goal_portable_vs_numpy"):
            ref, need, what, row_name = (baseline(rows, row["threads"]),
                                         wl.goal_portable_vs_numpy, "numpy mode's time",
                                         "numpy-mode")
        else:
            ref, need, what, row_name = (baseline(rows, 1, label=FLOOR),
                                         wl.goal_portable_vs_floor,
                                         "the hand-written floor's time", "floor")
        if ref is None:
            return f"NOT met (no {row_name} row in this run)"
        r = row["per_unit"] / ref["per_unit"]
        return f"{'met' if r <= need else 'NOT met'} ({r:.2f}x {what}, goal <= {need:g}x)"
    if wl.id in ("W3", "W4"):
        base = baseline(rows, row["threads"])
        if base is None:
            return "n/a (no numpy-mode row)"
        r = full_time(row) / full_time(base)
        return f"{'met' if r <= 1.0 else 'NOT met'} ({r:.2f}x numpy mode's time)"
    return ""


def goal(row, wl, rows):
    """'met' / 'NOT met (...)' for cyneuron compiled float64 rows (and the
    portable float64 rows, see portable_goal), '' for the others."""
    if (row["label"], row["dtype"]) == PORTABLE:
        return portable_goal(row, wl, rows)
    if (row["label"], row["dtype"]) != BASELINE:
        return ""
    if row.get("status") != "ok":
        return "NOT met (not run)"
    if wl.id in ("W1", "W2"):
        return "met" if row["per_unit"] <= wl.goal_per_unit_s else "NOT met"
    if wl.id == "W3":
        t, acc = full_time(row), row.get("metrics", {}).get("accuracy")
        why = []
        if t > wl.goal_total_s:
            why.append(f"time > {wl.goal_total_s * 1e3:.0f} ms")
        if row.get("extrapolated"):
            why.append("accuracy not measured over 50 epochs")
        elif acc is None or acc < wl.goal_accuracy:
            why.append(f"accuracy < {wl.goal_accuracy}")
        return "met" if not why else "NOT met (" + ", ".join(why) + ")"
    if wl.id == "W5":
        kind = row.get("kind", "")
        if kind in wl.goal_row_s:
            need = wl.goal_row_s[kind]
            return "met" if row["per_unit"] <= need else f"NOT met (> {fmt_time(need)})"
        sk = _sklearn_row(rows, kind)
        if sk is None:
            return "n/a (no scikit-learn figure)"
        r = sk["per_unit"] / row["per_unit"]
        return "met" if r >= wl.goal_batch_vs_sklearn else \
            f"NOT met ({r:.2f}x < {wl.goal_batch_vs_sklearn}x scikit-learn)"
    if wl.id == "W6":
        why = []
        if row["threads"] == 1:
            g = gflops(row, wl)
            if g < wl.goal_gflops:
                why.append(f"{g:.1f} < {wl.goal_gflops:g} GFLOP/s")
            sk = _sklearn_row(rows)
            if sk is None:
                why.append("no scikit-learn figure")
            elif full_time(sk) / full_time(row) < wl.goal_vs_sklearn:
                why.append(f"{full_time(sk) / full_time(row):.2f}x < "
                           f"{wl.goal_vs_sklearn:g}x scikit-learn")
        else:
            one = baseline(rows, 1)
            if one is None:
                why.append("no 1-thread figure")
            elif full_time(one) / full_time(row) < wl.goal_2_threads:
                why.append(f"{full_time(one) / full_time(row):.2f}x < "
                           f"{wl.goal_2_threads:g}x 1 thread")
            same = row.get("metrics", {}).get("same_bits_1_vs_2_threads")
            if same is not True:
                why.append("bits differ from 1 thread" if same is False else "bits not checked")
        return "met" if not why else "NOT met (" + ", ".join(why) + ")"
    if wl.id == "W7":
        return _w7_goal(row, wl, rows)
    if wl.id == "W4":
        blas = blas_gflops(rows, wl).get(("float64", row["threads"]))
        need = wl.goal_vs_blas.get(row["threads"])
        if blas is None or need is None:
            return "n/a (no OpenBLAS figure)"
        r = gflops(row, wl) / blas
        why = [] if r >= need else [f"{r:.2f}x < {need}x OpenBLAS"]
        loop = baseline(rows, row["threads"], label=LOOP)
        need_loop = wl.goal_vs_loop.get(row["threads"])
        if loop is not None and need_loop is not None:
            rl = full_time(loop) / full_time(row)
            if rl < need_loop:
                why.append(f"{rl:.2f}x < {need_loop}x the NumPy loop")
        same = row.get("metrics", {}).get("same_bits_1_vs_2_threads")
        if row["threads"] > 1 and same is not True:
            why.append("bits differ from 1 thread" if same is False else "bits not checked")
        return "met" if not why else "NOT met (" + ", ".join(why) + ")"
    return ""


def _w7_goal(row, wl, rows):
    """W7: >= 4x scikit-learn's speed on 1 thread with the same test accuracy
    within noise; on 2 threads, the same bits as on 1."""
    why = []
    sk = _sklearn_row(rows, threads=row["threads"]) or _sklearn_row(rows)
    acc = row.get("metrics", {}).get("accuracy")
    if sk is None:
        why.append("no scikit-learn figure")
    else:
        r = full_time(sk) / full_time(row)
        if row["threads"] == 1 and r < wl.goal_vs_sklearn:
            why.append(f"{r:.2f}x < {wl.goal_vs_sklearn:g}x scikit-learn")
        sk_acc = sk.get("metrics", {}).get("accuracy")
        if row.get("extrapolated") or sk.get("extrapolated"):
            why.append("accuracy not measured over 2 epochs")
        elif acc is None or sk_acc is None:
            why.append("no accuracy")
        elif abs(acc - sk_acc) > wl.accuracy_noise(sk_acc):
            why.append(f"accuracy {acc:.4f} vs scikit-learn's {sk_acc:.4f}")
    if row["threads"] > 1:
        same = row.get("metrics", {}).get("same_bits_1_vs_2_threads")
        if same is not True:
            why.append("bits differ from 1 thread" if same is False else "bits not checked")
    return "met" if not why else "NOT met (" + ", ".join(why) + ")"


def _w7_table(wl, rows):
    headers = ["peer", "dtype", "threads", wl.per, "per epoch", "IQR", "vs scikit-learn",
               "test accuracy", "goal", "notes"]
    out = []
    for r in rows:
        ok = r.get("status") == "ok"
        sk = _sklearn_row(rows, threads=r["threads"]) or _sklearn_row(rows)
        acc = r.get("metrics", {}).get("accuracy")
        out.append([r["label"], r["dtype"], r["threads"],
                    fmt_time(full_time(r)) if ok else status_cell(r),
                    fmt_time(r["per_unit"]) if ok else "-", spread(r),
                    f"{full_time(sk) / full_time(r):.2f}x" if ok and sk else "-",
                    f"{acc:.4f}" if acc is not None else "-", goal(r, wl, rows),
                    notes(r, wl)])
    return table(headers, out)


# --- tables per workload -----------------------------------------------------------

def workload_table(wl, rows):
    base = {t: baseline(rows, t) for t in (1, 2)}

    def vs(row):
        b = base.get(row["threads"]) if wl.id in ("W4", "W6") else base[1]
        if row.get("status") != "ok" or b is None:
            return None
        return full_time(row) / full_time(b)

    out = []
    if wl.id in ("W1", "W2"):
        per = wl.per
        total = f"{wl.full_units:,} {wl.unit}" if wl.id == "W1" else \
            f"{int(wl.full_units / wl.per_units):,} updates"
        loss = "final loss (" + wl.params["loss"] + ")"
        headers = ["peer", "dtype", f"time / {per}", "IQR", total, "vs cyneuron f64",
                   "goal", loss, "notes"]
        for r in rows:
            ok = r.get("status") == "ok"
            final = r.get("metrics", {}).get("final_loss")
            if final is not None and r.get("extrapolated"):
                final = f"{final:.4g} (after {r['units']:,})"
            out.append([r["label"], r["dtype"],
                        fmt_time(r["per_unit"] * wl.per_units) if ok else status_cell(r),
                        spread(r), fmt_time(full_time(r)), fmt_ratio(vs(r)),
                        goal(r, wl, rows), fmt_num(final), notes(r, wl)])
    elif wl.id == "W3":
        headers = ["peer", "dtype", "50 epochs", "per epoch", "IQR", "vs cyneuron f64",
                   "test accuracy", "goal", "notes"]
        for r in rows:
            ok = r.get("status") == "ok"
            acc = r.get("metrics", {}).get("accuracy")
            if acc is not None and r.get("extrapolated"):
                acc = f"{acc:.4f} (after {r['units']} epochs)"
            elif acc is not None:
                acc = f"{acc:.4f}"
            out.append([r["label"], r["dtype"], fmt_time(full_time(r)) if ok else status_cell(r),
                        fmt_time(r["per_unit"]) if ok else "-", spread(r), fmt_ratio(vs(r)),
                        acc or "-", goal(r, wl, rows), notes(r, wl)])
    elif wl.id == "W5":
        return _w5_table(wl, rows)
    elif wl.id == "W7":
        return _w7_table(wl, rows)
    elif wl.id == "W6":
        blas, peak = blas_gflops(rows, wl), blas_gflops(rows, wl, "peak")
        headers = ["peer", "dtype", "threads", wl.per, "per epoch", "GFLOP/s", "vs peak",
                   "vs OpenBLAS X@W", "vs cyneuron f64", "goal", "notes"]
        for r in rows:
            if r["peer"] == "openblas":
                continue
            ok = r.get("status") == "ok"
            g = gflops(r, wl)
            b, pk = blas.get((r["dtype"], r["threads"])), peak.get((r["dtype"], r["threads"]))
            out.append([r["label"], r["dtype"], r["threads"],
                        fmt_time(full_time(r)) if ok else status_cell(r),
                        fmt_time(r["per_unit"]) if ok else "-",
                        f"{g:.1f}" if g else "-", fmt_ratio(g / pk) if g and pk else "-",
                        fmt_ratio(g / b) if g and b else "-",
                        fmt_ratio(vs(r)), goal(r, wl, rows), notes(r, wl)])
    else:  # W4
        blas = blas_gflops(rows, wl)
        headers = ["peer", "dtype", "threads", "epoch", "samples/s", "GFLOP/s",
                   "vs OpenBLAS X@W", "vs NumPy loop", "vs cyneuron f64", "goal", "notes"]
        for r in rows:
            if r["peer"] == "openblas":
                continue
            ok = r.get("status") == "ok"
            g = gflops(r, wl)
            b = blas.get((r["dtype"], r["threads"]))
            loop = baseline(rows, r["threads"], label=LOOP, dtype=r["dtype"])
            out.append([r["label"], r["dtype"], r["threads"],
                        fmt_time(full_time(r)) if ok else status_cell(r),
                        f"{1 / r['per_unit']:,.0f}" if ok else "-",
                        f"{g:.1f}" if g else "-",
                        fmt_ratio(g / b) if g and b else "-",
                        fmt_ratio(full_time(r) / full_time(loop)) if ok and loop else "-",
                        fmt_ratio(vs(r)), goal(r, wl, rows), notes(r, wl)])
    return table(headers, out)


def _w5_table(wl, rows):
    """One block per kind of call; ratios against cyneuron compiled f64's same kind."""
    kinds = list(wl.KINDS)
    order = {k: i for i, k in enumerate(kinds)}
    rows = sorted(rows, key=lambda r: order.get(r.get("kind", ""), len(kinds)))
    headers = ["call", "peer", "dtype", "time / call", "per row", "IQR", "vs cyneuron f64",
               "goal", "max abs diff from NumPy", "notes"]
    out = []
    for r in rows:
        ok = r.get("status") == "ok"
        kind = r.get("kind", "")
        base = baseline(rows, 1, kind)
        n = wl.BATCH if kind == kinds[2] else 1
        err = r.get("metrics", {}).get("max |p - NumPy|")
        out.append([kind or "-", r["label"], r["dtype"],
                    fmt_time(r["per_unit"]) if ok else status_cell(r),
                    fmt_time(r["per_unit"] / n) if ok else "-", spread(r),
                    fmt_ratio(r["per_unit"] / base["per_unit"]) if ok and base else "-",
                    goal(r, wl, rows), f"{err:.1e}" if err is not None else "-",
                    notes(r, wl).replace(f"measured {r.get('units', 0):,} of "
                                         f"{r['full_units']:,} calls, extrapolated",
                                         f"{r.get('units', 0):,} calls per run")])
    return table(headers, out)


def blas_table(wl, rows):
    out = [[r["label"], r["dtype"], r["threads"], f"{gflops(r, wl):.1f}"
            if r.get("status") == "ok" else r.get("reason", ""), spread(r)]
           for r in rows if r["peer"] == "openblas"]
    return table(["what", "dtype", "threads", "GFLOP/s", "IQR"], out) if out else ""


def measured(row, wl, rows):
    """The figure a goal is about, as text."""
    if row.get("status") != "ok":
        return f"not run ({row.get('reason', '')})"
    if wl.id in ("W1", "W2"):
        return f"{fmt_time(row['per_unit'] * wl.per_units)} per {wl.per}"
    if wl.id == "W3":
        acc = row.get("metrics", {}).get("accuracy")
        return f"{fmt_time(full_time(row))} for 50 epochs, accuracy {fmt_num(acc)}"
    if wl.id == "W5":
        kind = row.get("kind", "")
        text = f"{kind}: {fmt_time(row['per_unit'])} per call"
        sk = _sklearn_row(rows, kind)
        if sk is not None:
            text += f" (scikit-learn {fmt_time(sk['per_unit'])}, " \
                    f"{sk['per_unit'] / row['per_unit']:.1f}x as long)"
        return text
    if wl.id == "W7":
        acc = row.get("metrics", {}).get("accuracy")
        text = (f"{fmt_time(full_time(row))} for 2 epochs on {row['threads']} thread(s), "
                f"test accuracy {fmt_num(acc)}")
        sk = _sklearn_row(rows, threads=row["threads"]) or _sklearn_row(rows)
        if sk is not None:
            text += (f"; {full_time(sk) / full_time(row):.2f}x scikit-learn's speed "
                     f"({fmt_time(full_time(sk))}, accuracy "
                     f"{fmt_num(sk.get('metrics', {}).get('accuracy'))})")
        same = row.get("metrics", {}).get("same_bits_1_vs_2_threads")
        if same is not None:
            text += f", same bits as 1 thread: {fmt_num(same)}"
        return text
    g = gflops(row, wl)
    blas = blas_gflops(rows, wl).get(("float64", row["threads"]))
    text = f"{g:.1f} GFLOP/s on {row['threads']} thread(s)"
    if wl.id == "W6":
        peak = blas_gflops(rows, wl, "peak").get(("float64", row["threads"]))
        if peak:
            text += f" = {g / peak:.2f}x the measured peak {peak:.1f}"
        sk, one = _sklearn_row(rows), baseline(rows, 1)
        if row["threads"] == 1 and sk is not None:
            text += f", {full_time(sk) / full_time(row):.2f}x scikit-learn's speed"
        if row["threads"] > 1 and one is not None:
            text += f", {full_time(one) / full_time(row):.2f}x 1 thread"
        same = row.get("metrics", {}).get("same_bits_1_vs_2_threads")
        if same is not None:
            text += f", same bits as 1 thread: {fmt_num(same)}"
        return text
    if blas:
        text += f" = {g / blas:.2f}x OpenBLAS's {blas:.1f}"
    loop = baseline(rows, row["threads"], label=LOOP)
    if loop is not None:
        text += f", {full_time(loop) / full_time(row):.2f}x the NumPy loop's speed"
    same = row.get("metrics", {}).get("same_bits_1_vs_2_threads")
    if same is not None:
        text += f", same bits as 1 thread: {fmt_num(same)}"
    return text


def goal_summary(workloads, rows_by_wl):
    lines = []
    for wl in workloads:
        rows = rows_by_wl.get(wl.id, [])
        base = [r for r in rows if (r["label"], r["dtype"]) == BASELINE]
        for r in base:
            lines.append(f"- {wl.id}: {measured(r, wl, rows)} -> **{goal(r, wl, rows)}** "
                         f"(goal: {wl.goal})")
        for r in rows:
            if (r["label"], r["dtype"]) == PORTABLE and r.get("status") == "ok":
                lines.append(f"- {wl.id} portable: {measured(r, wl, rows)} -> "
                             f"**{goal(r, wl, rows)}**")
        if rows and not base:
            lines.append(f"- {wl.id}: cyneuron did not run -> **NOT met** (goal: {wl.goal})")
    return "\n".join(lines)


def _ratio_line(text, value, need, what):
    """A goal line: '- text: 0.93x -> **met** (goal: >= 0.92x what)'."""
    if value is None:
        return f"- {text}: not measured -> **NOT met** (goal: >= {need:g}x {what})"
    verdict = "met" if value >= need else "NOT met"
    return f"- {text}: {value:.2f}x -> **{verdict}** (goal: >= {need:g}x {what})"


# issue 31's goals, as ratios measured in one run: W6 one thread against
# OpenBLAS's measured peak, two threads against one, W3 against scikit-learn
ISSUE31 = {"W6 peak": {"float64": 0.92, "float32": 0.80}, "W6 2 threads": 1.75,
           "W6 worst 2 threads": 1.0, "W3 vs sklearn": {"float64": 11.0, "float32": 19.0}}


def issue31_summary(workloads, rows_by_wl):
    """The goals of issue 31, each met or not, from the rows of this run."""
    lines = []
    by_id = {wl.id: wl for wl in workloads}
    if "W6" in by_id:
        wl, rows = by_id["W6"], rows_by_wl.get("W6", [])
        for dtype, need in ISSUE31["W6 peak"].items():
            one = baseline(rows, 1, dtype=dtype)
            peak = blas_gflops(rows, wl, "peak").get((dtype, 1))
            r = gflops(one, wl) / peak if one is not None and peak else None
            lines.append(_ratio_line(f"W6 {dtype}, 1 thread, GFLOP/s", r,
                                     need, "OpenBLAS's measured peak"))
        checks = {row["dtype"]: row.get("metrics", {}) for row in rows
                  if row.get("kind") == "worst 2 threads" and row.get("status") == "ok"}
        for dtype in ("float64", "float32"):
            one, two = baseline(rows, 1, dtype=dtype), baseline(rows, 2, dtype=dtype)
            rows_ratio = (full_time(one) / full_time(two)
                          if one is not None and two is not None else None)
            m = (two or {}).get("metrics", {})
            if m.get("paired_speedup") is not None:
                # pairs of fits timed within a second of each other in one
                # process: the host moves the vCPUs' speed from one second to
                # the next, and the table's 1- and 2-thread rows are timed
                # minutes apart
                lines.append(_ratio_line(
                    f"W6 {dtype}, 2 threads' speed (median of {m['pairs']} pairs of fits in one "
                    f"process; the machine's two-core capacity then "
                    f"{m['paired_capacity']:.2f}x; the table's 1- and 2-thread rows: "
                    f"{fmt_ratio(rows_ratio)})", m["paired_speedup"],
                    ISSUE31["W6 2 threads"], "1 thread's"))
            else:
                lines.append(_ratio_line(f"W6 {dtype}, 2 threads' speed", rows_ratio,
                                         ISSUE31["W6 2 threads"], "1 thread's"))
        for dtype, m in checks.items():
            extra = (f" (median {m['median_speedup']:.2f}x; the machine's two-core capacity "
                     f"{m['capacity']:.2f}x)" if m.get("median_speedup") is not None else "")
            lines.append(_ratio_line(f"W6 {dtype}, 2 threads' speed in the worst of "
                                     f"{m.get('runs', '?')} runs{extra}", m.get("worst_speedup"),
                                     ISSUE31["W6 worst 2 threads"],
                                     "1 thread's, in fresh processes and after scikit-learn "
                                     "and NumPy's BLAS"))
    if "W3" in by_id:
        rows = rows_by_wl.get("W3", [])
        sk = _sklearn_row(rows)
        for dtype, need in ISSUE31["W3 vs sklearn"].items():
            row = baseline(rows, 1, dtype=dtype)
            r = full_time(sk) / full_time(row) if sk is not None and row is not None else None
            lines.append(_ratio_line(f"W3 {dtype}, speed", r, need,
                                     "scikit-learn's float64 fit"))
    return "\n".join(lines)


# --- machine ---------------------------------------------------------------------------

def machine_info():
    info = {"cpu": platform.processor() or "unknown", "flags": "", "logical_cpus":
            os.cpu_count(), "physical_cores": None, "memory": "", "os": platform.platform(),
            "python": platform.python_version()}
    try:
        text = open("/proc/cpuinfo").read()
        def field(key):
            m = re.search(rf"^{key}\s*:\s*(.+)$", text, re.M)
            return m.group(1).strip() if m else ""
        if field("model name"):
            info["cpu"] = field("model name")
        if field("cpu family"):
            info["cpu"] += f" (family {field('cpu family')}, model {field('model')})"
        flags = set(field("flags").split())
        wanted = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl",
                  "avx512_bf16", "avx512_vnni"]
        info["flags"] = " ".join(f for f in wanted if f in flags) or "(none of the SIMD flags)"
        cores = {(p, c) for p, c in re.findall(
            r"physical id\s*:\s*(\d+).*?core id\s*:\s*(\d+)", text, re.S)}
        info["physical_cores"] = len(cores) or None
    except OSError:
        pass
    try:
        info["affinity"] = len(os.sched_getaffinity(0))
    except AttributeError:
        info["affinity"] = None
    try:
        kb = int(re.search(r"MemTotal:\s*(\d+)", open("/proc/meminfo").read()).group(1))
        info["memory"] = f"{kb / 2**20:.1f} GiB"
    except (OSError, AttributeError):
        pass
    return info
