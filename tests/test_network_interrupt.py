"""cyneuron.network: Ctrl-C during training (SPEC section 5).

A SIGINT must reach the caller as KeyboardInterrupt within half a second,
also while the compiled core trains without the GIL, and the interrupted
call must leave the network exactly as before it: weights, optimizer state
(moments, step count, beta powers), optimizer choice and Generator position,
to the bit. The same for a callback that raises KeyboardInterrupt or
SystemExit, and for an estimator's fit (it trains through the network).
Afterwards the network (and the core's worker pool) trains as if nothing
had happened.

Oracles: the model's bytes before and after; a fresh copy's bits. Every
interrupted fit here would run for several seconds if the signal were not
honoured, so each test fails (slowly) on a core that ignores it.
"""
import signal
import threading
import time

import numpy as np
import pytest
from helpers import bits

import cyneuron as cn
from cyneuron import _native

LATENCY = 0.5           # seconds from the signal to the exception (SPEC section 5)
DELAY = 0.25            # seconds into the fit when the signal is sent
BACKENDS = ["cython", "numpy"]
DTYPES = ["float64", "float32"]
# (fit arguments, epochs that take several seconds on each backend)
KINDS = {
    "full-batch sgd": (dict(), {"cython": 1500, "numpy": 40}),
    "batch 32 sgd": (dict(batch_size=32), {"cython": 1500, "numpy": 40}),
    "batch 64 adam": (dict(batch_size=64, optimizer="adam"), {"cython": 1500, "numpy": 40}),
}

pytestmark = pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                                reason="signal handlers run in the main thread only")


@pytest.fixture(autouse=True)
def default_sigint():
    """Python's own SIGINT handler (KeyboardInterrupt), whatever the runner set."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def data(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 20)), rng.standard_normal((n, 1))


def state_of(net):
    return (bits(net.get_weights()), net.state.opt_state.tobytes(), net.state.opt_scalars.tobytes(),
            repr(net.optimizer), str(net.rng.bit_generator.state))


def trained(backend="cython", dtype="float64", n_threads=1):
    """A wide network after a short Adam fit: optimizer state and a moved
    Generator to lose."""
    net = cn.Network([20, 128, 128, 1], seed=0, dtype=dtype, backend=backend,
                     n_threads=n_threads)
    X, y = data(200, seed=1)
    net.fit(X, y, epochs=2, batch_size=16, optimizer="adam")
    return net


def interrupted(call, delay=DELAY):
    """Run call() with SIGINT sent to the main thread `delay` s in; the seconds
    from the signal to the KeyboardInterrupt (fails if call() returns)."""
    sent = []

    def fire():
        sent.append(time.perf_counter())
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    timer = threading.Timer(delay, fire)
    timer.start()
    try:
        call()
    except KeyboardInterrupt:
        caught = time.perf_counter()
    else:
        timer.cancel()
        pytest.fail("the call finished before the signal: size it larger")
    finally:
        timer.join()
    assert sent, "KeyboardInterrupt before the signal was sent"
    return caught - sent[0]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", list(KINDS))
def test_sigint_stops_fit_fast_and_restores_everything(backend, dtype, kind):
    fit_kw, epochs = KINDS[kind]
    net = trained(backend, dtype)
    before = state_of(net)
    X, y = data()
    latency = interrupted(lambda: net.fit(X, y, epochs=epochs[backend], **fit_kw))
    assert latency < LATENCY, f"KeyboardInterrupt {latency:.3f} s after SIGINT"
    assert state_of(net) == before


# the tutorials' nets take the core's fused tiny-net loop: a full batch of 5
# rows (W1's shape; ~250 ns an epoch), and per-sample SGD over epochs of
# 300000 steps, longer than the loop's look interval
TINY = {
    "tiny full batch": ([3, 4, 1], 5, dict(), 20_000_000),
    "tiny per-sample, long epochs": ([2, 2, 1], 300_000, dict(batch_size=1, shuffle=False), 300),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", list(TINY))
def test_sigint_stops_the_tiny_net_loop(kind, dtype):
    sizes, n, fit_kw, epochs = TINY[kind]
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((n, sizes[0])), rng.random((n, 1))
    net = cn.Network(sizes, seed=0, dtype=dtype)
    net.fit(X[:5], y[:5], epochs=2, optimizer="adam")      # state the SGD fit would reset
    before = state_of(net)
    latency = interrupted(lambda: net.fit(X, y, epochs=epochs, learning_rate=0.1, **fit_kw))
    assert latency < LATENCY, f"KeyboardInterrupt {latency:.3f} s after SIGINT"
    assert state_of(net) == before


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit])
def test_callback_raising_base_exception_restores_everything(backend, exc):
    net = trained(backend)
    before = state_of(net)
    X, y = data(400)

    def callback(epoch, logs):
        if epoch == 2:
            raise exc("stop")

    with pytest.raises(exc):
        net.fit(X, y, epochs=10, batch_size=50, optimizer="sgd", callbacks=[callback])
    assert state_of(net) == before


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_after_an_interrupt_fit_gives_the_bits_of_a_fresh_copy(dtype, n_threads, counted_pool):
    net, twin = trained(dtype=dtype, n_threads=n_threads), trained(dtype=dtype,
                                                                    n_threads=n_threads)
    X, y = data()
    # full batch: the interrupt lands inside a batch's products as often as between batches
    interrupted(lambda: net.fit(X, y, epochs=1500, optimizer="adam"))
    jobs = _native.core().worker_jobs()
    for n in (net, twin):
        n.fit(X, y, epochs=3, batch_size=256, optimizer="adam")
        n.fit(X, y, epochs=2)
    assert state_of(net) == state_of(twin)
    if n_threads > 1:
        assert _native.core().worker_jobs() > jobs, "the worker pool ran nothing afterwards"


def test_interrupt_leaves_the_network_usable_by_other_threads():
    """The writer's lock is released: another thread can fit it at once."""
    net = trained()
    X, y = data()
    interrupted(lambda: net.fit(X, y, epochs=1500))
    errors = []
    worker = threading.Thread(target=lambda: errors.append(
        net.fit(X[:100], y[:100], epochs=1) and None))
    worker.start()
    worker.join()
    assert errors == [None]


def test_sigint_stops_estimator_fit_and_restores_it():
    pytest.importorskip("sklearn")
    X, y = data()
    reg = cn.MLPRegressor(hidden_layer_sizes=(128, 128), max_iter=3, batch_size=64,
                          warm_start=True, random_state=0)
    with pytest.warns(Warning):          # ConvergenceWarning after 3 epochs
        reg.fit(X[:200], y[:200, 0])
    net = reg.network_
    before = state_of(net), bits(reg.coefs_[0]), reg.n_iter_
    reg.set_params(max_iter=2000, tol=0.0, n_iter_no_change=10000)
    latency = interrupted(lambda: reg.fit(X, y[:, 0]))
    assert latency < LATENCY
    assert reg.network_ is net
    assert (state_of(net), bits(reg.coefs_[0]), reg.n_iter_) == before
