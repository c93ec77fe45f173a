"""Packaging checks: light import, subpackage mapping, Makefile's Python check, pins."""

import configparser
import importlib
import importlib.metadata
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


def test_setup_cfg_lists_every_package_of_the_source_tree():
    """A non-editable install must hold every subpackage (neurosrnn.devices was once left
    out: editable installs hid it, a wheel built for a GPU machine lacked it)."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    mapping = dict(
        line.split(" = ")
        for line in config["options"]["package_dir"].strip().splitlines()
        if " = " in line
    )
    found = set()
    for package, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            found.add(".".join((package, *relative.parts)))
    assert found == listed


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


def _setup_cfg_requirements(path=ROOT / "setup.cfg"):
    """The base requirements and the extras of setup.cfg, as packaging Requirements."""
    from packaging.requirements import Requirement

    config = configparser.ConfigParser()
    config.read(path, encoding="utf-8")

    def parse(text):
        return [Requirement(line) for line in text.splitlines() if line.strip()]

    base = parse(config["options"]["install_requires"])
    extras = {name: parse(text) for name, text in config["options.extras_require"].items()}
    return base, extras


def _only(requirements, name, where):
    found = [r for r in requirements if r.name.lower() == name]
    assert len(found) == 1, f"{where} must name {name} once, got {[str(r) for r in found]}"
    return found[0]


def test_brian2_is_a_range_in_the_base_install_and_pinned_only_where_brian2cuda_needs_it():
    # The base install allows a range of brian2 versions (only 2.10.1 is tested here);
    # brian2cuda pins brian2 exactly, so every extra that installs brian2cuda pins brian2
    # to the version the installed brian2cuda's own metadata requires.
    base, extras = _setup_cfg_requirements()
    brian2 = _only(base, "brian2", "install_requires")
    operators = {spec.operator for spec in brian2.specifier}
    assert not operators & {"==", "===", "~="}, f"base brian2 must be a range, got {brian2}"
    assert ">=" in operators and "<" in operators, f"base brian2 needs both bounds: {brian2}"
    assert brian2.specifier.contains(importlib.metadata.version("brian2"))

    try:
        cuda_requires = importlib.metadata.requires("brian2cuda") or []
        cuda_version = importlib.metadata.version("brian2cuda")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("brian2cuda (the cuda extra) is not installed")
    from packaging.requirements import Requirement

    needed = [Requirement(r) for r in cuda_requires]
    needed = _only([r for r in needed if r.marker is None], "brian2", "brian2cuda's metadata")
    [pin] = needed.specifier  # brian2cuda pins one exact version
    assert pin.operator == "=="
    assert brian2.specifier.contains(pin.version), "the base range must admit brian2cuda's brian2"

    with_cuda = {
        name: reqs
        for name, reqs in extras.items()
        if "brian2cuda" in {r.name.lower() for r in reqs}
    }
    assert "cuda" in with_cuda
    for name, reqs in with_cuda.items():
        assert _only(reqs, "brian2cuda", f"extra {name!r}").specifier.contains(cuda_version)
        assert str(_only(reqs, "brian2", f"extra {name!r}").specifier) == f"=={pin.version}"
    for name, reqs in extras.items():
        if name not in with_cuda:
            pins = [str(r) for r in reqs if r.name.lower() == "brian2" and "==" in str(r)]
            assert not pins, f"extra {name!r} pins brian2 without needing brian2cuda: {pins}"
