#!/usr/bin/env python
"""cyneuron's scikit-learn estimators beside scikit-learn's MLP: accuracy and fit time.

    python benchmarks/estimators.py                 # 5 data sets x 5 seeds, ~2 minutes
    python benchmarks/estimators.py --seeds 2 --out /tmp/est.md

Default settings on both sides (``MLPClassifier(random_state=seed)``): iris,
breast cancer, wine, digits and ``make_moons(1000, noise=0.25)``, each split
75/25 (stratified, ``random_state=seed``) and standardised on the training
part. scikit-learn runs on one BLAS thread (threadpoolctl), as cyneuron does.
Reported per data set: test accuracy (mean and spread over the seeds), epochs,
median fit time of each, their ratio, and the estimator's overhead over a
bare ``Network.fit`` doing the same epochs (same net, batches, optimizer).

This is a benchmark, not a test: it never fails because something is slow.
Writes benchmarks/ESTIMATORS.md unless --out says otherwise.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def datasets():
    from sklearn import datasets as d
    return {
        "iris": d.load_iris(return_X_y=True),
        "breast cancer": d.load_breast_cancer(return_X_y=True),
        "wine": d.load_wine(return_X_y=True),
        "digits": d.load_digits(return_X_y=True),
        "moons(1000, 0.25)": d.make_moons(1000, noise=0.25, random_state=0),
    }


def split(X, y, seed):
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


def timed(fn, repeats):
    best = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best.append(time.perf_counter() - t0)
    return out, float(np.median(best))


def bare_network_fit(clf, Xtr, ytr):
    """The same training as the fitted estimator, as one Network.fit call."""
    import cyneuron as cn
    net = clf.network_
    twin = cn.Network(list(net.layer_sizes), activation=[a.spec for a in net.activations],
                      loss=net.loss.name, reduction="weighted_mean", l2=net.l2, seed=0)
    n = Xtr.shape[0]
    bs = min(200, n)
    out = twin.feedforward(Xtr[:1])   # warm: the first call loads the core
    del out
    t0 = time.perf_counter()
    twin.fit(Xtr, ytr if net.n_outputs > 1 else ytr.reshape(-1, 1).astype(float),
             epochs=clf.n_iter_, batch_size=bs, optimizer="adam", learning_rate=1e-3)
    return time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3, help="timed fits per seed")
    parser.add_argument("--out", default=os.path.join(HERE, "ESTIMATORS.md"))
    args = parser.parse_args(argv)

    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier as SkMLP
    from threadpoolctl import threadpool_limits

    import cyneuron as cn

    warnings.simplefilter("ignore", ConvergenceWarning)
    rows = []
    with threadpool_limits(limits=1):
        for name, (X, y) in datasets().items():
            acc = {"cn": [], "sk": []}
            times = {"cn": [], "sk": [], "bare": []}
            iters = {"cn": [], "sk": []}
            for seed in range(args.seeds):
                Xtr, Xte, ytr, yte = split(X, y, seed)
                labels = ytr if name != "breast cancer" else ytr   # keep the user's labels
                ours, t_cn = timed(lambda: cn.MLPClassifier(random_state=seed).fit(Xtr, labels),
                                   args.repeats)
                theirs, t_sk = timed(lambda: SkMLP(random_state=seed).fit(Xtr, labels),
                                     args.repeats)
                acc["cn"].append(ours.score(Xte, yte))
                acc["sk"].append(theirs.score(Xte, yte))
                iters["cn"].append(ours.n_iter_)
                iters["sk"].append(theirs.n_iter_)
                times["cn"].append(t_cn)
                times["sk"].append(t_sk)
                times["bare"].append(bare_network_fit(ours, Xtr, labels))
            row = dict(name=name, n=X.shape[0], d=X.shape[1], k=len(np.unique(y)),
                       acc_cn=np.mean(acc["cn"]), sd_cn=np.std(acc["cn"]),
                       acc_sk=np.mean(acc["sk"]), sd_sk=np.std(acc["sk"]),
                       it_cn=np.mean(iters["cn"]), it_sk=np.mean(iters["sk"]),
                       t_cn=np.median(times["cn"]), t_sk=np.median(times["sk"]),
                       t_bare=np.median(times["bare"]))
            rows.append(row)
            print(f"{name:>18}: accuracy cyneuron {row['acc_cn']:.4f} +- {row['sd_cn']:.4f}, "
                  f"scikit-learn {row['acc_sk']:.4f} +- {row['sd_sk']:.4f}; fit "
                  f"{row['t_cn'] * 1e3:.1f} ms vs {row['t_sk'] * 1e3:.1f} ms "
                  f"({row['t_sk'] / row['t_cn']:.1f}x), bare Network.fit "
                  f"{row['t_bare'] * 1e3:.1f} ms", flush=True)

    lines = [
        "# cyneuron estimators beside scikit-learn's MLP",
        "",
        f"`python benchmarks/estimators.py --seeds {args.seeds} --repeats {args.repeats}`, "
        f"{time.strftime('%Y-%m-%d %H:%M')}, cyneuron {cn.__version__}, scikit-learn "
        f"{sklearn.__version__}, NumPy {np.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; scikit-learn on one BLAS thread.",
        "",
        "Default settings on both sides (`MLPClassifier(random_state=seed)`: 100 ReLU units, "
        "Adam 1e-3, batch min(200, n), up to 200 epochs, tol 1e-4), 75/25 stratified split per "
        "seed, inputs standardised on the training part. Accuracy: mean +- standard deviation "
        f"over {args.seeds} seeds; times: medians over seeds of the median of {args.repeats} "
        "fits. 'bare Network.fit': the same epochs as one `Network.fit` call (no stopping "
        "checks, no validation of parameters), so 'overhead' is what the estimator adds.",
        "",
        "| data set | n x d, classes | accuracy cyneuron | accuracy scikit-learn | epochs "
        "(cn / sk) | fit cyneuron | fit scikit-learn | speed-up | bare Network.fit | "
        "overhead |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['n']} x {r['d']}, {r['k']} | {r['acc_cn']:.4f} +- "
            f"{r['sd_cn']:.4f} | {r['acc_sk']:.4f} +- {r['sd_sk']:.4f} | {r['it_cn']:.0f} / "
            f"{r['it_sk']:.0f} | {r['t_cn'] * 1e3:.1f} ms | {r['t_sk'] * 1e3:.1f} ms | "
            f"{r['t_sk'] / r['t_cn']:.1f}x | {r['t_bare'] * 1e3:.1f} ms | "
            f"{(r['t_cn'] - r['t_bare']) * 1e3:+.1f} ms "
            f"({(r['t_cn'] / r['t_bare'] - 1) * 100:+.0f}%) |")
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
