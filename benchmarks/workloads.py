"""The benchmark workloads W1-W6 of SPEC section 4 (and W7, issue 29): data, sizes, goals.

Every peer reads its data and hyper-parameters from here, so all of them do
the same work.  A workload is measured in *units* (see ``unit``); a peer's
``run(state, units)`` does that many units, and the report scales the median
time to the full workload (``full_units``) when only a part was measured.

W1 seed-tiny      seed 001: 3-4-1 sigmoid net, 5 samples, loss "sse" (gradient
                  a - y), full-batch gradient descent, lr 1, 60000 iterations.
W2 per-sample SGD seed 000: 2-2-1 sigmoid net, 4 samples, loss "mse", lr 0.1,
                  1000 epochs of 4 single-sample updates, no shuffling.
W3 digits         scikit-learn's load_digits, 75/25 split (random_state 0),
                  standardised with the training set's mean/std, 64-64-10,
                  ReLU + softmax cross-entropy, Adam lr 1e-3, batch 32,
                  50 epochs; time and test accuracy.
W4 throughput     60000 x 784 standard-normal inputs (seed 0), random labels
                  0-9, 784-256-256-10 ReLU + softmax cross-entropy, plain SGD
                  lr 0.01, batch 256 in order, one epoch; samples/s, GFLOP/s.

W5 latency        one row (and a batch of 1000) through a 20-64-3 ReLU/softmax
                  net with fixed weights: Network.feedforward, the estimators'
                  predict_proba; time per call.
W6 mid-size       4000 x 40 standard-normal inputs (seed 0), random labels 0-9
                  (MNIST-1D's shape), 40-100-100-10 ReLU + softmax cross-entropy,
                  Adam lr 1e-3, batch 200, reshuffled every epoch, 100 epochs;
                  GFLOP/s on 1 and 2 threads, against the machine's GEMM peak.
W7 sparse         (issue 29) 10000 x 20000 TF-IDF-like CSR rows, 100 non-zeros each
                  (density 0.5%), 10 classes, 20000-128-10 ReLU + softmax cross-entropy,
                  Adam lr 1e-3, batch 128, reshuffled, 2 epochs; time against
                  scikit-learn's MLPClassifier on the same matrix, and test accuracy.

FLOP count (W4, W6).  A dense layer k -> m on n samples does n*k*m multiply-adds
(MACs) forward; backward does n*k*m for dW = A^T D and n*k*m for the error
D W^T sent to the previous layer.  Counting 2 FLOPs per MAC:

    FLOPs per sample = 2*S (forward) + 4*S (backward) = 6*S,  S = sum(k*m)
                     = 6 * (784*256 + 256*256 + 256*10) = 1,612,800

i.e. 96.8 GFLOP per epoch of 60000 samples.  This is the conventional
"3 x forward" count.  No library computes the error for the input layer
(D W1^T), so the work actually done is 6*S - 2*784*256 = 1,211,392 FLOPs per
sample (75% of the nominal count); we report the nominal count, as the
peers' numbers in SPEC section 4 do.  Activation, softmax, loss and update
costs are not counted.  The OpenBLAS reference runs ``X @ W`` for the three
layer shapes at batch 256 (2*S FLOPs per sample).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np


def initial_weights(sizes, seed):
    """The tutorials' start: W uniform in [-1, 1) (``2 * random - 1``), b = 0."""
    rng = np.random.default_rng(seed)
    return [(2 * rng.random((k, m)) - 1, np.zeros(m)) for k, m in zip(sizes[:-1], sizes[1:])]


def sse(a, y):
    """Half the sum of squared errors (cyneuron's loss="sse")."""
    return float(0.5 * np.sum((np.asarray(a, float) - y) ** 2))


def mse(a, y):
    """Mean of squared errors over all elements (cyneuron's loss="mse")."""
    return float(np.mean((np.asarray(a, float) - y) ** 2))


@dataclass
class Workload:
    id: str
    title: str
    sizes: tuple
    unit: str                 # what the units of ``run`` are (plural)
    full_units: int           # units in the whole workload
    step: int = 1             # units are measured in multiples of this
    pilot_units: int = 1      # size of the pilot run that estimates the cost
    budget_s: float = 2.0     # target time of one timed run in a full run
    per: str = ""             # what the headline time is per ("iteration", ...)
    per_units: float = 1.0    # how many units that is
    goal: str = ""            # SPEC section 4 goal, as text
    threads: tuple = (1,)     # thread counts each peer runs on (a peer's THREADS may narrow it)
    params: dict = field(default_factory=dict)


