"""Every model of the library gives the same spikes on runtime (numpy) and cpp_standalone.

The library also compiles as one brian2cuda project (needs nvcc, no GPU), and every
model's threshold and reset keep to a constraint of brian2cuda's kernels (checked
without a compiler).

All models are simulated side by side in one network, built once per device, so the
whole library costs one C++ compilation. The networks are deterministic: explicit
seeded connectivity with mixed-sign weights, a heterogeneous constant drive, initial
values given by the models (no random initialisers) and no noise. The runtime numpy
target is the independent reference: it evaluates the same equations through numpy,
while the standalone binary is generated C++ compiled by gcc.
"""

import os

import numpy as np
import pytest
from brian2 import Network, NeuronGroup, SpikeMonitor, Synapses, ms
from brian2.codegen.translation import make_statements
from brian2.core.variables import ArrayVariable, AuxiliaryVariable
from brian2.units.fundamentalunits import get_dimensions
from brian2.utils.stringtools import get_identifiers

from neurosrnn.connectivity import fixed_in_degree
from neurosrnn.devices import Simulation, cuda_available
from neurosrnn.models import MODEL_LIBRARY

HAVE_NVCC = cuda_available()  # brian2cuda importable and nvcc found

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


#: Per-neuron timescales given to the compiled binary as run-time overrides. The ALIF
#: resets read ``tau_m`` and the adaptation time constants, so an override must reach
#: the reset code as well as the state update.
TIMESCALE_OVERRIDES = {
    "model_alif_neurons.tau_m": np.linspace(8.0, 40.0, N) * ms,
    "model_alif_neurons.tau_adp": np.linspace(400.0, 30.0, N) * ms,
    "model_multi_alif_neurons.tau_m": np.linspace(30.0, 10.0, N) * ms,
    "model_multi_alif_neurons.tau_adaptation_1": np.linspace(5.0, 60.0, N) * ms,
}


def _simulate(device, directory):
    """Run the library once as built and once with `TIMESCALE_OVERRIDES` (no recompilation)."""
    options = {"target": "numpy"} if device == "runtime" else {}
    simulation = Simulation(_build_library, DURATION, device=device, directory=directory, **options)
    try:
        simulation.build()
        results = simulation.run(save=False)
        overridden = simulation.run(TIMESCALE_OVERRIDES, save=False)
        compilations = simulation.compile_count
    finally:
        simulation.close()
    return results, overridden, compilations


@pytest.fixture(scope="module")
def library_simulations(tmp_path_factory):
    runtime = _simulate("runtime", None)
    standalone = _simulate("cpp_standalone", str(tmp_path_factory.mktemp("library_cpp")))
    return runtime, standalone


@pytest.fixture(scope="module")
def library_runs(library_simulations):
    (runtime, _, _), (standalone, _, compilations) = library_simulations
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


@pytest.mark.slow
@pytest.mark.standalone
@pytest.mark.parametrize("name", ["alif", "multi_alif"])
def test_timescale_overrides_reach_the_compiled_reset(library_simulations, name):
    """The binary run with new per-neuron timescales equals a runtime run with them."""
    (runtime, runtime_overridden, _), (_, standalone_overridden, compilations) = library_simulations
    assert compilations == 1
    monitor = f"model_{name}_spikes"
    reference = runtime_overridden.spikes[monitor]
    compiled = standalone_overridden.spikes[monitor]
    assert len(reference) > N
    # The overrides act: the spikes differ from the run with the built-in timescales.
    base = runtime.spikes[monitor]
    assert len(base) != len(reference) or not np.array_equal(base.t, reference.t)
    np.testing.assert_array_equal(compiled.i, reference.i)
    np.testing.assert_allclose(compiled.t, reference.t, rtol=1e-12, atol=0)


# ------------------------------------------------------------------ brian2cuda kernels


def _variables_read_in_both_blocks(group, code):
    """Array variables that Brian2's generated code reads in the scalar *and* the vector block.

    Brian2 splits abstract code into a scalar block (run once; it holds loop
    invariants such as ``_lio_1 = -dt``) and a vector block (run per neuron), and each
    block declares a local ``const`` copy of every array variable it reads.
    brian2cuda's threshold and spike-resetter kernels put both blocks in one C++
    scope, so a variable read in both is declared twice and nvcc rejects the kernel.
    """
    variables = dict(group.resolve_all(get_identifiers(code) - {"_cond"}, run_namespace={}))
    variables["_cond"] = AuxiliaryVariable("_cond", dtype=bool)
    scalar, vector = make_statements(code, variables, np.float64, optimise=True)

    def read(statements):
        names = set()
        for statement in statements:
            names |= get_identifiers(statement.expr) | {statement.var}
        return {name for name in names if isinstance(variables.get(name), ArrayVariable)}

    return read(scalar) & read(vector)


def test_reset_reading_dt_in_both_blocks_is_detected():
    """Negative control: the pre-fix ALIF reset hoists ``-dt`` and also reads ``dt`` per neuron."""
    group = NeuronGroup(
        3,
        "dv/dt = -v/tau_m : 1\ndb/dt = -b/tau_adp : 1\ntau_m : second\ntau_adp : second",
        threshold="v > 1",
        reset="b += exp(dt/tau_adp) - 1\nv -= exp(-dt/tau_adp)*b/exp(-dt/tau_m)",
        method="exact",
    )
    resetter = group.resetter["spike"]
    resetter.update_abstract_code(run_namespace={})
    assert _variables_read_in_both_blocks(group, resetter.abstract_code) == {"dt"}


@pytest.mark.parametrize("name", sorted(MODEL_LIBRARY))
def test_threshold_and_reset_read_no_variable_in_both_code_blocks(name):
    group = MODEL_LIBRARY[name]().make_group(3, name=f"model_{name}_neurons")
    for runner in (group.thresholder["spike"], group.resetter["spike"]):
        runner.update_abstract_code(run_namespace={})
        assert runner.abstract_code.strip(), runner.name
        assert _variables_read_in_both_blocks(group, runner.abstract_code) == set(), runner.name


@pytest.mark.slow
@pytest.mark.cuda_compile
@pytest.mark.skipif(not HAVE_NVCC, reason="needs brian2cuda and nvcc")
@pytest.mark.skipif(
    not os.environ.get("NEUROSRNN_CUDA_LIBRARY_COMPILE"),
    reason="compiles about 60 CUDA files (5-20 min on 2 cores), too long for make test; set "
    "NEUROSRNN_CUDA_LIBRARY_COMPILE=1 to run it. In make test the root cause is checked "
    "without nvcc by test_threshold_and_reset_read_no_variable_in_both_code_blocks.",
)
def test_cuda_standalone_compiles_every_model_of_the_library(tmp_path):
    """One cuda_standalone project with all models side by side compiles (one nvcc build)."""
    project = tmp_path / "library_cuda"
    simulation = Simulation(_build_library, DURATION, device="cuda_standalone", directory=project)
    try:
        simulation.build()
        compilations = simulation.compile_count
    finally:
        simulation.close()
    assert compilations == 1
    for name in sorted(MODEL_LIBRARY):
        kernel = project / "code_objects" / f"model_{name}_neurons_spike_resetter_codeobject.cu"
        assert kernel.is_file(), kernel
    binary = project / "main"
    assert binary.is_file() and os.access(binary, os.X_OK)
    assert binary.read_bytes()[:4] == b"\x7fELF"
