"""neurosrnn: adaptive multi-timescale spiking recurrent networks on Brian2.

The public API is re-exported here and loaded lazily, so ``import neurosrnn`` is cheap
and never imports an optional extra (brian2cuda, jax, dask, elephant):

- graphs: `Connectivity`, `fixed_in_degree`, `fixed_out_degree`, `erdos_renyi`,
  `balanced_ei` (from `neurosrnn.connectivity`);
- models, samplers and network recipes live in `neurosrnn.models`; measurement in
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
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'neurosrnn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