class W1(Workload):
    def __init__(self):
        super().__init__("W1", "seed-tiny: 3-4-1 sigmoid, 5 samples, full-batch GD, lr 1, "
                         "60000 iterations", (3, 4, 1), unit="iterations", full_units=60000,
                         pilot_units=500, budget_s=2.0, per="iteration",
                         goal="<= 0.25 us per iteration",
                         params=dict(activation="sigmoid", loss="sse", learning_rate=1.0))
        self.X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1], [0, 0, 1]], dtype=float)
        self.y = np.array([[0], [1], [1], [0], [0]], dtype=float)
        self.weights = initial_weights(self.sizes, seed=1)
        self.loss = sse
        self.goal_per_unit_s = 0.25e-6
        # numerics="portable" (issue 30, item 4): inline transcendentals have no
        # per-call cost, NumPy mode's 1-2 value calls of NumPy's exp loop do
        self.goal_portable_vs_numpy = 0.8


class W2(Workload):
    def __init__(self):
        super().__init__("W2", "per-sample SGD: 2-2-1 sigmoid, 4 samples, MSE, lr 0.1, "
                         "1000 epochs x 4 updates", (2, 2, 1), unit="epochs (4 updates each)",
                         full_units=1000, pilot_units=20, budget_s=2.0, per="update",
                         per_units=0.25, goal="<= 0.07 us per update",
                         params=dict(activation="sigmoid", loss="mse", learning_rate=0.1))
        self.X = np.array([[-2, -1], [25, 6], [17, 4], [-15, -6]], dtype=float)
        self.y = np.array([[1], [0], [0], [1]], dtype=float)
        self.weights = initial_weights(self.sizes, seed=0)
        self.loss = mse
        self.goal_per_unit_s = 4 * 0.07e-6
        # numerics="portable" (issue 30, item 4): at most this times the
        # hand-written floor measured in the same run (peers/floor_peer.py)
        self.goal_portable_vs_floor = 1.15


class W3(Workload):
    def __init__(self):
        super().__init__("W3", "digits: 64-64-10 ReLU/softmax CE, Adam 1e-3, batch 32, "
                         "50 epochs", (64, 64, 10), unit="epochs", full_units=50,
                         pilot_units=2, budget_s=4.0, per="50 epochs", per_units=50,
                         goal="<= 45 ms for 50 epochs, test accuracy >= 0.97",
                         params=dict(learning_rate=1e-3, batch_size=32, seed=0))
        self.goal_total_s = 0.045
        self.goal_accuracy = 0.97

    @cached_property
    def data(self):
        """(X_train, y_train, X_test, y_test), float64, integer labels."""
        try:
            from sklearn.datasets import load_digits
            from sklearn.model_selection import train_test_split
        except ImportError as exc:
            from timing import Unsupported
            raise Unsupported(f"W3 needs scikit-learn's load_digits ({exc})") from None
        X, y = load_digits(return_X_y=True)
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
        mean = Xtr.mean(axis=0)
        std = Xtr.std(axis=0)
        std[std == 0] = 1.0                       # constant pixels (as StandardScaler)
        return ((Xtr - mean) / std, ytr.astype(np.int64),
                (Xte - mean) / std, yte.astype(np.int64))

    @staticmethod
    def accuracy(pred_labels, y):
        return float(np.mean(np.asarray(pred_labels) == y))


