"""Packaging checks: light import, subpackage mapping, Makefile's Python check."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OPTIONAL = ("brian2cuda", "jax", "dask", "distributed", "elephant", "neo", "sklearn", "pandas")


def test_import_neurosrnn_imports_no_optional_extra():
    code = (
        "import sys, neurosrnn, neurosrnn.models, neurosrnn.analysis\n"
        f"loaded = [m for m in {OPTIONAL!r} if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_models_and_analysis_install_as_subpackages():
    import neurosrnn.analysis
    import neurosrnn.models

    assert Path(neurosrnn.models.__file__).parent == ROOT / "models"
    assert Path(neurosrnn.analysis.__file__).parent == ROOT / "analysis"


def test_lazy_public_api_resolves():
    import neurosrnn
    from neurosrnn import connectivity

    assert neurosrnn.fixed_in_degree is connectivity.fixed_in_degree
    for name, module in neurosrnn._LAZY.items():
        assert getattr(neurosrnn, name) is getattr(importlib.import_module(module), name)
    with pytest.raises(AttributeError, match="no_such_name"):
        neurosrnn.no_such_name  # noqa: B018


def test_makefile_stops_with_one_line_when_no_python_312(tmp_path):
    # Point the interpreter search at nothing: make must refuse with a clear message
    # before creating anything.
    result = subprocess.run(
        [
            "make",
            "-C",
            str(ROOT),
            "CANDIDATES=/nonexistent/python",
            "VENV=" + str(tmp_path / "v"),
            "venv",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "needs Python >= 3.12" in result.stdout + result.stderr
    assert not (tmp_path / "v").exists()
