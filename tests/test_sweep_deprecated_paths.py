"""The module paths used before `neurosrnn.sweep` became a package still work, and warn."""

import importlib
import sys

import pytest

_MOVED = [
    (
        "neurosrnn.store",
        "neurosrnn.sweep.store",
        [
            "FORMAT_VERSION",
            "CorruptResultError",
            "ResultStore",
            "canonical_json",
            "run_key",
            "package_versions",
            "write_arrays_atomic",
            "read_verified_arrays",
        ],
    ),
    (
        "neurosrnn.checkpoint",
        "neurosrnn.sweep.checkpoint",
        [
            "CheckpointDirectory",
            "run_with_checkpoints",
            "load_checkpointed_spikes",
            "sparseprop_checkpointed_run",
            "sparseprop_state_to_arrays",
            "sparseprop_state_from_arrays",
        ],
    ),
    (
        "neurosrnn.sweep_file",
        "neurosrnn.sweep.spec",
        ["SweepSpecification", "load_sweep_file", "parse_sweep", "parse_quantity"],
    ),
]


@pytest.mark.parametrize(("old", "new", "names"), _MOVED)
def test_old_module_warns_and_gives_the_same_objects(old, new, names):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
        module = importlib.import_module(old)
    current = importlib.import_module(new)
    for name in names:
        assert getattr(module, name) is getattr(current, name), name
    assert set(names) <= set(module.__all__)


def test_names_of_the_old_sweep_module_are_still_exported():
    import neurosrnn.sweep as sweep

    before = [
        "grid_points",
        "random_points",
        "firing_statistics",
        "Brian2NetworkRunner",
        "SparsePropRunner",
        "run_sweep",
        "run_one",
        "add_sweep_subcommand",
        "sweep_command",
    ]
    for name in before:
        assert name in sweep.__all__
        assert callable(getattr(sweep, name))
    from neurosrnn.sweep.loop import run_sweep
    from neurosrnn.sweep.runners import Brian2NetworkRunner

    assert sweep.run_sweep is run_sweep and sweep.Brian2NetworkRunner is Brian2NetworkRunner


def test_python_dash_m_neurosrnn_sweep_runs(tmp_path):
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "neurosrnn.sweep", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "sweep_file" in result.stdout
