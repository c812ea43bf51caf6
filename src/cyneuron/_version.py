"""The version of cyneuron, written once: the package, the CLI and pyproject.toml read it here."""
__version__ = "0.1.0"
