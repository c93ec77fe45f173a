"""Run the Examples sections of the docstrings as doctests.

Every module listed here keeps its examples true; a module is added once its docstrings
have Examples sections.
"""

import doctest
import importlib

import pytest

MODULES = [
    "neurosrnn.progress",
    "neurosrnn.units",
    "neurosrnn.validation",
    "neurosrnn.analysis.statistics",
    "neurosrnn.analysis.bursts",
    "neurosrnn.analysis.correlation",
    "neurosrnn.analysis.dissimilarity",
    "neurosrnn.analysis.synchrony",
    "neurosrnn.analysis.summary",
    "neurosrnn.analysis.timescales",
    "neurosrnn.analysis.heterogeneity",
    "neurosrnn.analysis.plotting",
    "neurosrnn.analysis.exponents",
    "neurosrnn.analysis.lyapunov",
    "neurosrnn.analysis.lyapunov_plots",
    "neurosrnn.analysis._spikes",
    "neurosrnn.analysis.neo_interop",
    "neurosrnn.nwb",
    "neurosrnn.spec_syntax",
    "neurosrnn.connectivity",
    "neurosrnn.learning.optim",
    "neurosrnn.learning.train",
    "neurosrnn.learning.baselines",
    "neurosrnn.learning.data",
    "neurosrnn.sparseprop.phase_tables",
    "neurosrnn.sparseprop.from_brian2",
    "neurosrnn.sparseprop.brian2_network",
    "neurosrnn.sparseprop.gradients",
    "neurosrnn.sparseprop.training",
    "neurosrnn.sparseprop.engine",
    "neurosrnn.sparseprop.reference",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert tried > 0, f"{name} has no docstring examples"
    assert failures == 0
