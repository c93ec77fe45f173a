"""Tests of the ``neurosrnn`` command line (called in-process through `main`)."""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from brian2 import ms, mV, second

from neurosrnn.cli import build_parser, main, parse_quantity
from neurosrnn.devices import find_gpus
from neurosrnn.models import MODEL_LIBRARY
from neurosrnn.models.networks import balanced_ei_network
from neurosrnn.models.timescale_samplers import gamma_timescales, uniform_values
from neurosrnn.results import load_results, load_standalone_results

NETWORK = ["--N", "60", "--K", "6", "--seed", "4"]


def _main(argv, capsys):
    out = io.StringIO()
    status = main(argv, out=out)
    return status, out.getvalue(), capsys.readouterr().err


def _reference_spikes(drive, duration):
    """The CLI's network built directly with the library and plain Brian2 (runtime).

    The CLI's default lif network: g = 6, gamma tau_m and uniform initial v from the seed.
    """
    model = MODEL_LIBRARY["lif"]()
    network = balanced_ei_network(
        model,
        48,
        12,
        6,
        J0=3 * mV,
        g=6.0,
        seed=4,
        parameters={"tau_m": gamma_timescales(10 * ms, 4), "I_ext": drive},
        initial_values={"v": uniform_values(0 * mV, 20 * mV)},
    )
    network.network.run(duration, namespace={})
    order = np.lexsort((network.spike_monitor.i[:], network.spike_monitor.t[:]))
    return network.spike_monitor.i[:][order], (network.spike_monitor.t[:] / second)[order]


def test_parse_quantity():
    assert parse_quantity("20ms") == 20 * ms
    assert parse_quantity(" -55 * mV ") == -55 * mV
    assert parse_quantity("1.5e-3 second") == 1.5 * ms
    assert parse_quantity("2s") == 2 * second
    assert parse_quantity("0.5") == 0.5
    for bad in ("fast", "20 parsecs", "1 2", "ms"):
        with pytest.raises(ValueError):
            parse_quantity(bad)


def test_list_shows_every_model_with_its_parameters(capsys):
    status, out, _ = _main(["list"], capsys)
    assert status == 0
    lines = out.splitlines()
    assert sorted(line.split(":")[0] for line in lines) == sorted(MODEL_LIBRARY)
    for line in lines:
        name = line.split(":")[0]
        for parameter in MODEL_LIBRARY[name]().parameters:
            assert f"{parameter}=" in line


def test_help_documents_every_option(capsys):
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    assert set(subparsers) == {"list", "build", "run", "sweep"}
    for name, subparser in subparsers.items():
        for action in subparser._actions:
            assert action.help, f"{name} {action.option_strings} has no help"
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
    assert "spikes.npz" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "no_such_model"], "unknown model 'no_such_model'"),
        (["run", "lif", "--set", "no_such=3ms"], "unknown parameter 'no_such'"),
        (["run", "lif", "--set", "tau_m=3mV"], "must have the units"),
        (["run", "lif", "--set", "tau_m=-3ms"], "must be > 0"),
        (["run", "lif", "--set", "tau_m=3 furlongs"], "unknown unit"),
        (["run", "lif", "--set", "tau_m"], "NAME=VALUE"),
        (["run", "lif", "--sweep", "tau_m=1ms,zero"], "--sweep tau_m"),
        (["run", "lif", "--record", "nothing"], "not a state of model"),
        (["run", "lif", "--excitatory-fraction", "1.5"], "excitatory-fraction"),
    ],
)
def test_bad_input_exits_nonzero_with_one_line(tmp_path, capsys, argv, message):
    full = [*argv[:2], "--device", "runtime", "--duration", "10ms", "--out", str(tmp_path / "o")]
    status, out, err = _main(full + argv[2:], capsys)
    assert status == 2
    assert message in err
    assert err.count("\n") == 1 and err.startswith("neurosrnn: error:")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "lif", "--device", "gpu", "--duration", "1s", "--out", "x"], "invalid choice"),
        (["run", "lif", "--device", "runtime", "--duration=-1s", "--out", "x"], "positive"),
        (["run", "lif", "--device", "runtime", "--duration", "5mV", "--out", "x"], "positive time"),
        (["build", "lif", "--device", "runtime", "--out", "x"], "invalid choice"),
        (
            ["run", "lif", "--device", "runtime", "--duration", "1s", "--out", "x", "--N", "0"],
            "positive integer",
        ),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.strip().splitlines()[-1].startswith("neurosrnn: error:")