class W4(Workload):
    N, BATCH = 60000, 256

    def __init__(self):
        sizes = (784, 256, 256, 10)
        macs = sum(k * m for k, m in zip(sizes[:-1], sizes[1:]))
        super().__init__("W4", "throughput: 60000x784 random, 784-256-256-10 ReLU/softmax CE, "
                         "SGD lr 0.01, batch 256, one epoch", sizes, unit="samples",
                         full_units=self.N, step=self.BATCH, pilot_units=2 * self.BATCH,
                         budget_s=6.0, per="epoch", per_units=self.N,
                         goal=">= 0.7x OpenBLAS GFLOP/s on 1 thread, >= 1.0x on 2 and at "
                              "least the NumPy loop's speed on 2; same bits for any thread "
                              "count",
                         params=dict(learning_rate=0.01, batch_size=self.BATCH, seed=0))
        self.macs_per_sample = macs
        self.flops_per_sample = 6 * macs            # see the module docstring
        self.gemm_flops_per_sample = 2 * macs       # X @ W only
        self.flops_per_unit = self.flops_per_sample          # a unit is a sample
        self.goal_vs_blas = {1: 0.7, 2: 1.0}
        self.goal_vs_loop = {2: 1.0}                # the NumPy + OpenBLAS training loop
        self.threads = (1, 2)

    @cached_property
    def X(self):
        return np.random.default_rng(0).standard_normal((self.N, self.sizes[0]))

    @cached_property
    def y(self):
        return np.random.default_rng(1).integers(0, self.sizes[-1], self.N)

    @cached_property
    def X32(self):
        return self.X.astype(np.float32)


