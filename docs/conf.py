"""Sphinx configuration of the cyneuron documentation site."""
import os
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent

try:
    import cyneuron  # noqa: F401  (an installed wheel, as in CI)
except ImportError:  # a source tree built in place
    sys.path.insert(0, str(ROOT / "src"))

project = "cyneuron"
author = "the cyneuron authors"
copyright = "2026, the cyneuron authors"

extensions = ["sphinx.ext.autodoc", "sphinx.ext.doctest", "sphinx.ext.intersphinx",
              "numpydoc", "myst_parser", "sphinx_copybutton", "sphinx_gallery.gen_gallery"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_generated"]   # the generated tables are included, not pages
intersphinx_mapping = {}

# --- API reference: numpydoc, validated ------------------------------------------------
numpydoc_show_class_members = False       # members are listed by autodoc
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"                # numpydoc sections carry the types
# Every documented name is checked; a failure is a warning, so -W fails the build.
# Left out, for every object:
#   ES01, EX01, SA01  an extended summary, an Examples and a See Also section: the
#         guide pages and the gallery carry the prose, the examples and the links
#   RT02  a named single return (``a : ndarray``): numpydoc's format allows the name,
#         and the reference's docstrings use the names of the tutorial's formulas
#   SS02, PR08, RT04  a capital first letter: the reference's summaries and
#         descriptions start with a formula or a symbol (``relu(z) = max(z, 0)``,
#         ``delta``), whose case is part of its meaning
numpydoc_validation_checks = {"all", "ES01", "EX01", "SA01", "RT02", "SS02", "PR08", "RT04"}
# numpydoc 1.11's validator raises StopIteration on a property built from a lambda
# (it looks for the `def` line); these read-only attributes have one-line docs.
numpydoc_validation_exclude = {
    r"^cyneuron\.Network\.(layer_sizes|activations|loss|dtype|dropout|backend|init"
    r"|reduction|numerics)$",
}

# --- the theme ---------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "cyneuron"
html_static_path = ["_static"]
html_css_files = ["cyneuron.css"]
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "getting-started": []}
html_show_sourcelink = False

# --- examples ----------------------------------------------------------------------------
doctest_global_setup = """
import numpy as np
import cyneuron as cn
from cyneuron import Network, Neuron
"""
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True

# The gallery runs every script of gallery/ at build time and fails the build on an
# error (CI's extras cell builds it with -W). `-D plot_gallery=0` skips running them
# (the doctest build does, as it does not show the figures).
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "gallery"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 0,
    "show_memory": False,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib",),
    "within_subsection_order": "FileNameSortKey",
}
os.environ.setdefault("MPLBACKEND", "Agg")

myst_heading_anchors = 3


# --- the benchmark tables, read from benchmarks/RESULTS.md at every build ------------------
def _inline(text):
    """Markdown inline code and bold as reStructuredText; everything else literal."""
    out = []
    for i, piece in enumerate(re.split(r"(`[^`]+`)", text)):
        if i % 2:
            out.append("``" + piece[1:-1] + "``")
            continue
        piece = piece.replace("\\", "\\\\")
        piece = re.sub(r"([*|_])", r"\\\1", piece)             # no markup but bold
        piece = re.sub(r"\\\*\\\*(\S.*?\S|\S)\\\*\\\*", r"**\1**", piece)
        out.append(piece)
    return "".join(out)


def _table(rows):
    cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows]
    cells = [c for c in cells if not all(set(x) <= set("-: ") for x in c)]   # the rule
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in cells:
        for i, cell in enumerate(row):
            out.append(("   * - " if i == 0 else "     - ") + (_inline(cell) or " "))
    return out + [""]


def _benchmark_tables():
    """Write _generated/benchmark-results.rst from benchmarks/RESULTS.md (the last full
    run): when it was made, the machine, the versions, the goals and the table of
    every workload, as reStructuredText under the performance page's own headings."""
    text = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    head, *parts = re.split(r"(?m)^## ", text)
    generated = re.search(r"Generated by .*?\)", head)
    out = [_inline(generated.group(0)) + ".", ""] if generated else []
    for part in parts:
        title, _, body = part.partition("\n")
        if not (title.startswith(("Machine", "Versions", "SPEC section 4 goals",
                                  "Issue 31 goals"))
                or re.match(r"W\d+:", title)):
            continue                      # the profiles and analyses stay in RESULTS.md
        title = _inline(title.strip())
        out += [title, "~" * len(title), ""]
        lines, table = body.splitlines(), []
        for line in lines + [""]:
            if line.startswith("|"):
                table.append(line)
                continue
            if table:
                out += _table(table)
                table = []
            out.append(_inline(line))
        out.append("")
    target = HERE / "_generated" / "benchmark-results.rst"
    target.parent.mkdir(exist_ok=True)
    body = "\n".join(out)
    if not target.exists() or target.read_text(encoding="utf-8") != body:
        target.write_text(body, encoding="utf-8")


_benchmark_tables()
