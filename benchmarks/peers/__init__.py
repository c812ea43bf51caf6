"""One module per peer, each with the same small interface.

A peer module defines

    NAME                      display name
    available() -> (bool, str)  whether it can run here; if not, why not
    version() -> str          version string for the report
    w1(wl, threads) ... w4(wl, threads) -> list[timing.Case]
    WORKLOADS (optional)      the workload ids it takes part in (default: all)
    ENV (optional)            extra environment variables for its worker processes

A ``wN`` function returns the configurations (rows) it measures for that
workload, or raises ``timing.Unsupported("reason")`` when the peer cannot
run it (a missing ``wN`` means the same).  ``threads`` is the thread count
the runner set up for this worker process (1 except in W4).

The runner imports each peer in its own worker process, so a peer that
cannot be imported, hangs or crashes only loses its own rows.
"""
import importlib

# Report order: cyneuron first (the ratios are against it), then the peers.
PEERS = ["cyneuron", "openblas", "numpy_loop", "torch", "sklearn", "onnxruntime", "fann", "cynn",
         "floor"]


def load(name):
    return importlib.import_module(f"peers.{name}_peer")
