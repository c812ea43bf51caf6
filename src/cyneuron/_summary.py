"""Keras-style text summaries of a Network or a fitted estimator (``summary()``)."""
from __future__ import annotations

import numpy as np


def _act_name(act):
    return getattr(act, "spec", None) or getattr(act, "name", str(act))


def _table(rows, header):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("{:<%d}" % w for w in widths[:-1]) + "  {:>%d}" % widths[-1]
    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    out = [rule, line.format(*header), rule]
    out += [line.format(*map(str, r)) for r in rows]
    out.append(rule)
    return out


def _optimizer_lines(net):
    opt = getattr(net, "optimizer", None)
    if opt is None:
        return ["optimizer: none yet (not trained, or reset)"]
    params = ", ".join(f"{k}={v:g}" for k, v in opt.params.items())
    state = net.state
    steps = int(state.opt_scalars[0])
    nonzero = int(np.count_nonzero(state.opt_state))
    return [f"optimizer: {opt.name}({params}); {steps} update steps taken, "
            f"{nonzero} non-zero state values"]


def network_lines(net):
    """The summary of a Network, as a list of lines."""
    sizes = list(net.layer_sizes)
    rows = [("input", f"(None, {sizes[0]})", "-", 0)]
    for i, (k, m) in enumerate(zip(sizes[:-1], sizes[1:])):
        name = "output" if i == len(sizes) - 2 else f"dense_{i + 1}"
        drop = net.dropout[i] if i < len(net.dropout) else 0
        act = _act_name(net.activations[i]) + (f" (dropout {drop:g})" if drop else "")
        rows.append((name, f"(None, {m})", act, k * m + m))
    total = sum(r[3] for r in rows)
    lines = [f"Network: {'-'.join(map(str, sizes))}, loss {net.loss.name!r}"]
    lines += _table(rows, ("Layer", "Output shape", "Activation", "Param #"))
    nbytes = total * net.dtype.itemsize
    lines.append(f"Total params: {total:,} ({nbytes:,} bytes)")
    lines.append(f"dtype: {net.dtype.name}; backend: {net.backend}; "
                 f"init: {getattr(net, 'init', '?')}; "
                 f"init seed: {_seed(getattr(net, '_seed', None))}")
    l1, l2 = getattr(net, "l1", 0.0), getattr(net, "l2", 0.0)
    if l1 or l2:
        lines.append(f"penalties: l1={l1:g}, l2={l2:g} (per batch, biases not penalised)")
    lines += _optimizer_lines(net)
    return lines


def _seed(seed):
    return "not recorded" if seed is None else str(seed)


def _digest(obj):
    fn = getattr(obj, "digest", None)
    if callable(fn):
        try:
            return [f"digest: {fn()}"]
        except Exception as exc:       # a summary must not fail because of the digest
            return [f"digest: unavailable ({exc})"]
    return []


def summary_text(model) -> str:
    """The summary of a Network or a fitted MLPClassifier / MLPRegressor (a
    tabular pipeline's is :func:`cyneuron.tabular.pipeline_summary`)."""
    net = getattr(model, "network_", None)
    if net is None:
        if not hasattr(model, "layer_sizes"):
            raise TypeError(f"summary() needs a Network or a fitted estimator, got "
                            f"{type(model).__name__}")
        return "\n".join(network_lines(model) + _digest(model))
    # n_iter_ counts the last call's epochs (scikit-learn's); loss_curve_ has them all
    curve = getattr(model, "loss_curve_", None)
    epochs = model.n_iter_ if curve is None else len(curve)
    lines = [f"{type(model).__name__} (scikit-learn estimator), {epochs} epochs "
             f"trained, random_state={model.random_state}"]
    classes = getattr(model, "classes_", None)
    if classes is not None:
        shown = ", ".join(map(str, classes[:10])) + (", ..." if len(classes) > 10 else "")
        lines.append(f"classes ({len(classes)}): {shown}")
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        shown = ", ".join(map(str, names[:10])) + (", ..." if len(names) > 10 else "")
        lines.append(f"features ({len(names)}): {shown}")
    if getattr(model, "loss_", None) is not None:
        lines.append(f"last training loss: {model.loss_:.6g}")
    sub = network_lines(net)
    if getattr(net, "_seed", None) is None:
        sub = [s.replace("init seed: not recorded", f"init seed: random_state="
                         f"{model.random_state}") for s in sub]
    lines += sub + _digest(model)
    return "\n".join(lines)


def print_summary(model) -> None:
    """Print :func:`summary_text`."""
    print(summary_text(model))