def test_run_of_a_model_without_duration_exits_2_with_one_line(capsys):
    # --duration is optional for --trained networks, so main checks it for models.
    assert main(["run", "lif", "--device", "runtime", "--out", "x"]) == 2
    err = capsys.readouterr().err
    assert "--duration" in err and err.count("\n") == 1


@pytest.mark.skipif(bool(find_gpus()), reason="checks the no-GPU error")
def test_cuda_run_without_gpu_fails_fast_with_one_line(tmp_path, capsys):
    argv = ["run", "lif", "--device", "cuda_standalone", "--duration", "10ms"]
    status, _, err = _main([*argv, "--out", str(tmp_path / "o"), *NETWORK], capsys)
    assert status == 1
    assert "no NVIDIA GPU found" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()  # refused before generating or compiling


def test_run_runtime_writes_the_documented_format(tmp_path, capsys):
    out_dir = tmp_path / "runtime"
    argv = ["run", "lif", "--device", "runtime", "--target", "numpy", "--duration", "80ms"]
    status, out, _ = _main([*argv, "--out", str(out_dir), *NETWORK, "--set", "I_ext=28mV",
                            "--J0", "3mV", "--record", "v"], capsys)  # fmt: skip
    assert status == 0 and "spikes written" in out
    with np.load(out_dir / "spikes.npz") as arrays:
        i, t = arrays["i"], arrays["t"]
    reference_i, reference_t = _reference_spikes(28 * mV, 80 * ms)
    assert len(reference_i) > 60
    np.testing.assert_array_equal(i, reference_i)
    np.testing.assert_allclose(t, reference_t, rtol=1e-12)
    metadata = json.loads((out_dir / "metadata.json").read_text())
    assert metadata["model"] == "lif_delta" and metadata["duration_s"] == pytest.approx(0.08)
    assert metadata["parameters"]["I_ext"] == str(28 * mV)
    assert load_results(out_dir).states["network_states"].values["v"].shape == (10, 800)


@pytest.mark.slow
@pytest.mark.standalone
def test_build_gives_a_project_that_runs_elsewhere_and_a_sweep_compiles_once(tmp_path, capsys):
    # build: a project that is copied to another folder, then run there with ./main
    project = tmp_path / "project"
    argv = ["build", "lif", "--device", "cpp_standalone", "--duration", "80ms", "--portable"]
    status, out, _ = _main([*argv, "--out", str(project), *NETWORK, "--set", "I_ext=28mV",
                            "--J0", "3mV"], capsys)  # fmt: skip
    assert status == 0 and "./main" in out
    moved = tmp_path / "elsewhere"
    shutil.copytree(project, moved)
    shutil.rmtree(project)
    subprocess.run(["./main"], cwd=moved, check=True, capture_output=True)
    results = load_standalone_results(moved)
    reference_i, reference_t = _reference_spikes(28 * mV, 80 * ms)
    np.testing.assert_array_equal(results.i, reference_i)
    np.testing.assert_allclose(results.t, reference_t, rtol=1e-12)

    # run --sweep on cpp_standalone: one compilation, one folder per value
    out_dir = tmp_path / "sweep"
    argv = ["run", "lif", "--device", "cpp_standalone", "--duration", "80ms", "--no-progress"]
    status, out, _ = _main([*argv, "--out", str(out_dir), *NETWORK, "--J0", "3mV",
                            "--sweep", "I_ext=24mV,28mV,32mV"], capsys)  # fmt: skip
    assert status == 0
    listing = json.loads((out_dir / "sweep.json").read_text())
    assert listing["compilations"] == 1
    assert [run["folder"] for run in listing["runs"]] == ["run_000", "run_001", "run_002"]
    for index, drive in enumerate((24, 28, 32)):
        loaded = load_results(out_dir / f"run_{index:03d}")
        reference_i, reference_t = _reference_spikes(drive * mV, 80 * ms)
        np.testing.assert_array_equal(loaded.i, reference_i)
        np.testing.assert_allclose(loaded.t, reference_t, rtol=1e-12)
    assert os.path.isfile(out_dir / "project" / "main")


