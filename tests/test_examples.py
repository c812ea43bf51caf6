"""examples/ and ``python -m cyneuron`` (cyneuron.__main__, _demo) run and print the tutorials' numbers.

Oracles: the tutorials' printed numbers; exact bits between the two backends.

Each example runs once as a subprocess (module-scoped fixtures) and several
tests read its output. About 15 s in all on the project's machines; seed 001
dominates (60000 iterations on the NumPy reference).
"""
import importlib.metadata
import pathlib
import re
import subprocess
import sys

import pytest

import cyneuron.__main__ as cli

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TIMEOUT = 240          # seconds per subprocess: generous, for loaded machines
AGREE = "backends agree bit for bit: True"


def run(*args):
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, (
        f"{args} exited with {proc.returncode}\n--- stdout\n{proc.stdout}\n"
        f"--- stderr\n{proc.stderr}")
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout


def example(name, *args):
    return run(EXAMPLES / name, *args)


def predictions(out):
    """(target, prediction) pairs from the examples' "target T  prediction P" lines."""
    pairs = re.findall(r"target (\d)\s+prediction ([-\d.e]+)", out)
    assert pairs, out
    return [(float(t), float(p)) for t, p in pairs]


def losses(out, pattern):
    return [float(v) for v in re.findall(pattern, out)]


# --- seed 000 ----------------------------------------------------------------------

@pytest.fixture(scope="module", params=["cython", "numpy"])
def seed000(request):
    return example("seed000_neuron_and_network.py", "--backend", request.param)


def test_seed000_oracles(seed000):
    assert "Neuron.feedforward([2, 3]) = 0.9990889488055994\n" in seed000
    assert "Network.feedforward([2, 3]) = 0.7216325609518421\n" in seed000
    assert "mse(y_true=[1, 0, 0, 1], y_pred=[0, 0, 0, 0]) = 0.5\n" in seed000


def test_seed000_training(seed000):
    values = losses(seed000, r"epoch +\d+/1000  loss ([\d.]+)")
    assert len(values) == 11, seed000
    assert all(b < a for a, b in zip(values, values[1:])), values
    assert values[-1] < 0.01
    emily = re.search(r"Emily \(-7, -3\): ([\d.]+) -> F", seed000)
    frank = re.search(r"Frank \(20, 2\): +([\d.]+) -> M", seed000)
    assert emily and float(emily.group(1)) > 0.9, seed000
    assert frank and float(frank.group(1)) < 0.1, seed000


def test_seed000_backends_agree(seed000):
    assert "final weights: " + AGREE in seed000
    # the one-call fit(batch_size=1, shuffle=False) gives the train_step loop's bits
    assert "fit(batch_size=1, shuffle=False) gives the loop's bits: True" in seed000
    assert re.search(r"(?m)^fit\(batch_size=1, shuffle=False\) +[\d.]+ s +[\d.]+ s ", seed000)


# --- seed 001 ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed001():
    return example("seed001_three_layer.py")


def test_seed001_converges(seed001):
    pairs = predictions(seed001)
    assert [t for t, _ in pairs] == [0, 1, 1, 0, 0]
    assert all(abs(p - t) < 0.02 for t, p in pairs), pairs
    for i in range(0, 60001, 10000):
        assert f"iteration {i}\n" in seed001


def test_seed001_error_shrinks(seed001):
    # the largest |a - y| at each report: with the corrected derivative it falls
    rows = re.findall(r"error \(a - y\): \[([^\]]+)\]", seed001)
    assert len(rows) == 7, seed001
    worst = [max(abs(float(v)) for v in row.split()) for row in rows]
    assert all(b < a for a, b in zip(worst, worst[1:])), worst


def test_seed001_backends_agree(seed001):
    assert "final weights: " + AGREE in seed001


# --- seed 002 ----------------------------------------------------------------------

@pytest.fixture(scope="module", params=["cython", "numpy"])
def seed002(request):
    return example("seed002_two_layer.py", "--backend", request.param)


def test_seed002_converges(seed002):
    values = losses(seed002, r"(?m)^ +\d+   ([\d.]+)$")
    assert len(values) == 11, seed002
    assert values[-1] < 0.01 < values[0]
    assert "the loss fell at every iteration: True" in seed002
    pairs = predictions(seed002)
    assert [t for t, _ in pairs] == [0, 1, 1, 0]
    assert all(abs(p - t) < 0.05 for t, p in pairs), pairs


def test_seed002_backends_agree(seed002):
    assert "final weights and loss history: " + AGREE in seed002


# --- seed 003 ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed003():
    return example("seed003_binary_classifier.py")


def test_seed003_tutorial_output(seed003):
    values = losses(seed003, r"Epoch (?:\d+), Loss: ([-\d.e]+)")
    epochs = [int(e) for e in re.findall(r"Epoch (\d+), Loss:", seed003)]
    assert epochs == list(range(0, 10000, 1000)) * 2
    # the tutorial's initialisation (np.random.seed(0), randn * 0.01, zero biases)
    assert values[0] == pytest.approx(0.2507006687, abs=1e-9)
    assert values[10] == values[0]          # both runs start from the same weights


