"""neurosrnn: adaptive multi-timescale spiking recurrent networks on Brian2."""

from neurosrnn._version import __version__

__all__ = ["__version__"]