def test_console_entry_point_is_installed():
    script = shutil.which("neurosrnn", path=os.path.dirname(sys.executable))
    assert script is not None
    completed = subprocess.run([script, "list"], capture_output=True, text=True, check=True)
    assert "lif:" in completed.stdout


def test_build_without_compiling_writes_the_sources_and_manifest(tmp_path, capsys):
    project = tmp_path / "sources"
    argv = ["build", "lif_exponential", "--device", "cpp_standalone", "--no-compile"]
    status, out, _ = _main([*argv, "--out", str(project), *NETWORK], capsys)
    assert status == 0 and "make && ./main" in out
    assert (project / "makefile").is_file() and (project / "main.cpp").is_file()
    assert not (project / "main").exists()
    manifest = json.loads((project / "neurosrnn_manifest.json").read_text())
    assert manifest["metadata"]["model"] == "lif_exponential"
    assert manifest["groups"]["network_neurons"] == 60
    assert manifest["duration_s"] == pytest.approx(1.0)
    assert "network_spikes" in manifest["monitors"]["spike_monitors"]


def test_sweep_subcommand_rejects_unknown_parameter_before_running(tmp_path, capsys):
    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text(
        '[sweep]\nscheduler = "serial"\n\n'
        '[network]\nmodel = "lif"\nN_excitatory = 8\nN_inhibitory = 2\nK = 2\n'
        'J0 = "0.5 mV"\ng = 5\nduration = "10 ms"\n\n'
        '[parameters]\nno_such_parameter = ["1 ms", "2 ms"]\n'
    )
    code = main(["sweep", str(sweep_file), "--store", str(tmp_path / "store")])
    error = capsys.readouterr().err
    assert code == 2
    assert "no_such_parameter" in error and error.count("\n") == 1
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").iterdir())


RUNTIME = ["--device", "runtime", "--duration", "5ms", *NETWORK]


