"""Sweep specification files (neurosrnn.sweep.spec): parsing, units, and clear errors before anything runs."""

import textwrap

import numpy as np
import pytest
from brian2 import Hz, metre, ms, mV, nA, second
from brian2.units.fundamentalunits import DimensionMismatchError

from neurosrnn.sweep.spec import load_sweep_file, parse_quantity, parse_sweep

_NETWORK = """
[network]
model = "lif"
N_excitatory = 40
N_inhibitory = 10
K = 5
J0 = "0.5 mV"
g = 4
duration = "50 ms"
graph_seed = 2

[network.parameters]
I_ext = "25 mV"
"""


def _write(tmp_path, text):
    path = tmp_path / "sweep.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_parse_quantity_units():
    assert parse_quantity("10 ms") == 10 * ms
    assert parse_quantity("0.5 mV") == 0.5 * mV
    assert parse_quantity("1e-3 second") == 1 * ms
    assert parse_quantity("0.5 s") == 500 * ms
    assert parse_quantity("2 V") == 2000 * mV
    assert parse_quantity("20 Hz") == 20 * Hz
    assert parse_quantity("2 nA") == 2 * nA
    assert parse_quantity("3 mV/ms") == 3 * mV / ms
    assert parse_quantity("4 metre**2") == 4 * metre**2
    assert parse_quantity(0.25) == 0.25
    assert parse_quantity("7") == 7.0
    for bad in ("ten ms", "10 furlongs", "10 __import__('os')", "10 ms +"):
        with pytest.raises(ValueError):
            parse_quantity(bad, "x")


def test_grid_file_gives_the_cartesian_product(tmp_path):
    path = _write(
        tmp_path,
        """
        [sweep]
        seeds = [1, 2]
        store = "out"
        workers = 3
        """
        + _NETWORK
        + """
        [parameters]
        J0 = ["0.1 mV", "0.2 mV"]
        tau_m = ["10 ms", "15 ms", "20 ms"]
        """,
    )
    spec = load_sweep_file(path)
    expected = [(j * mV, t * ms) for j in (0.1, 0.2) for t in (10, 15, 20)]
    assert [(p["J0"], p["tau_m"]) for p in spec.points] == expected
    assert spec.seeds == [1, 2]
    assert spec.workers == 3
    assert spec.store == tmp_path / "out"
    assert spec.runner.N == 50 and spec.runner.K == 5
    assert spec.runner.duration == 50 * ms
    assert spec.runner.parameters == {"I_ext": 25 * mV}
    assert "6 point(s) x 2 seed(s)" in repr(spec)


def test_random_file_samples_inside_the_ranges(tmp_path):
    path = _write(
        tmp_path,
        """
        [sweep]
        mode = "random"
        samples = 40
        sampling_seed = 3
        """
        + _NETWORK
        + """
        [parameters]
        tau_m = {low = "5 ms", high = "50 ms", log = true}
        g = {choices = [3, 5]}
        """,
    )
    spec = load_sweep_file(path)
    taus = np.array([float(p["tau_m"] / second) for p in spec.points])
    assert len(spec.points) == 40
    assert np.all((taus >= 5e-3) & (taus < 50e-3))
    # log-uniform: the median of the logs sits near the middle of [log 5 ms, log 50 ms]
    assert abs(np.median(np.log(taus)) - np.log(np.sqrt(5e-3 * 50e-3))) < 0.5
    assert {p["g"] for p in spec.points} == {3.0, 5.0}
    again = load_sweep_file(path)
    assert [p["tau_m"] for p in again.points] == [p["tau_m"] for p in spec.points]


@pytest.mark.parametrize(
    ("parameters", "error", "match"),
    [
        ('tau_membrane = ["10 ms"]', ValueError, "unknown sweep parameter 'tau_membrane'"),
        ('tau_m = ["10 mV"]', DimensionMismatchError, "tau_m"),
        ('tau_m = ["10"]', DimensionMismatchError, "tau_m"),
        ('J0 = ["1 ms"]', DimensionMismatchError, "J0"),
        ("tau_m = []", ValueError, "empty grid axis"),
        ('tau_m = "10 ms"', ValueError, "must be a list"),
        ('tau_m = ["-5 ms"]', ValueError, "tau_m"),
        ('tau_m = ["10 lightyears"]', ValueError, "unknown unit 'lightyears'"),
    ],
)
def test_bad_parameters_fail_before_running(tmp_path, parameters, error, match):
    path = _write(tmp_path, _NETWORK + "\n[parameters]\n" + parameters + "\n")
    with pytest.raises(error, match=match):
        load_sweep_file(path)
    assert not (tmp_path / "sweep-results").exists()


