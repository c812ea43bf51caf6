"""onnxruntime, serving the W5 net exported by ``cyneuron.to_onnx``.

The Network with the workload's weights is exported as a float64 graph
(MatMul, Add, Relu, Softmax) and run by an ``InferenceSession`` on the CPU
execution provider with one intra-op and one inter-op thread; a call is
``session.run`` on a NumPy row.
"""
import importlib

from timing import Case

NAME = "onnxruntime"
WORKLOADS = ("W5",)


def available():
    for mod in ("onnxruntime", "onnx"):
        try:
            importlib.import_module(mod)
        except Exception as exc:  # noqa: BLE001
            return False, f"cannot import {mod} ({type(exc).__name__}: {exc})"
    return True, ""


def version():
    import onnxruntime
    return onnxruntime.__version__


def w5(wl, threads=1):
    import numpy as np
    import onnxruntime as ort

    import cyneuron as cn
    net = cn.Network(list(wl.sizes), activation="relu", output_activation="softmax",
                     loss="categorical_crossentropy")
    net.set_weights(wl.weights)
    blob = cn.to_onnx(net).SerializeToString()
    forward, _, batch = wl.KINDS
    cases = []
    for kind in (forward, batch):
        def setup(units, kind=kind):
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            sess = ort.InferenceSession(blob, opts, providers=["CPUExecutionProvider"])
            return sess, sess.get_inputs()[0].name, sess.get_outputs()[0].name, wl.calls(kind)

        def run(state, units):
            sess, name, out, x = state
            feed = {name: x}
            for _ in range(units):
                sess.run([out], feed)

        def check(state, units):
            sess, name, out, x = state
            got = sess.run([out], {name: x})[0]
            return {"max |p - NumPy|": float(np.max(np.abs(got - wl.expected(x))))}
        cases.append(Case("onnxruntime (cn.to_onnx)", "float64", setup, run, check,
                          threads=threads, kind=kind,
                          note="InferenceSession, CPU provider, 1 thread"))
    return cases