def test_seed003_plateau_and_escape(seed003):
    pairs = predictions(seed003)
    assert len(pairs) == 6, seed003
    tutorial, escape = pairs[:3], pairs[3:]
    # lr 0.1 for 10000 epochs: every prediction is the mean label, 1/3
    assert all(abs(p - 1 / 3) < 0.01 for _, p in tutorial), tutorial
    assert "stuck on the plateau" in seed003
    # lr 10 from the same start: learned
    assert [t for t, _ in escape] == [0, 1, 0]
    assert all(abs(p - t) < 0.05 for t, p in escape), escape


def test_seed003_backends_agree(seed003):
    assert "final weights of both runs: " + AGREE in seed003


# --- seed 004 ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed004():
    return example("seed004_layers_relu_softmax.py")


def test_seed004_softmax(seed004):
    assert "x_i / sum_j x_j:   [ 1.   0.5 -0.5]" in seed004
    probs = re.search(r"exp\(x_i\) / sum_j exp\(x_j\): \[([^\]]+)\]", seed004).group(1)
    assert [float(p) for p in probs.split()] == pytest.approx([0.705385, 0.259496, 0.035119],
                                                              abs=1e-6)


def test_seed004_mse_gradient_has_the_factor_two(seed004):
    grad = {name: float(v) for name, v in
            re.findall(r"(?m)^(backpropagation|central differences|\(2/n\)|the tutorial's)"
                       r".*= (-?[\d.]+)$", seed004)}
    assert len(grad) == 4, seed004
    assert grad["backpropagation"] == pytest.approx(grad["central differences"], abs=1e-6)
    assert grad["backpropagation"] == pytest.approx(grad["(2/n)"], abs=1e-7)
    assert grad["backpropagation"] == pytest.approx(2 * grad["the tutorial's"], abs=1e-7)


def test_seed004_relu_learns_a_product_and_linear_does_not(seed004):
    test_mse = dict(re.findall(r"hidden activation (\w+) .* test MSE ([\d.]+)", seed004))
    assert float(test_mse["relu"]) < 0.01, seed004
    assert float(test_mse["identity"]) > 10 * float(test_mse["relu"]), seed004
    gap = float(re.search(r"one affine map: largest difference ([\d.e+-]+)", seed004).group(1))
    assert gap < 1e-12


def test_seed004_backends_agree(seed004):
    assert "final weights of both networks: " + AGREE in seed004


# --- python -m cyneuron ------------------------------------------------------------

def test_cli_default_run_reports_everything():
    out = run("-m", "cyneuron", "--epochs", "2000")
    assert out.startswith("cyneuron ")
    assert re.search(r"(?m)^epoch 2000/2000  loss ", out), out          # fit(verbose=1)
    before, after = map(float, re.search(r"loss ([\d.e-]+) -> ([\d.e-]+) after 2000 epochs",
                                         out).groups())
    assert after < before / 10
    table = re.findall(r"(?m)^ +([01]) +([01]) +1 +([01]) +([\d.]+)$", out)
    assert len(table) == 5, out
    assert all(int(t) == (int(a) ^ int(b)) for a, b, t, _ in table)
    assert "5/5 samples on the right side of 0.5" in out
    assert re.search(r"(?m)^compiled core +[\d.]+ m?s", out)
    assert re.search(r"(?m)^NumPy reference +[\d.]+ m?s", out)
    assert "estimated" not in out
    assert "after all epochs: " + AGREE in out


def test_cli_quiet_float32():
    out = run("-m", "cyneuron", "--epochs", "500", "--lr", "0.5", "--seed", "3",
              "--dtype", "float32", "--quiet")
    assert "float32" in out and "500 epochs" in out and "learning rate 0.5, seed 3" in out
    assert not re.search(r"(?m)^epoch ", out), out
    assert "after all epochs: " + AGREE in out
    assert len(out.splitlines()) <= 10


def test_cli_reference_budget_extrapolates(capsys):
    # in-process: main() returns the exit status
    status = cli.main(["--epochs", "30000", "--quiet", "--reference-budget", "0.05"])
    out = capsys.readouterr().out
    assert status == 0
    ran = int(re.search(r"estimated from (\d+) epochs", out).group(1))
    assert 0 < ran < 30000
    assert f"after {ran} epochs: " + AGREE in out


def test_cli_rejects_bad_arguments(capsys):
    for bad in (["--epochs", "0"], ["--lr", "-1"], ["--lr", "nan"], ["--dtype", "float16"],
                ["--seed", "-2"], ["--epochs", "many"], ["--reference-budget", "0"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(bad)
        assert exc.value.code == 2, bad
        assert "cyneuron: error:" in capsys.readouterr().err, bad
    # and as a process: exit status 2, a message, no traceback
    proc = subprocess.run([sys.executable, "-m", "cyneuron", "--epochs", "-5"], cwd=ROOT,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "cyneuron: error:" in proc.stderr and "Traceback" not in proc.stderr


def test_console_script_entry_point(capsys):
    (entry,) = [e for e in importlib.metadata.entry_points(group="console_scripts")
                if e.name == "cyneuron"]
    assert entry.value == "cyneuron.__main__:main"
    assert entry.load()(["--epochs", "10", "--quiet"]) == 0
    assert AGREE in capsys.readouterr().out
