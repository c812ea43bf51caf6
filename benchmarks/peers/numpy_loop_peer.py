"""A plain NumPy + OpenBLAS training loop: what a careful user writes by hand.

ReLU hidden layers, softmax + cross-entropy output, written out: forward
(``X @ W`` into preallocated buffers, bias, ReLU in place), softmax and the
batch's loss, backward (``A.T @ D`` and ``D @ W.T``, OpenBLAS for all three
products), then the update (W4: plain SGD; W6: Adam with Keras' epsilon
placement, as cyneuron's), all in place. BLAS gets the worker's thread count
(1 or 2); everything else runs on one thread, as NumPy does. Glorot-uniform
initial weights (seed 0). Its GFLOP/s counts the same nominal FLOPs as
cyneuron's rows (see workloads.py).
"""
import numpy as np
from timing import Case

NAME = "NumPy + OpenBLAS loop"
WORKLOADS = ("W4", "W6")


def available():
    return True, ""


def version():
    from peers.openblas_peer import numpy_blas
    info = numpy_blas()
    if info is None:
        return f"NumPy {np.__version__}"
    return f"NumPy {np.__version__}, {info['internal_api']} {info['version']}"


class Loop:
    """The network, its optimizer state and per-batch-size buffers."""

    def __init__(self, sizes, dtype, optimizer, lr, seed=0):
        rng = np.random.default_rng(seed)
        self.dt = np.dtype(dtype)
        self.W, self.b = [], []
        for k, m in zip(sizes[:-1], sizes[1:]):
            lim = np.sqrt(6.0 / (k + m))
            self.W.append(rng.uniform(-lim, lim, (k, m)).astype(dtype))
            self.b.append(np.zeros(m, dtype=dtype))
        self.params = self.W + self.b
        self.grads = [np.empty_like(p) for p in self.params]
        self.tmp = [np.empty_like(p) for p in self.params]
        self.optimizer = optimizer
        self.lr = self.dt.type(lr)
        if optimizer == "adam":
            self.m = [np.zeros_like(p) for p in self.params]
            self.v = [np.zeros_like(p) for p in self.params]
            self.t = 0
        self.sizes = sizes
        self._bufs = {}

    def _buffers(self, nb):
        if nb not in self._bufs:
            acts = [np.empty((nb, m), dtype=self.dt) for m in self.sizes[1:]]
            deltas = [np.empty((nb, m), dtype=self.dt) for m in self.sizes[1:]]
            self._bufs[nb] = acts, deltas, np.arange(nb)
        return self._bufs[nb]

    def step(self, xb, yb):
        """One gradient step on a batch; returns the batch's mean loss."""
        nb = xb.shape[0]
        acts, deltas, rows = self._buffers(nb)
        L = len(self.W)
        a = xb
        for l in range(L):
            z = acts[l]
            np.matmul(a, self.W[l], out=z)
            z += self.b[l]
            if l < L - 1:
                np.maximum(z, 0, out=z)
            a = z
        p = acts[-1]                                   # softmax in place
        p -= p.max(axis=1, keepdims=True)
        np.exp(p, out=p)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[rows, yb]).mean()
        d = deltas[-1]
        np.copyto(d, p)
        d[rows, yb] -= 1
        d /= nb
        gW, gb = self.grads[:L], self.grads[L:]
        for l in range(L - 1, -1, -1):
            a_prev = acts[l - 1] if l > 0 else xb
            np.matmul(a_prev.T, d, out=gW[l])
            np.sum(d, axis=0, out=gb[l])
            if l > 0:
                dp = deltas[l - 1]
                np.matmul(d, self.W[l].T, out=dp)
                dp *= a_prev > 0                      # ReLU's derivative from its output
                d = dp
        self._update()
        return loss

    def _update(self):
        if self.optimizer == "sgd":
            for p, g in zip(self.params, self.grads):
                g *= self.lr
                p -= g
            return
        b1, b2, eps = 0.9, 0.999, 1e-8         # cyneuron's (and scikit-learn's) defaults
        self.t += 1
        lr_t = self.dt.type(self.lr * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t))
        c1, c2 = self.dt.type(1 - b1), self.dt.type(1 - b2)
        for p, g, m, v, tmp in zip(self.params, self.grads, self.m, self.v, self.tmp):
            m *= self.dt.type(b1)
            np.multiply(g, c1, out=tmp)
            m += tmp
            v *= self.dt.type(b2)
            np.multiply(g, g, out=tmp)
            tmp *= c2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += self.dt.type(eps)
            np.divide(m, tmp, out=tmp)
            tmp *= lr_t
            p -= tmp


def _case(wl, dtype, threads, optimizer, note, train):
    def setup(units):
        return Loop(wl.sizes, dtype, optimizer, wl.params["learning_rate"], wl.params["seed"])
    return Case("NumPy + OpenBLAS loop", dtype, setup, train, threads=threads, note=note)


def w4(wl, threads=1):
    bs = wl.params["batch_size"]
    cases = []
    for dtype in ("float64", "float32"):
        X = wl.X if dtype == "float64" else wl.X32

        def train(loop, units, X=X):
            for i in range(0, units, bs):
                loop.step(X[i:i + bs], wl.y[i:i + bs])
        cases.append(_case(wl, dtype, threads, "sgd", train=train,
                           note="forward, backward, SGD written out; batches in order"))
    return cases


def w6(wl, threads=1):
    bs = wl.params["batch_size"]
    cases = []
    for dtype in ("float64", "float32"):
        X = wl.X if dtype == "float64" else wl.X32

        def train(loop, units, X=X):
            rng = np.random.default_rng(0)
            xb = np.empty((bs, X.shape[1]), dtype=X.dtype)
            for _ in range(units):
                perm = rng.permutation(len(X))
                for i in range(0, len(X), bs):
                    idx = perm[i:i + bs]
                    np.take(X, idx, axis=0, out=xb[:len(idx)])
                    loop.step(xb[:len(idx)], wl.y[idx])
        cases.append(_case(wl, dtype, threads, "adam", train=train,
                           note="forward, backward, Adam written out; reshuffled each epoch"))
    return cases
