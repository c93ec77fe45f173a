"""`Simulation`: a Brian2 network built once on one device and run as often as needed.

On the standalone devices the new values of each run go to the compiled binary through
Brian2's ``run_args``, so a parameter sweep compiles exactly once. Every override is
checked in Python first (`neurosrnn.devices.overrides`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time

from brian2 import Network, NeuronGroup, defaultclock, device, second

from neurosrnn.devices.cuda import check_can_run
from neurosrnn.devices.overrides import (
    describe_value,
    group_size,
    resolve_overrides,
    state_groups,
)
from neurosrnn.devices.selection import reset_brian_state, select_device
from neurosrnn.devices.settings import check_time, device_settings
from neurosrnn.progress import progress_bar
from neurosrnn.results import MANIFEST_NAME, SimulationResults, write_json_atomic

__all__ = ["Simulation", "MANIFEST_NAME"]

_INITIAL_STATE = "neurosrnn_initial_state"

# The simulation whose objects live on Brian2's (global) device.
_active_simulation = None


class Simulation:
    """A network built once on one device and run as often as needed.

    Parameters
    ----------
    build_network : callable
        Called without arguments after the device is selected; creates the Brian2
        objects and returns a `brian2.Network` or an object with a ``network``
        attribute (e.g. `neurosrnn.models.networks.RecurrentNetwork`). All objects
        must be created inside it (Brian2 binds objects to the active device).
    duration : brian2 quantity
        Simulated time of every run.
    device : str or DeviceSettings
        ``"runtime"``, ``"cpp_standalone"`` or ``"cuda_standalone"``.
    directory : str, optional
        Standalone project folder. Brian2 writes the C++/CUDA sources, the makefile
        and the binary ``main`` there. Default: a new temporary folder, deleted with
        everything in it (including default results folders) by `close`.
    dt : brian2 quantity, optional
        Time step (default 0.1 ms).
    namespace : dict, optional
        External constants the model code refers to (units are always available).
    report : {None, "text", "stderr"}
        Progress report: printed by Brian2 (runtime) or by the binary (standalone).
    report_period : brian2 quantity
        Wall-clock time between progress reports.
    metadata : dict, optional
        JSON-serialisable entries added to the metadata of every result.
    **device_options
        `DeviceSettings` fields (``target``, ``openmp_threads``,
        ``compute_capability``, ``gpu_id``, ``portable``).

    Attributes
    ----------
    settings : DeviceSettings
    network : brian2.Network or None
        The built network (None before `build`).
    compile_count : int
        How many times the project was compiled (1 after a standalone build,
        however many runs follow).
    build_seconds : float
        Wall time of the build (code generation and compilation).
    run_seconds : list of float
        Wall time of each run.

    Notes
    -----
    Brian2's device is global, so only one simulation is usable at a time: building
    a new one resets Brian2 and closes the previous one.

    On standalone devices the overrides of `run` are applied through ``run_args``
    when the binary starts, after the initial values set at build time: an initial
    value written as an expression of a parameter (e.g. ``v = "v_rest"``) uses the
    build-time parameter. The runtime device applies them at the same point
    (after restoring the initial state), so both give the same result.
    """

    def __init__(
        self,
        build_network,
        duration,
        *,
        device="runtime",
        directory=None,
        dt=None,
        namespace=None,
        report=None,
        report_period=10 * second,
        metadata=None,
        **device_options,
    ):
        if not callable(build_network):
            raise ValueError("build_network must be a callable returning a brian2.Network")
        check_time("duration", duration)
        if dt is not None:
            check_time("dt", dt)
        if report not in (None, "text", "stdout", "stderr"):
            raise ValueError(f"report must be None, 'text' or 'stderr', got {report!r}")
        self.settings = device_settings(device, device_options)
        if metadata is not None:
            try:
                json.dumps(metadata)  # fail early on non-serialisable metadata
            except (TypeError, ValueError) as error:
                raise TypeError(
                    f"metadata must be JSON-serialisable (str, numbers, lists, dicts): {error}"
                ) from None
        self.build_network = build_network
        self.duration = duration
        self.directory = None if directory is None else os.path.abspath(directory)
        self.dt = dt
        self.namespace = dict(namespace or {})
        self.report = report
        self.report_period = report_period
        self.metadata = dict(metadata or {})
        self.network = None
        self.built_object = None
        self.compile_count = 0
        self.build_seconds = None
        self.run_seconds = []
        self._closed = False
        self._run_count = 0
        self._owns_directory = False

    def __repr__(self):
        state = "closed" if self._closed else ("built" if self.network else "not built")
        where = f", directory={self.directory!r}" if self.directory else ""
        return (
            f"<Simulation on {self.settings.describe()}, duration {self.duration!s}, "
            f"{state}, {self._run_count} run(s){where}>"
        )

    # -- building

    @property
    def is_built(self):
        """Whether `build` has been called (and the simulation was not closed)."""
        return self.network is not None and not self._closed

    def build(self, compile=True):
        """Select the device, create the network and (standalone) generate and compile it.

        Parameters
        ----------
        compile : bool
            Standalone only: compile the project (False: generate sources only).

        Returns
        -------
        Simulation
            ``self``.
        """
        self._activate()
        start = time.perf_counter()
        select_device(self.settings, dt=self.dt)
        built = self.build_network()
        network = built if isinstance(built, Network) else getattr(built, "network", None)
        if not isinstance(network, Network):
            raise ValueError(
                "build_network must return a brian2.Network or an object with a 'network' "
                f"attribute, got {type(built).__name__}"
            )
        self.built_object = built
        self.network = network
        if self.settings.is_standalone:
            self._build_project(compile)
        else:
            network.store(_INITIAL_STATE)
        self.compiled = bool(compile) or not self.settings.is_standalone
        self.build_seconds = time.perf_counter() - start
        return self

    def _activate(self):
        """Make this the active simulation, closing the one active before."""
        global _active_simulation
        if _active_simulation is not None and _active_simulation is not self:
            _active_simulation._closed = True
        self._closed = False
        _active_simulation = self

    def _build_project(self, compile):
        """Generate (and compile) the standalone project; write its manifest."""
        if self.directory is None:
            self.directory = tempfile.mkdtemp(prefix="neurosrnn_standalone_")
            self._owns_directory = True
        os.makedirs(self.directory, exist_ok=True)
        self._run_network()
        device.build(directory=self.directory, compile=compile, run=False, with_output=False)
        if compile:
            self.compile_count += 1
        self._write_manifest()

    def _run_network(self):
        """``network.run`` for `duration` (standalone: records the run in the project)."""
        self.network.run(
            self.duration,
            report=self.report,
            report_period=self.report_period,
            namespace=self.namespace,
        )

    def _write_manifest(self):
        monitors = SimulationResults.describe_monitors(self.network, device)
        manifest = {
            "format": "neurosrnn-standalone-project",
            "format_version": 1,
            "device": self.settings.as_dict(),
            "duration_s": float(self.duration / second),
            "dt_s": float(defaultclock.dt / second),
            "monitors": monitors,
            "groups": {group.name: group_size(group) for group in state_groups(self.network)},
            "metadata": self.metadata,
        }
        write_json_atomic(os.path.join(self.directory, MANIFEST_NAME), manifest)

    def _check_usable(self):
        """Refuse a closed simulation or one that cannot run here; build if needed.

        The GPU check comes before the build, so a ``cuda_standalone`` run on a machine
        without a GPU fails at once instead of after minutes of compilation (`build`
        alone stays possible there).
        """
        if self._closed:
            raise RuntimeError(
                "This simulation was closed (another simulation was built since, and Brian2's "
                "device is global); call build() again"
            )
        check_can_run(self.settings, self.directory)
        if self.network is None:
            self.build()

    # -- running

    def run(self, overrides=None, results_directory=None, save=True):
        """Run the simulation, optionally with new parameter or initial values.

        Parameters
        ----------
        overrides : dict, optional
            ``"group.variable"`` (or bare ``"variable"`` of the neuron group) -> value
            (scalar or one value per neuron, with units). See `resolve_overrides`.
        results_directory : str, optional
            Folder for this run's results: the binary's raw files (standalone) plus
            ``spikes.npz``, ``states.npz`` and ``metadata.json``. Default: standalone
            ``<directory>/results/run_<k>``; runtime: nothing is written.
        save : bool
            Write ``spikes.npz``, ``states.npz`` and ``metadata.json`` into
            `results_directory`.

        Returns
        -------
        SimulationResults

        Raises
        ------
        ValueError, brian2.DimensionMismatchError
            Invalid overrides (checked before anything runs).
        GPUNotAvailableError
            ``cuda_standalone`` on a machine without an NVIDIA GPU; raised before
            anything is built or compiled (use `build` to only compile here).
        RuntimeError
            The simulation was closed, or a standalone project was not compiled.
        """
        self._check_usable()
        resolved = resolve_overrides(self.network, overrides, default_group=self._default_group())
        if self.settings.is_standalone and not self.compiled:
            raise RuntimeError("this standalone project was built with compile=False")
        results_directory = self._results_folder(results_directory)
        start = time.perf_counter()
        if self.settings.is_standalone:
            self._run_binary(resolved, results_directory)
        else:
            self.network.restore(_INITIAL_STATE)
            for group, name, value in resolved:
                setattr(group, name, value)
            self._run_network()
        elapsed = time.perf_counter() - start
        self.run_seconds.append(elapsed)
        self._run_count += 1
        results = SimulationResults.from_network(
            self.network, metadata=self._run_metadata(resolved, elapsed)
        )
        if save and results_directory is not None:
            results.save(results_directory)
        return results

    def _results_folder(self, results_directory):
        """The absolute (created) results folder of the next run, or None (runtime)."""
        if results_directory is None and self.settings.is_standalone:
            results_directory = os.path.join(
                self.directory, "results", f"run_{self._run_count:03d}"
            )
        if results_directory is not None:
            results_directory = os.path.abspath(results_directory)
            os.makedirs(results_directory, exist_ok=True)
        return results_directory

    def _run_binary(self, resolved, results_directory):
        """Run the compiled binary with the checked overrides as ``run_args``."""
        run_args = {getattr(group, name): value for group, name, value in resolved}
        device.run(
            directory=self.directory,
            results_directory=os.path.relpath(results_directory, self.directory),
            with_output=False,
            run_args=run_args,
        )

    def _run_metadata(self, resolved, elapsed):
        """The user's metadata plus device, timing and overrides of one run."""
        metadata = dict(self.metadata)
        metadata.update(
            {
                "device": self.settings.as_dict(),
                "duration_s": float(self.duration / second),
                "dt_s": float(defaultclock.dt / second),
                "overrides": {
                    f"{group.name}.{name}": describe_value(value) for group, name, value in resolved
                },
                "run_seconds": elapsed,
            }
        )
        return metadata

    def sweep(self, override_sets, results_root=None, *, progress=None):
        """Run once per entry of `override_sets`, each in its own results folder.

        Parameters
        ----------
        override_sets : sequence of dict
            One `overrides` dictionary per run; all are checked before the first run.
        results_root : str, optional
            Parent folder; run ``k`` writes to ``results_root/run_<k>`` (default:
            standalone ``<directory>/results``; runtime: nothing is written).
        progress : bool or None
            Progress bar over the runs (see `neurosrnn.progress`; None: on a terminal).

        Returns
        -------
        list of SimulationResults
        """
        self._check_usable()
        override_sets = list(override_sets)
        for overrides in override_sets:
            resolve_overrides(self.network, overrides, default_group=self._default_group())
        results = []
        for index, overrides in enumerate(
            progress_bar(override_sets, label="sweep", unit="runs", progress=progress)
        ):
            folder = None
            if results_root is not None:
                folder = os.path.join(results_root, f"run_{index:03d}")
            elif self.settings.is_standalone:
                folder = os.path.join(self.directory, "results", f"sweep_{index:03d}")
            results.append(self.run(overrides, results_directory=folder))
        return results

    def _default_group(self):
        neurons = getattr(self.built_object, "neurons", None)
        if isinstance(neurons, NeuronGroup):
            return neurons
        groups = [obj for obj in self.network.objects if isinstance(obj, NeuronGroup)]
        return groups[0] if len(groups) == 1 else None

    def close(self):
        """Reset Brian2 to a clean runtime device; this simulation can be built again.

        A temporary project folder created by `build` is deleted.
        """
        global _active_simulation
        if _active_simulation is self:
            _active_simulation = None
            reset_brian_state()
        self._closed = True
        self.network = None
        if self._owns_directory and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
            self._owns_directory = False

    def __enter__(self):
        if not self.is_built:
            self.build()
        return self

    def __exit__(self, *exc_info):
        self.close()
