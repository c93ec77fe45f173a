"""neurosrnn: adaptive multi-timescale spiking recurrent networks on Brian2.

The public API is re-exported here and loaded lazily, so ``import neurosrnn`` is cheap
and never imports an optional extra (brian2cuda, jax, dask, elephant):

- graphs (`neurosrnn.connectivity`): `Connectivity`, `fixed_in_degree`,
  `fixed_out_degree`, `erdos_renyi`, `balanced_ei`;
- exact event-driven simulation (`neurosrnn.sparseprop`): `SparsePropNetwork`,
  `balanced_network`, `simulate_reference`, `lyapunov_spectrum`, `exact_network` (Brian2
  models to exact networks), `tabulate` and `PhaseTable` (numerical phase maps);
- Brian2 devices and standalone builds (`neurosrnn.devices`), results (`neurosrnn.results`);
- perturbation-based chaos measures for any Brian2 network (`neurosrnn.perturbation`);
- input coding (`neurosrnn.coding`) and training (`neurosrnn.learning`, extra ``train``);
- sweeps on Dask, with the results store and checkpoints (`neurosrnn.sweep`, extra
  ``sweep``);
- shared helpers: `neurosrnn.units` (times and quantities), `neurosrnn.validation`
  (seeds, integers, paths), `neurosrnn.progress` (progress bars), `neurosrnn.atomic`
  (atomic file writes).

Models, samplers and network recipes live in `neurosrnn.models`; measurement in
`neurosrnn.analysis`.
"""

from importlib import import_module

from neurosrnn._version import __version__

_LAZY = {
    "Connectivity": "neurosrnn.connectivity",
    "fixed_in_degree": "neurosrnn.connectivity",
    "fixed_out_degree": "neurosrnn.connectivity",
    "erdos_renyi": "neurosrnn.connectivity",
    "balanced_ei": "neurosrnn.connectivity",
    "SparsePropNetwork": "neurosrnn.sparseprop",
    "SparsePropState": "neurosrnn.sparseprop",
    "SparsePropResult": "neurosrnn.sparseprop",
    "balanced_network": "neurosrnn.sparseprop",
    "simulate_reference": "neurosrnn.sparseprop",
    "exact_network": "neurosrnn.sparseprop",
    "tabulate": "neurosrnn.sparseprop",
    "PhaseTable": "neurosrnn.sparseprop",
    "spike_gradients": "neurosrnn.sparseprop",
    "InputSpikes": "neurosrnn.sparseprop",
    "lyapunov_spectrum": "neurosrnn.sparseprop",
    "largest_exponent_two_trajectory": "neurosrnn.sparseprop",
    "two_trajectory_lyapunov": "neurosrnn.perturbation",
    "finite_size_lyapunov": "neurosrnn.perturbation",
    "extra_spike_experiment": "neurosrnn.perturbation",
    "encode": "neurosrnn.coding",
    "write_nwb": "neurosrnn.nwb",
    "read_nwb": "neurosrnn.nwb",
    "NWBContents": "neurosrnn.nwb",
}
_SUBMODULES = (
    "analysis",
    "coding",
    "connectivity",
    "devices",
    "learning",
    "models",
    "nwb",
    "perturbation",
    "results",
    "sparseprop",
    "sweep",
    "units",
    "validation",
    "progress",
    "atomic",
)
#: Old submodules, still importable (they warn and name their new home).
_DEPRECATED_SUBMODULES = ("store", "checkpoint", "sweep_file")

__all__ = ["__version__", *_LAZY, *_SUBMODULES]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
    elif name in _SUBMODULES or name in _DEPRECATED_SUBMODULES:
        value = import_module(f"neurosrnn.{name}")
    else:
        raise AttributeError(f"module 'neurosrnn' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))