class W5(Workload):
    """One row through a small classifier: the cost of serving a request.

    A unit is one call; the rows are of three kinds (``KINDS``): one row
    through ``Network.feedforward`` (or the peer's plain forward), one row
    through an estimator's ``predict_proba``, and one call on a batch of
    1000 rows. Every peer loads the same weights (``weights``), and its check
    reports how far its output is from the NumPy forward (``expected``).
    """
    BATCH = 1000
    KINDS = ("forward, 1 row", "predict_proba, 1 row", f"predict_proba, {BATCH} rows")

    def __init__(self):
        super().__init__("W5", "latency: one row through 20-64-3 ReLU/softmax (and a batch "
                         "of 1000)", (20, 64, 3), unit="calls", full_units=20000,
                         pilot_units=200, budget_s=1.0, per="call",
                         goal="forward <= 1.5 us, predict_proba <= 20 us per row; 1000 rows "
                              ">= 2x faster than scikit-learn's predict_proba")
        rng = np.random.default_rng(5)
        self.weights = [(rng.standard_normal((k, m)) * np.sqrt(2 / k),
                         0.1 * rng.standard_normal(m))
                        for k, m in zip(self.sizes[:-1], self.sizes[1:])]
        self.X = rng.standard_normal((self.BATCH, self.sizes[0]))
        self.row = self.X[:1].copy()
        self.goal_row_s = {self.KINDS[0]: 1.5e-6, self.KINDS[1]: 20e-6}
        self.goal_batch_vs_sklearn = 2.0

    def expected(self, X):
        """The forward in plain NumPy (BLAS sums: a yardstick, not the bits)."""
        (W1, b1), (W2, b2) = self.weights
        z = np.maximum(X @ W1 + b1, 0) @ W2 + b2
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def sklearn_model(self):
        """scikit-learn's MLPClassifier holding ``weights`` (classes 0, 1, 2)."""
        import warnings

        from sklearn.neural_network import MLPClassifier
        clf = MLPClassifier(hidden_layer_sizes=self.sizes[1:-1], max_iter=1, random_state=0)
        y = np.arange(self.BATCH) % self.sizes[-1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(self.X, y)
        clf.coefs_ = [W.copy() for W, _ in self.weights]
        clf.intercepts_ = [b.copy() for _, b in self.weights]
        return clf

    def calls(self, kind):
        """The input of one call of this kind."""
        return self.X if kind == self.KINDS[2] else self.row


class W6(Workload):
    N, BATCH = 4000, 200

    def __init__(self):
        sizes = (40, 100, 100, 10)
        macs = sum(k * m for k, m in zip(sizes[:-1], sizes[1:]))
        super().__init__("W6", "mid-size: 4000x40 random, 40-100-100-10 ReLU/softmax CE, "
                         "Adam 1e-3, batch 200, 100 epochs", sizes, unit="epochs",
                         full_units=100, pilot_units=2, budget_s=2.0, per="100 epochs",
                         per_units=100,
                         goal=">= 45 GFLOP/s on 1 thread (>= 3x scikit-learn), >= 1.7x that "
                              "on 2 threads; same bits for any thread count",
                         params=dict(learning_rate=1e-3, batch_size=self.BATCH, seed=0))
        self.macs_per_sample = macs
        self.flops_per_sample = 6 * macs            # as W4 (see the module docstring)
        self.flops_per_unit = self.N * self.flops_per_sample      # one epoch
        self.gemm_flops_per_unit = self.N * 2 * macs              # forward X @ W only
        self.goal_gflops = 45.0
        self.goal_vs_sklearn = 3.0
        self.goal_2_threads = 1.7
        self.threads = (1, 2)

    @cached_property
    def X(self):
        return np.random.default_rng(0).standard_normal((self.N, self.sizes[0]))

    @cached_property
    def y(self):
        return np.random.default_rng(1).integers(0, self.sizes[-1], self.N)

    @cached_property
    def X32(self):
        return self.X.astype(np.float32)


class W7(Workload):
    """Sparse input (issue 29): a TF-IDF-like CSR matrix, never densified.

    10,000 training and 2,000 test rows of 20,000 features, 100 non-zeros a
    row (density 0.5%), 10 classes. Each class has 400 topic words; a row
    draws a Binomial(100, TOPIC) number of its class's topic words and fills
    the rest of its 100 columns from the whole vocabulary, with values
    uniform in [0.1, 1.1) normalised to unit length (as TF-IDF rows are).
    Every peer trains on the same CSR matrix (float64).
    """
    N, N_TEST, FEATURES, NNZ, CLASSES, BATCH = 10000, 2000, 20000, 100, 10, 128
    TOPIC = 0.08           # about 0.84 test accuracy after the 2 epochs

    def __init__(self):
        sizes = (self.FEATURES, 128, self.CLASSES)
        super().__init__("W7", "sparse: 10000x20000 TF-IDF-like CSR (density 0.5%), "
                         "20000-128-10 ReLU/softmax CE, Adam 1e-3, batch 128, 2 epochs",
                         # step 2: every timed run is the whole workload, so that the
                         # accuracy is always the one after 2 epochs
                         sizes, unit="epochs", full_units=2, step=2, pilot_units=2,
                         budget_s=8.0,
                         per="2 epochs", per_units=2,
                         goal=">= 4x scikit-learn's training speed on 1 thread on the same "
                              "CSR matrix, test accuracy within noise of scikit-learn's",
                         params=dict(learning_rate=1e-3, batch_size=self.BATCH, seed=0))
        self.goal_vs_sklearn = 4.0
        self.threads = (1, 2)

    def accuracy_noise(self, acc):
        """Two standard errors of the difference of two test accuracies near acc."""
        return 2 * np.sqrt(2 * acc * (1 - acc) / self.N_TEST) + 1 / self.N_TEST

    def _rows(self, n, seed):
        import scipy.sparse as sp
        rng = np.random.default_rng(seed)
        y = rng.integers(0, self.CLASSES, n)
        topics = np.random.default_rng(7).permutation(self.FEATURES)[:self.CLASSES * 400]
        topics = topics.reshape(self.CLASSES, 400)
        cols = np.empty((n, self.NNZ), dtype=np.int32)
        for i in range(n):
            a = rng.choice(topics[y[i]], rng.binomial(self.NNZ, self.TOPIC), replace=False)
            b = rng.choice(self.FEATURES, 2 * self.NNZ, replace=False)
            b = b[~np.isin(b, a)][:self.NNZ - a.size]
            cols[i] = np.sort(np.concatenate([a, b]))
        data = rng.random((n, self.NNZ)) + 0.1
        data /= np.sqrt((data * data).sum(axis=1, keepdims=True))
        X = sp.csr_matrix((data.ravel(), cols.ravel(),
                           np.arange(0, n * self.NNZ + 1, self.NNZ)),
                          shape=(n, self.FEATURES))
        return X, y

    @cached_property
    def data(self):
        """(X_train, y_train, X_test, y_test): CSR float64 matrices, integer labels."""
        try:
            import scipy.sparse  # noqa: F401
        except ImportError as exc:
            from timing import Unsupported
            raise Unsupported(f"W7 needs scipy ({exc})") from None
        return (*self._rows(self.N, 0), *self._rows(self.N_TEST, 1))

    @staticmethod
    def accuracy(pred_labels, y):
        return float(np.mean(np.asarray(pred_labels) == y))


WORKLOADS = {"W1": W1, "W2": W2, "W3": W3, "W4": W4, "W5": W5, "W6": W6, "W7": W7}


def get(wid: str) -> Workload:
    return WORKLOADS[wid.upper()]()


def one_hot(labels, n_classes, dtype=np.float64):
    out = np.zeros((len(labels), n_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out
