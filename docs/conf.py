"""Sphinx configuration of the cyneuron documentation site."""
import os
import sys

try:
    import cyneuron  # noqa: F401  (an installed wheel, as in CI)
except ImportError:  # a source tree built in place
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "src")))

project = "cyneuron"
author = "the cyneuron authors"
copyright = "2026, the cyneuron authors"

extensions = ["sphinx.ext.autodoc", "sphinx.ext.doctest", "sphinx.ext.intersphinx",
              "numpydoc"]
numpydoc_show_class_members = False       # members are listed by autodoc
numpydoc_class_members_toctree = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"                # numpydoc sections carry the types
html_theme = "alabaster"
html_static_path = []
exclude_patterns = ["_build"]
intersphinx_mapping = {}
doctest_global_setup = """
import numpy as np
import cyneuron as cn
from cyneuron import Network, Neuron
"""
