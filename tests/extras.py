"""The optional extras the tests know: which libraries each needs (no cyneuron import,
so that conftest.py can read it before the package is imported)."""


# directory under tests/optional -> (extra, modules it needs); conftest.py leaves a
# directory out where they are missing, test_readme.py the README blocks that use them
OPTIONAL_DIRS = {
    # directory under tests/optional -> (extra, modules it needs)
    "onnx": ("onnx", ("onnx", "onnxruntime", "skl2onnx")),
    "torch": ("torch", ("torch",)),
    "safetensors": ("safetensors", ("safetensors",)),
    "dask": ("dask", ("dask", "distributed")),
    "plot": ("plot", ("matplotlib",)),
    "progress": ("progress", ("tqdm",)),
}


def missing_modules(modules):
    """The modules of `modules` that are not installed."""
    import importlib.util
    return [m for m in modules if importlib.util.find_spec(m) is None]
