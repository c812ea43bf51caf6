"""PyTorch CPU (install exactly ``pip install torch==2.13.0``).

Plain eager-mode training loops, the way a user writes them: ``zero_grad``,
forward, loss, ``backward``, ``optimizer.step()``.  ``torch.set_num_threads``
is set to the worker's thread count (1 except in W4).  W1/W2 start from the
workload's initial weights; W3/W4 use PyTorch's default initialisation with
``torch.manual_seed(0)``.  Its workers run with OMP_WAIT_POLICY=PASSIVE (see ENV).
"""
import importlib

from timing import Case

NAME = "PyTorch"
# With its default (spinning) OpenMP wait policy, PyTorch on 2 threads ran W4
# 5-30x slower than on 1 thread, erratically, on this project's 2-vCPU VMs;
# passive waiting gives it its normal speed.  The runner puts this into the
# environment of the worker processes of this peer.
ENV = {"OMP_WAIT_POLICY": "PASSIVE"}


def available():
    try:
        importlib.import_module("torch")
    except Exception as exc:  # noqa: BLE001
        return False, f"cannot import torch ({type(exc).__name__}: {exc})"
    return True, ""


def version():
    import torch
    return torch.__version__


def _torch(threads):
    import torch
    torch.set_num_threads(threads)
    return torch


def _mlp(torch, sizes, hidden, out_act, dtype):
    layers = []
    for l, (k, m) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(k, m, dtype=dtype))
        last = l == len(sizes) - 2
        if not last:
            layers.append(hidden())
        elif out_act is not None:
            layers.append(out_act())
    return torch.nn.Sequential(*layers)


def _set_weights(torch, model, weights):
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for lin, (W, b) in zip(linears, weights):
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))


def _tiny(wl, threads, per_sample):
    """W1 / W2: sigmoid nets with squared-error losses and plain SGD."""
    torch = _torch(threads)
    X = torch.from_numpy(wl.X)
    y = torch.from_numpy(wl.y)
    lr = wl.params["learning_rate"]
    if wl.params["loss"] == "sse":
        def loss_fn(a, t):
            return 0.5 * ((a - t) ** 2).sum()
    else:
        loss_fn = torch.nn.functional.mse_loss          # mean over all elements

    def setup(units):
        model = _mlp(torch, wl.sizes, torch.nn.Sigmoid, torch.nn.Sigmoid, torch.float64)
        _set_weights(torch, model, wl.weights)
        return model, torch.optim.SGD(model.parameters(), lr=lr)

    def run(state, units):
        model, opt = state
        batches = [(X[i:i + 1], y[i:i + 1]) for i in range(len(X))] if per_sample else [(X, y)]
        for _ in range(units):
            for xb, yb in batches:
                opt.zero_grad()
                loss_fn(model(xb), yb).backward()
                opt.step()

    def check(state, units):
        with torch.no_grad():
            return {"final_loss": wl.loss(state[0](X).numpy(), wl.y)}
    return [Case("PyTorch", "float64", setup, run, check, threads=threads,
                 note="eager loop, torch.optim.SGD")]


def w1(wl, threads=1):
    return _tiny(wl, threads, per_sample=False)


def w2(wl, threads=1):
    return _tiny(wl, threads, per_sample=True)


def w3(wl, threads=1):
    torch = _torch(threads)
    Xtr, ytr, Xte, yte = wl.data
    p = wl.params
    cases = []
    for dt_name, dt in (("float64", torch.float64), ("float32", torch.float32)):
        X = torch.from_numpy(Xtr).to(dt)
        y = torch.from_numpy(ytr)
        Xt = torch.from_numpy(Xte).to(dt)

        def setup(units, dt=dt):
            torch.manual_seed(p["seed"])
            model = _mlp(torch, wl.sizes, torch.nn.ReLU, None, dt)
            return model, torch.optim.Adam(model.parameters(), lr=p["learning_rate"])

        def run(state, units, X=X, y=y):
            model, opt = state
            n, bs = len(X), p["batch_size"]
            for _ in range(units):
                perm = torch.randperm(n)
                for i in range(0, n, bs):
                    idx = perm[i:i + bs]
                    opt.zero_grad()
                    torch.nn.functional.cross_entropy(model(X[idx]), y[idx]).backward()
                    opt.step()

        def check(state, units, Xt=Xt):
            with torch.no_grad():
                pred = state[0](Xt).argmax(dim=1).numpy()
            return {"accuracy": wl.accuracy(pred, yte)}
        cases.append(Case("PyTorch", dt_name, setup, run, check, threads=threads,
                          note="eager loop, torch.optim.Adam, reshuffled each epoch"))
    return cases


