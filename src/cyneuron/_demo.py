"""The demonstration run of the ``cyneuron`` command (``cyneuron demo``, or ``cyneuron`` alone).

Trains the 3-4-1 sigmoid network of seed tutorial 001 on its five XOR samples
by full-batch gradient descent, first with the compiled core, then the same
training with the NumPy reference, and reports the loss, the predictions
against the targets, the time of each backend and whether they agree bit for
bit. The reference runs within a time budget; if the whole training would
take longer, it runs part of it, its time for the whole run is extrapolated,
and the bits are compared after the epochs it ran.

Exit status: 0 when the backends agree bit for bit, 1 when they do not,
2 for bad arguments. Its options are parsed by :func:`cyneuron.cli.demo_parser`.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from ._version import __version__
from .network import Network

# Seed tutorial 001's data: the label is x1 XOR x2; x3 is a constant 1.
X = np.array([[0, 0, 1],
              [0, 1, 1],
              [1, 0, 1],
              [1, 1, 1],
              [0, 0, 1]], dtype=np.float64)
Y = np.array([[0], [1], [1], [0], [0]], dtype=np.float64)
LAYERS = [3, 4, 1]

PROBE_EPOCHS = 100       # the reference's first, timed chunk
CHUNK_SECONDS = 0.25     # the longest chunk of reference training between budget checks


def _network(args, backend):
    return Network(LAYERS, activation="sigmoid", loss="sse", seed=args.seed,
                   dtype=args.dtype, backend=backend, init="uniform")


def _weight_bytes(net):
    return b"".join(W.tobytes() + b.tobytes() for W, b in net.get_weights())


def _loss_bytes(losses, dtype):
    return np.asarray(losses, dtype=dtype).tobytes()


def _run_reference(args, say):
    """Train with the NumPy reference within the time budget.

    Returns (network, losses, epochs done, seconds). Full-batch gradient
    descent keeps no state between epochs, so training in chunks gives the
    same bits as one call.
    """
    net = _network(args, "numpy")
    width = len(str(args.epochs))
    step = max(1, args.epochs // 10)
    boundaries = set(range(step, args.epochs, step)) | {args.epochs}     # progress lines
    losses, done, seconds = [], 0, 0.0
    while done < args.epochs:
        todo = min(b for b in boundaries if b > done) - done
        if not done:
            todo = min(todo, PROBE_EPOCHS)          # a first, short chunk measures the rate
        else:
            rate = seconds / done
            room = int((args.reference_budget - seconds) / rate)
            if room < 1:
                break
            # short chunks, so that a slower stretch cannot overrun the budget by much
            todo = min(todo, room, max(1, int(CHUNK_SECONDS / rate)))
        start = time.perf_counter()
        history = net.fit(X, Y, epochs=todo, learning_rate=args.lr)
        seconds += time.perf_counter() - start
        losses.extend(history["loss"])
        done += todo
        if done in boundaries:
            say(f"epoch {done:>{width}}/{args.epochs}  loss {losses[-1]:.6g}  "
                f"({seconds:.2f} s)")
    return net, losses, done, seconds


def _epochs(n):
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _format_time(seconds):
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1e3:.1f} ms"


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run the demonstration with the options ``cli.demo_parser`` parsed into
    `args` (`parser` reports a network it cannot build, exit 2); returns the
    exit status."""
    quiet = args.quiet

    def say(line=""):
        if not quiet:
            print(line, flush=True)

    try:
        net = _network(args, "cython")
    except (ValueError, TypeError, ImportError) as exc:
        parser.exit(2, f"cyneuron: error: {exc}\n")

    print(f"cyneuron {__version__}: a {'-'.join(map(str, LAYERS))} sigmoid network learns "
          f"XOR (seed tutorial 001)")
    say(f"data: {len(X)} samples of (x1, x2, 1), label x1 XOR x2")
    print(f"loss 'sse' (half the sum of squared errors), full-batch gradient descent, "
          f"{_epochs(args.epochs)}, learning rate {args.lr:g}, seed {args.seed}, {args.dtype}")

    # --- the compiled core -------------------------------------------------------
    say()
    say('Training with the compiled core (backend="cython"):')
    start = time.perf_counter()
    history = net.fit(X, Y, epochs=args.epochs, learning_rate=args.lr,
                      verbose=0 if quiet else 1)
    core_seconds = time.perf_counter() - start
    final_loss = net.evaluate(X, Y)["loss"]
    print(f"loss {history['loss'][0]:.6g} -> {final_loss:.6g} "
          f"after {_epochs(args.epochs)} ({_format_time(core_seconds)})")

    predictions = net.feedforward(X)[:, 0]
    correct = int(np.sum((predictions > 0.5) == (Y[:, 0] > 0.5)))
    say()
    say("  x1  x2  x3   target   prediction")
    for x, y, a in zip(X.astype(int), Y[:, 0], predictions):
        say(f"  {x[0]:>2}  {x[1]:>2}  {x[2]:>2}   {y:>6.0f}   {a:>10.6f}")
    print(f"{correct}/{len(X)} samples on the right side of 0.5; largest error "
          f"{float(np.max(np.abs(predictions - Y[:, 0]))):.3g}")

    # --- the NumPy reference -------------------------------------------------------
    say()
    say('The same training with the NumPy reference (backend="numpy"):')
    ref_net, ref_losses, ref_epochs, ref_seconds = _run_reference(args, say)
    complete = ref_epochs == args.epochs
    if complete:
        same = (_weight_bytes(ref_net) == _weight_bytes(net)
                and _loss_bytes(ref_losses, net.dtype) == _loss_bytes(history["loss"], net.dtype))
        ref_total = ref_seconds
    else:
        # the compiled core again, for exactly the epochs the reference ran
        short = _network(args, "cython")
        short_history = short.fit(X, Y, epochs=ref_epochs, learning_rate=args.lr)
        same = (_weight_bytes(ref_net) == _weight_bytes(short)
                and _loss_bytes(ref_losses, net.dtype)
                == _loss_bytes(short_history["loss"], net.dtype)
                == _loss_bytes(history["loss"][:ref_epochs], net.dtype))
        ref_total = ref_seconds / ref_epochs * args.epochs
        say(f"stopped after {ref_epochs} of {_epochs(args.epochs)} "
            f"(budget {args.reference_budget:g} s; --reference-budget to change it)")

    # --- summary ---------------------------------------------------------------------
    print()
    note = "" if complete else f"  (estimated from {_epochs(ref_epochs)})"
    print(f"{'compiled core':<16} {_format_time(core_seconds):>10}   "
          f"{core_seconds / args.epochs * 1e6:8.2f} us/epoch")
    print(f"{'NumPy reference':<16} {_format_time(ref_total):>10}   "
          f"{ref_total / args.epochs * 1e6:8.2f} us/epoch{note}")
    if core_seconds > 0:
        print(f"the compiled core is {ref_total / core_seconds:.0f}x faster")
    what = "after all epochs" if complete else f"after {_epochs(ref_epochs)}"
    print(f"loss history and weights {what}: backends agree bit for bit: {same}")
    return 0 if same else 1
