"""Every model of the library gives the same spikes on runtime (numpy) and cpp_standalone.

All models are simulated side by side in one network, built once per device, so the
whole library costs one C++ compilation. The networks are deterministic: explicit
seeded connectivity with mixed-sign weights, a heterogeneous constant drive, initial
values given by the models (no random initialisers) and no noise. The runtime numpy
target is the independent reference: it evaluates the same equations through numpy,
while the standalone binary is generated C++ compiled by gcc.
"""

import numpy as np
import pytest
from brian2 import Network, SpikeMonitor, Synapses, ms
from brian2.units.fundamentalunits import get_dimensions

from neurosrnn.connectivity import fixed_in_degree
from neurosrnn.devices import Simulation
from neurosrnn.models import MODEL_LIBRARY

N = 40
K = 8
DURATION = 200 * ms


# Drive range in multiples of the model's suprathreshold drive. The phase models'
# reference drive sits just above the bifurcation (period ~100 ms); 10-30 times it
# gives periods of 30-18 ms (theta_period), so they spike often in 200 ms.
_DRIVE_RANGE = {"theta": (10.0, 30.0), "qif": (10.0, 30.0)}


def _coupling(model):
    """A coupling strong enough to shift spike times (a quarter of the drive scale)."""
    unit = model.coupling_unit
    drive = model.suprathreshold_drive
    if get_dimensions(drive) == get_dimensions(unit):
        return float(np.asarray(0.25 * drive / unit))
    return 0.002 if not get_dimensions(unit).is_dimensionless else 0.05


def _recurrent_group(name, model, seed):
    """One model's neurons, synapses and spike monitor on a seeded explicit graph."""
    graph = fixed_in_degree(N, N, K, seed=seed)
    signs = np.where(np.arange(graph.n_synapses) % 3 == 0, -1.0, 1.0)
    graph = graph.with_weights(_coupling(model) * signs / np.sqrt(K))
    low, high = _DRIVE_RANGE.get(name, (1.2, 3.0))
    drive = model.suprathreshold_drive * np.linspace(low, high, N)
    neurons = model.make_group(N, name=f"model_{name}_neurons", **{model.drive_parameter: drive})
    weight = model.weight_variable  # "weight" for AdEx, whose adaptation state is "w"
    on_pre = model.coupling_on_pre
    unit = model.coupling_unit
    dimensionless = get_dimensions(unit).is_dimensionless
    synapses = Synapses(
        neurons,
        neurons,
        model=f"{weight} : 1" if dimensionless else f"{weight} : {unit!r}",
        on_pre=on_pre,
        name=f"model_{name}_synapses",
    )
    graph.connect(synapses, weight_unit=None if dimensionless else unit, weight_variable=weight)
    return [neurons, synapses, SpikeMonitor(neurons, name=f"model_{name}_spikes")]


def _build_library():
    objects = []
    for index, name in enumerate(sorted(MODEL_LIBRARY)):
        objects.extend(_recurrent_group(name, MODEL_LIBRARY[name](), seed=100 + index))
    return Network(*objects)


def _simulate(device, directory):
    options = {"target": "numpy"} if device == "runtime" else {}
    simulation = Simulation(_build_library, DURATION, device=device, directory=directory, **options)
    try:
        simulation.build()
        results = simulation.run(save=False)
        compilations = simulation.compile_count
    finally:
        simulation.close()
    return results, compilations


@pytest.fixture(scope="module")
def library_runs(tmp_path_factory):
    runtime, _ = _simulate("runtime", None)
    standalone, compilations = _simulate(
        "cpp_standalone", str(tmp_path_factory.mktemp("library_cpp"))
    )
    return runtime, standalone, compilations


@pytest.mark.slow
@pytest.mark.standalone
@pytest.mark.parametrize("name", sorted(MODEL_LIBRARY))
def test_runtime_and_cpp_standalone_give_identical_spikes(library_runs, name):
    runtime, standalone, compilations = library_runs
    assert compilations == 1
    monitor = f"model_{name}_spikes"
    reference = runtime.spikes[monitor]
    compiled = standalone.spikes[monitor]
    # The comparison must be meaningful: the network fires, and most neurons do.
    assert len(reference) > N
    assert np.count_nonzero(reference.count()) > N // 2
    np.testing.assert_array_equal(compiled.i, reference.i)
    np.testing.assert_allclose(compiled.t, reference.t, rtol=1e-12, atol=0)


@pytest.mark.slow
@pytest.mark.standalone
def test_coupling_changes_the_spikes(library_runs):
    """Guard against a vacuous comparison: the coupling must act on the dynamics.

    An uncoupled neuron with constant drive fires periodically, so every neuron's
    inter-spike intervals would all be equal (up to one time step); with coupling at
    least one neuron of every model shows irregular intervals.
    """
    runtime, _, _ = library_runs
    for name in sorted(MODEL_LIBRARY):
        trains = runtime.spikes[f"model_{name}_spikes"].trains()
        spreads = [np.ptp(np.diff(t)) for t in trains if len(t) > 3]
        assert spreads, name
        assert max(spreads) > 0.00015, name