@pytest.mark.parametrize("command", ["run", "build"])
@pytest.mark.parametrize("where", ["file", "under-file"])
def test_out_that_cannot_be_a_folder_exits_2_naming_out(tmp_path, capsys, command, where):
    """--out on or under a file used to give a traceback (FileExistsError, NotADirectoryError)."""
    afile = tmp_path / "taken.txt"
    afile.write_text("keep me")
    target = afile if where == "file" else afile / "results"
    device = ["--device", "cpp_standalone", "--no-compile"] if command == "build" else RUNTIME
    argv = [command, "lif", *device, "--out", str(target)]
    if command == "build":
        argv += ["--duration", "5ms", *NETWORK]
    status, _, err = _main(argv, capsys)
    assert status == 2
    assert err.startswith("neurosrnn: error: --out") and err.count("\n") == 1
    assert afile.read_text() == "keep me"
    assert sorted(os.listdir(tmp_path)) == ["taken.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_out_in_an_unwritable_folder_exits_2_naming_out(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        status, _, err = _main(["run", "lif", *RUNTIME, "--out", str(locked / "o")], capsys)
    finally:
        locked.chmod(0o700)
    assert status == 2
    assert err.startswith("neurosrnn: error: --out") and "cannot write" in err
    assert os.listdir(locked) == []


def test_build_dir_under_a_file_exits_2_naming_it(tmp_path, capsys):
    afile = tmp_path / "taken.txt"
    afile.write_text("")
    argv = ["run", "lif", *RUNTIME, "--out", str(tmp_path / "o"), "--build-dir", str(afile / "p")]
    status, _, err = _main(argv, capsys)
    assert status == 2 and "--build-dir" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("existed", [False, True])
def test_failed_run_leaves_no_output_folder_it_created(tmp_path, capsys, monkeypatch, existed):
    """A run that fails used to leave the empty --out folder behind."""
    from neurosrnn.devices import Simulation

    def failing_run(self, *args, **kwargs):
        raise ValueError("the run failed")

    monkeypatch.setattr(Simulation, "run", failing_run)
    out_dir = tmp_path / "o"
    if existed:
        out_dir.mkdir()
        (out_dir / "mine.txt").write_text("keep")
    status, _, err = _main(["run", "lif", *RUNTIME, "--out", str(out_dir)], capsys)
    assert status == 2 and "the run failed" in err
    if existed:
        assert sorted(os.listdir(out_dir)) == ["mine.txt"]
    else:
        assert not out_dir.exists()


# --- the README's network (issue 14) ---------------------------------------------------

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
QUICK_DURATION_MS = 200


def _readme_quick_start_and_cli_line():
    """The Quick start code block and the 'neurosrnn run ...' line of README.md."""
    import re

    text = open(README, encoding="utf-8").read()
    section = text[text.index("## Quick start") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    line = re.search(r"`(neurosrnn run [^`]*)`", section, re.DOTALL).group(1)
    return code, line.split()


@pytest.fixture(scope="module")
def readme_cli_run(tmp_path_factory):
    """The README's CLI line on the runtime device (numpy target), 200 ms: (i, t, stderr)."""
    _, argv = _readme_quick_start_and_cli_line()
    assert argv[:3] == ["neurosrnn", "run", "mat"]
    out_dir = tmp_path_factory.mktemp("readme") / "mat"
    argv = argv[1:]
    argv[argv.index("--device") + 1] = "runtime"
    argv[argv.index("--duration") + 1] = f"{QUICK_DURATION_MS}ms"
    argv[argv.index("--out") + 1] = str(out_dir)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        assert main([*argv, "--target", "numpy", "--no-progress"], out=io.StringIO()) == 0
    with np.load(out_dir / "spikes.npz") as arrays:
        return arrays["i"], arrays["t"], stderr.getvalue()


def test_readme_cli_line_gives_the_quick_start_spike_trains(readme_cli_run):
    """Issue 14: the README calls its CLI line 'the same network'; it gave another one."""
    import brian2

    code, _ = _readme_quick_start_and_cli_line()
    assert "network.run(1 * second)" in code
    code = code.replace("network.run(1 * second)", f"network.run({QUICK_DURATION_MS} * ms)")
    code = code.replace("print(", "(")  # keep the test output quiet
    previous = brian2.prefs.codegen.target
    brian2.prefs.codegen.target = "numpy"
    try:
        namespace = {}
        exec(compile(code, "README Quick start", "exec"), namespace)
    finally:
        brian2.prefs.codegen.target = previous
    i, t, _ = readme_cli_run
    reference_i, reference_t = namespace["network"].spikes()
    assert len(reference_i) > 1000
    np.testing.assert_array_equal(i, reference_i)
    np.testing.assert_array_equal(t, reference_t)


def test_readme_cli_network_is_not_synchronous(readme_cli_run):
    """Issue 14: the CLI's default network fired every neuron in lockstep (chi = 1)."""
    from neurosrnn.analysis.synchrony import spike_synchrony_chi

    i, t, stderr = readme_cli_run
    assert "lockstep" not in stderr
    assert np.unique(i).size > 900  # nearly every neuron fires
    chi = spike_synchrony_chi((i, t), 0.01, N=1000, t_start=0.0, t_stop=QUICK_DURATION_MS / 1e3)
    assert chi < 0.9
    assert np.unique(t).size > 0.01 * t.size


def test_identical_neurons_warn_that_the_network_fired_in_lockstep(tmp_path, capsys):
    argv = ["run", "lif", "--device", "runtime", "--target", "numpy", "--duration", "60ms"]
    status, _, err = _main([*argv, "--out", str(tmp_path / "o"), *NETWORK, "--set", "v=0mV",
                            "--set", "tau_m=10ms"], capsys)  # fmt: skip
    assert status == 0
    assert "neurosrnn: warning:" in err and "lockstep" in err and "v=uniform" in err


def test_synchrony_check_flags_lockstep_and_passes_independent_trains():
    from neurosrnn.cli import _SynchronyCheck

    check = _SynchronyCheck(100, 1 * second, 0.1 * ms)
    times = np.arange(10, 1000, 25) * 1e-3  # every neuron at the same 40 times
    lockstep = (np.tile(np.arange(100), times.size), np.repeat(times, 100))
    assert "lockstep" in check.message(*lockstep)
    rng = np.random.default_rng(3)
    t = np.round(np.sort(rng.uniform(0, 1, 4000)), 4)
    assert check.message(rng.integers(0, 100, t.size), t) is None


def test_set_draws_initial_values_from_the_seed_after_the_parameters(tmp_path, capsys):
    """Issue 14: ``--set v=5mV`` said "unknown parameter 'v'"; samplers were impossible."""
    out_dir = tmp_path / "o"
    argv = ["run", "lif", "--device", "runtime", "--target", "numpy", "--duration", "1ms"]
    status, _, err = _main([*argv, "--out", str(out_dir), *NETWORK, "--set",
                            "tau_m=lognormal(median=12ms, sigma=0.3)", "--set",
                            "v=uniform(5mV, 15mV)", "--record", "v"], capsys)  # fmt: skip
    assert status == 0, err
    # independent reference: one numpy stream from the seed, parameters then initial values
    rng = np.random.default_rng(4)
    rng.standard_normal(60)  # tau_m
    v0 = rng.uniform(0.005, 0.015, 60)
    recorded = load_results(out_dir).states["network_states"].values["v"]
    np.testing.assert_allclose(recorded[:, 0], v0[:10], rtol=1e-12)
    metadata = json.loads((out_dir / "metadata.json").read_text())
    assert "lognormal" in metadata["parameters"]["tau_m"]
    assert "uniform" in metadata["initial_values"]["v"]


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("tau_m=gamma(10ms)", "--set tau_m: wrong arguments"),
        ("tau_m=gamma(10mV, 4)", "tau_m"),
        ("v=uniform(0mV, 20mV", "--set v: cannot read"),
        ("v=poisson(3)", "unknown sampler 'poisson'"),
        ("v=uniform(0ms, 2ms)", "initial value of 'v'"),
        ("tau_m=uniform(-1ms, 1ms)", "must be > 0"),
    ],
)
def test_bad_sampler_syntax_names_the_parameter(tmp_path, capsys, assignment, message):
    argv = ["run", "lif", "--device", "runtime", "--duration", "10ms", *NETWORK]
    status, _, err = _main([*argv, "--out", str(tmp_path / "o"), "--set", assignment], capsys)
    assert status == 2
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_spec_file_builds_the_same_network_as_the_options(tmp_path, capsys):
    spec = tmp_path / "network.toml"
    spec.write_text(
        '[network]\nmodel = "lif"\nN_excitatory = 48\nN_inhibitory = 12\nK = 6\n'
        'J0 = "3 mV"\ng = 5\nseed = 4\nduration = "40 ms"\n\n'
        '[network.parameters]\ntau_m = "gamma(12 ms, 5)"\nI_ext = "28 mV"\n\n'
        '[network.initial_values]\nv = "uniform(2 mV, 18 mV)"\n'
    )
    device = ["--device", "runtime", "--target", "numpy"]
    assert (
        _main(["run", "--spec", str(spec), *device, "--out", str(tmp_path / "a")], capsys)[0] == 0
    )
    argv = ["run", "lif", *device, "--duration", "40ms", "--out", str(tmp_path / "b"), *NETWORK,
            "--J0", "3mV", "--g", "5", "--set", "tau_m=gamma(12ms, 5)", "--set", "I_ext=28mV",
            "--set", "v=uniform(2mV, 18mV)"]  # fmt: skip
    assert _main(argv, capsys)[0] == 0
    a, b = load_results(tmp_path / "a"), load_results(tmp_path / "b")
    assert len(a.i) > 20
    np.testing.assert_array_equal(a.i, b.i)
    np.testing.assert_array_equal(a.t, b.t)
    # options override the file
    status, _, err = _main(["run", "--spec", str(spec), *device, "--set", "tau_m=3mV",
                            "--out", str(tmp_path / "c")], capsys)  # fmt: skip
    assert status == 2 and "tau_m" in err


def test_spec_file_errors_name_the_entry(tmp_path, capsys):
    spec = tmp_path / "network.toml"
    spec.write_text('[network]\nmodel = "lif"\nno_such_key = 3\n')
    argv = ["run", "--spec", str(spec), "--device", "runtime", "--duration", "5ms"]
    status, _, err = _main([*argv, "--out", str(tmp_path / "o")], capsys)
    assert status == 2 and "no_such_key" in err and err.count("\n") == 1


def test_list_names_the_neuron_model_of_each_entry(capsys):
    """Issue 14: 'neurosrnn list' said lif, the model's repr lif_delta."""
    status, out, _ = _main(["list", "--verbose"], capsys)
    assert status == 0
    line = next(line for line in out.splitlines() if line.startswith("lif:"))
    assert "'lif_delta'" in line
    assert "J0=20 mV, g=6, tau_m=gamma(10 ms, 4), I_ext=20 mV, v=uniform(0 mV, 20 mV)" in out
