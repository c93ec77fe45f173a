"""Sphinx configuration of the neurosrnn documentation site.

Build with ``make docs`` (or ``python -m sphinx -W --keep-going -b html docs
docs/_build/html``). Nothing is downloaded: no intersphinx, MathJax is the only
remote asset and is loaded by the reader's browser, and notebooks are not executed.
The API pages, the model gallery and the tutorial links are generated first by
``_generate.py`` into folders that git ignores.
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))

os.environ.setdefault("MPLBACKEND", "Agg")

import _generate  # noqa: E402

from neurosrnn._version import __version__  # noqa: E402

_generate.generate_all(DOCS)

# -- Project -------------------------------------------------------------------------------

project = "neurosrnn"
author = "The neurosrnn developers"
copyright = "The neurosrnn developers; GPL-3.0-or-later"
version = __version__
release = __version__

# -- General -------------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "README.md"]
templates_path = []
# Single backticks in docstrings link to the object when it is documented, and are
# shown as code otherwise.
default_role = "autolink"
nitpicky = False

# -- autodoc, autosummary, numpydoc --------------------------------------------------------

autosummary_generate = False  # the pages are written by _generate.generate_api
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
autodoc_mock_imports = []
autodoc_preserve_defaults = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()
numpydoc_attributes_as_param_list = True

# -- MyST and myst-nb ----------------------------------------------------------------------

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "substitution"]
myst_substitutions = {"version": __version__}
myst_heading_anchors = 3
nb_execution_mode = "off"
nb_merge_streams = True

# -- HTML ----------------------------------------------------------------------------------

html_theme = "alabaster"
html_title = f"neurosrnn {release}"
html_theme_options = {
    "description": "Adaptive spiking recurrent networks on Brian2",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_static_path = []
html_show_sourcelink = False