def test_empty_parameter_section(tmp_path):
    path = _write(tmp_path, _NETWORK + "\n[parameters]\n")
    with pytest.raises(ValueError, match="empty"):
        load_sweep_file(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[sweep]\nmode = 'diagonal'\n" + _NETWORK + "[parameters]\ng = [1]\n", "mode"),
        ("[sweep]\nworkerz = 2\n" + _NETWORK + "[parameters]\ng = [1]\n", "workerz"),
        ("[sweep]\nseeds = []\n" + _NETWORK + "[parameters]\ng = [1]\n", "seeds"),
        (
            "[sweep]\nmode = 'random'\nsamples = 3\n" + _NETWORK + "[parameters]\ng = {low = 1}\n",
            "'low' and 'high'",
        ),
        (
            _NETWORK.replace('model = "lif"', 'model = "nosuchmodel"') + "[parameters]\ng=[1]\n",
            "unknown model 'nosuchmodel'",
        ),  # fmt: skip
        (_NETWORK.replace('J0 = "0.5 mV"', "") + "[parameters]\ng = [1]\n", "J0"),
        (_NETWORK.replace("K = 5", "K = 0") + "[parameters]\ng = [1]\n", "K must be"),
        ("[parameters]\ng = [1]\n", r"\[network\] section"),
        ("this is = = not toml", "not valid TOML"),
    ],
)
def test_malformed_files(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        load_sweep_file(_write(tmp_path, text))


def test_wrong_units_in_network_section(tmp_path):
    text = _NETWORK.replace('duration = "50 ms"', 'duration = "50 mV"') + "[parameters]\ng=[1]\n"
    with pytest.raises(DimensionMismatchError, match="duration"):
        load_sweep_file(_write(tmp_path, text))


_SPARSEPROP = """
[sparseprop]
model = "theta"
N = 300
K = 20
rate = "2 Hz"
tau = "20 ms"
duration = "0.5 s"
"""


def test_sparseprop_section(tmp_path):
    from neurosrnn.sweep.runners import SparsePropRunner

    text = _SPARSEPROP + "[parameters]\nJ0 = [0.5, 1.0]\nheterogeneity = [0, 0.2]\n"
    spec = load_sweep_file(_write(tmp_path, text))
    assert isinstance(spec.runner, SparsePropRunner)
    assert (spec.runner.N, spec.runner.K) == (300, 20)
    assert spec.runner.rate == 2 * Hz and spec.runner.tau == 20 * ms
    assert spec.runner.duration == 0.5 * second
    assert [(p["J0"], p["heterogeneity"]) for p in spec.points] == [
        (0.5, 0.0), (0.5, 0.2), (1.0, 0.0), (1.0, 0.2)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "error", "match"),
    [
        ('[parameters]\ntau_m = ["10 ms"]\n', ValueError, "unknown sweep parameter 'tau_m'"),
        ('[parameters]\nrate = ["3 ms"]\n', DimensionMismatchError, "rate"),
        ("[parameters]\nheterogeneity = [1.5]\n", ValueError, "heterogeneity"),
        ("[network]\nmodel = 'lif'\n[parameters]\nJ0 = [1.0]\n", ValueError, "exactly one"),
    ],
)
def test_bad_sparseprop_files(tmp_path, extra, error, match):
    with pytest.raises(error, match=match):
        load_sweep_file(_write(tmp_path, _SPARSEPROP + extra))


def test_network_parameters_take_sampler_calls_drawn_from_the_graph_seed(tmp_path):
    """One syntax for the command line, network spec files and sweep files (issue 14)."""

    document = {
        "sweep": {"store": str(tmp_path / "store")},
        "network": {
            "model": "lif",
            "N_excitatory": 8,
            "N_inhibitory": 2,
            "K": 2,
            "J0": "0.5 mV",
            "graph_seed": 3,
            "parameters": {"tau_m": "gamma(10 ms, 4)", "I_ext": "25 mV"},
        },
        "parameters": {"g": [4, 5]},
    }
    specification = parse_sweep(document)
    tau_m = np.asarray(specification.runner.parameters["tau_m"] / second)
    np.testing.assert_allclose(tau_m, np.random.default_rng(3).gamma(4, 0.0025, 10))
    document["network"]["parameters"]["tau_m"] = "gamma(10 ms)"
    with pytest.raises(ValueError, match=r"\[network.parameters\] tau_m: wrong arguments"):
        parse_sweep(document)