def w4(wl, threads=1):
    torch = _torch(threads)
    p = wl.params
    cases = []
    for dt_name, dt, Xn in (("float64", torch.float64, wl.X), ("float32", torch.float32, wl.X32)):
        X = torch.from_numpy(Xn)
        y = torch.from_numpy(wl.y)

        def setup(units, dt=dt):
            torch.manual_seed(p["seed"])
            model = _mlp(torch, wl.sizes, torch.nn.ReLU, None, dt)
            return model, torch.optim.SGD(model.parameters(), lr=p["learning_rate"])

        def run(state, units, X=X, y=y):
            model, opt = state
            bs = p["batch_size"]
            for i in range(0, units, bs):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(X[i:i + bs]), y[i:i + bs]).backward()
                opt.step()
        cases.append(Case("PyTorch", dt_name, setup, run, threads=threads,
                          note="eager loop, torch.optim.SGD, batches in order"))
    return cases



THREADS = {"W5": (1,), "W6": (1,)}


def w5(wl, threads=1):
    """The same weights in Linear-ReLU-Linear-Softmax, under torch.no_grad(); a call
    takes a NumPy row and gives NumPy back (from_numpy / .numpy() are part of serving)."""
    import numpy as np
    torch = _torch(threads)
    forward, _, batch = wl.KINDS
    cases = []
    for kind in (forward, batch):
        def setup(units, kind=kind):
            model = _mlp(torch, wl.sizes, torch.nn.ReLU, lambda: torch.nn.Softmax(dim=1),
                         torch.float64)
            _set_weights(torch, model, wl.weights)
            model.eval()
            return model, wl.calls(kind)

        def run(state, units):
            model, x = state
            with torch.no_grad():
                for _ in range(units):
                    model(torch.from_numpy(x)).numpy()

        def check(state, units):
            model, x = state
            with torch.no_grad():
                out = model(torch.from_numpy(x)).numpy()
            return {"max |p - NumPy|": float(np.max(np.abs(out - wl.expected(x))))}
        cases.append(Case("PyTorch", "float64", setup, run, check, threads=threads, kind=kind,
                          note="eager nn.Sequential, torch.no_grad(), from_numpy/.numpy()"))
    return cases


def w6(wl, threads=1):
    torch = _torch(threads)
    p = wl.params
    cases = []
    for dt_name, dt, Xn in (("float64", torch.float64, wl.X), ("float32", torch.float32, wl.X32)):
        X = torch.from_numpy(Xn)
        y = torch.from_numpy(wl.y)

        def setup(units, dt=dt):
            torch.manual_seed(p["seed"])
            model = _mlp(torch, wl.sizes, torch.nn.ReLU, None, dt)
            return model, torch.optim.Adam(model.parameters(), lr=p["learning_rate"])

        def run(state, units, X=X, y=y):
            model, opt = state
            n, bs = len(X), p["batch_size"]
            for _ in range(units):
                perm = torch.randperm(n)
                for i in range(0, n, bs):
                    idx = perm[i:i + bs]
                    opt.zero_grad()
                    torch.nn.functional.cross_entropy(model(X[idx]), y[idx]).backward()
                    opt.step()
        cases.append(Case("PyTorch", dt_name, setup, run, threads=threads,
                          note="eager loop, torch.optim.Adam, reshuffled each epoch"))
    return cases
