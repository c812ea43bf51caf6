"""How fast can W2 be under the numerical contract? Builds w2_floor.pyx into
benchmarks/_work/ and times it against cyneuron on the same updates.

    python benchmarks/floor/run.py

Prints ns per update for the hand-written loop with NumPy's exp (exact: it
must give cyneuron's bits, checked) and with the C library's exp (FANN's
choice; not exact), and ns per call of NumPy's exp loop on 1, 2 and 8 values.
"""
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(os.path.dirname(HERE), "_work", "floor")
sys.path.insert(0, os.path.dirname(HERE))


def build():
    os.makedirs(WORK, exist_ok=True)
    setup = os.path.join(WORK, "setup_floor.py")
    with open(setup, "w") as f:
        f.write(f"""
from setuptools import Extension, setup
from Cython.Build import cythonize
import numpy
ext = Extension("w2_floor", [{os.path.join(HERE, "w2_floor.pyx")!r}],
                include_dirs=[numpy.get_include()],
                extra_compile_args=["-O3", "-ffp-contract=off", "-fno-math-errno"])
setup(ext_modules=cythonize([ext], build_dir={WORK!r}, quiet=True))
""")
    subprocess.run([sys.executable, setup, "-q", "build_ext", "--build-lib", WORK,
                    "--build-temp", os.path.join(WORK, "tmp")], check=True, cwd=WORK)
    sys.path.insert(0, WORK)
    import w2_floor
    return w2_floor


def best_of(f, repeats=15):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    floor = build()
    import workloads

    import cyneuron as cn
    wl = workloads.get("W2")
    epochs, lr = 1000, wl.params["learning_rate"]
    flat = lambda ws: np.concatenate([np.concatenate([W.ravel(), b]) for W, b in ws])

    net = cn.Network(list(wl.sizes), activation="sigmoid", loss="mse", seed=0)
    net.set_weights(wl.weights)
    net.fit(wl.X, wl.y, epochs=epochs, learning_rate=lr, batch_size=1, shuffle=False)
    p = flat(wl.weights)
    floor.train(wl.X, wl.y, p, epochs, lr, False)
    same = p.tobytes() == flat(net.get_weights()).tobytes()

    def core_fit():
        net.fit(wl.X, wl.y, epochs=epochs, learning_rate=lr, batch_size=1, shuffle=False)

    rows = [("cyneuron fit (public API)", best_of(core_fit))]
    for libm in (False, True):
        p = flat(wl.weights)
        rows.append((f"hand-written, {'C library exp (not exact)' if libm else 'NumPy exp (exact)'}",
                     best_of(lambda: floor.train(wl.X, wl.y, p, epochs, lr, libm))))
    print(f"W2, {4 * epochs} updates; hand-written NumPy-exp loop gives cyneuron's bits: {same}")
    for name, t in rows:
        print(f"  {name:45s} {t / (4 * epochs) * 1e9:7.1f} ns/update")
    n = 1_000_000
    for width in (1, 2, 8):
        t = best_of(lambda: floor.exp_chain(n, width), 5)
        print(f"  NumPy exp loop, {width} value(s) per call, dependent calls: {t / n * 1e9:5.1f} ns/call")


if __name__ == "__main__":
    main()
