"""Perturbation measures of chaos for any Brian2 network.

These measures need no Jacobian: they follow a reference trajectory and a perturbed
copy of the same network and compare a state variable of one `brian2.NeuronGroup`.
By default (``device=None``, runtime device, numpy or cython target) both copies live
in one `brian2.Network` and are advanced in turn with `Network.store` /
`Network.restore`, so the network is built once and any model, synapse type or
monitor works unchanged.

* `two_trajectory_exponent`: largest Lyapunov exponent from a small perturbation that
  is renormalised to size :math:`\\epsilon` after every interval :math:`\\Delta`
  (Benettin, Galgani & Strelcyn 1976, Phys. Rev. A 14:2338):
  :math:`\\lambda_{max} = \\langle \\ln(d/\\epsilon) \\rangle / \\Delta`, as a
  `neurosrnn.analysis.TwoTrajectoryResult` (the name and the result are shared with
  `neurosrnn.sparseprop.two_trajectory_exponent` and the rate networks'
  `neurosrnn.analysis.lyapunov.two_trajectory_exponent`; `two_trajectory_lyapunov`
  is its deprecated old name).
* `finite_size_lyapunov`: the same growth rate as a function of the perturbation
  size :math:`\\epsilon` (a finite-size Lyapunov exponent; Aurell, Boffetta,
  Crisanti, Paladin & Vulpiani 1996, Phys. Rev. Lett. 77:1262). In inhibitory LIF
  networks small perturbations decay while large ones grow ("stable chaos", flux
  tubes: Zillmer et al. 2006, Phys. Rev. E 74:036203; Monteforte & Wolf 2012,
  Phys. Rev. X 2:041007).
* `divergence_curve` and `extra_spike_experiment`: the distance between the two
  trajectories over time after one perturbation, e.g. a single extra spike in one
  neuron (London, Roth, Beeren, Häusser & Latham 2010, Nature 466:123): the number of
  extra spikes it causes and the growth of the spike-train distance.

With ``device="cpp_standalone"`` or ``"cuda_standalone"`` all four measures run on
Brian2's standalone devices: the network is then compiled once with
`neurosrnn.devices.Simulation` for one interval (renormalisation or sample interval),
and every interval of each copy is one run of the binary, started from the copy's
state through ``run_args`` (all differential-equation variables of the group are
carried over; synaptic state, ``lastspike`` and random-number streams are not).

Distances are Euclidean norms of the difference of the perturbed state variable
(values in SI units, e.g. volt), optionally wrapped to a period (theta neurons:
:math:`2\\pi`). Only that variable is renormalised; other state variables keep the
perturbed copy's values, so list models with several dynamic variables with care.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from brian2 import NeuronGroup, SpikeMonitor, second
from brian2.devices.device import RuntimeDevice, get_device
from brian2.units.fundamentalunits import Quantity

from neurosrnn.analysis.exponents import TwoTrajectoryResult
from neurosrnn.progress import progress_bar
from neurosrnn.units import to_seconds

__all__ = [
    "TwoTrajectoryResult",
    "FiniteSizeLyapunov",
    "DivergenceCurve",
    "two_trajectory_exponent",
    "two_trajectory_lyapunov",
    "finite_size_lyapunov",
    "divergence_curve",
    "extra_spike_experiment",
    "spike_train_distance",
]

_REFERENCE = "_neurosrnn_reference"
_PERTURBED = "_neurosrnn_perturbed"
_START = "_neurosrnn_start"


# --------------------------------------------------------------------------- results


def __getattr__(name):
    if name == "TwoTrajectoryLyapunov":
        warnings.warn(
            "neurosrnn.perturbation.TwoTrajectoryLyapunov is deprecated; the two-trajectory "
            "estimates of every engine return neurosrnn.analysis.TwoTrajectoryResult",
            DeprecationWarning,
            stacklevel=2,
        )
        return TwoTrajectoryResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class FiniteSizeLyapunov:
    """Growth rate of renormalised perturbations as a function of their size.

    Attributes
    ----------
    epsilons : ndarray
        Perturbation sizes (SI units of `variable`).
    exponents : ndarray
        :math:`\\lambda(\\epsilon) = \\langle\\ln(d/\\epsilon)\\rangle/\\Delta` in 1/s.
    standard_errors : ndarray
        Standard errors of `exponents` over intervals.
    fraction_growing : ndarray
        Fraction of intervals in which the perturbation grew (:math:`d > \\epsilon`).
    interval : float
        :math:`\\Delta` in seconds.
    variable : str
    """

    epsilons: np.ndarray
    exponents: np.ndarray
    standard_errors: np.ndarray
    fraction_growing: np.ndarray
    interval: float
    variable: str

    def __repr__(self):
        rows = ", ".join(
            f"{eps:.2g}: {lam:.3g}" for eps, lam in zip(self.epsilons, self.exponents, strict=True)
        )
        return f"<FiniteSizeLyapunov {self.variable!r} lambda(epsilon) [1/s] = {{{rows}}}>"


@dataclass
class DivergenceCurve:
    """Distance between a reference and a perturbed trajectory over time.

    Attributes
    ----------
    times : ndarray
        Sample times (s) after the perturbation.
    distance : ndarray
        State distance (norm of the variable difference) at `times`.
    extra_spikes : ndarray
        Spikes of the perturbed run minus spikes of the reference run up to `times`.
    spike_distance : ndarray
        Spike-train distance at `times` (see `spike_train_distance`).
    reference_spikes, perturbed_spikes : tuple of ndarray
        ``(indices, times)`` of both runs (times in s from the perturbation).
    initial_distance : float
        Distance right after the perturbation.
    """

    times: np.ndarray
    distance: np.ndarray
    extra_spikes: np.ndarray
    spike_distance: np.ndarray
    reference_spikes: tuple
    perturbed_spikes: tuple
    initial_distance: float
    info: dict = field(default_factory=dict)

    def __repr__(self):
        return (
            f"<DivergenceCurve {self.times.size} samples over {self.times[-1]:.4g} s: "
            f"distance {self.initial_distance:.3g} -> {self.distance[-1]:.3g}, "
            f"{int(self.extra_spikes[-1]):+d} spikes>"
        )


# --------------------------------------------------------------------------- helpers


def _plain(value, name, positive=True):
    """A number (Quantity in SI, or float) as a float."""
    if isinstance(value, Quantity):
        value = np.asarray(value)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(value) or (positive and value <= 0):
        raise ValueError(f"{name} must be a finite number{' > 0' if positive else ''}")
    return value


def _check_runtime():
    if not isinstance(get_device(), RuntimeDevice):
        raise ValueError(
            "with device=None the perturbation measures need Brian2's runtime device (they "
            "use Network.store and Network.restore); call brian2.set_device('runtime') "
            "first, or pass device='cpp_standalone' / 'cuda_standalone'"
        )


def _check_device_name(device):
    if device is None:
        return None
    from neurosrnn.devices import DEVICES, DeviceSettings

    if isinstance(device, DeviceSettings):
        return device
    if device not in DEVICES:
        raise ValueError(f"device must be None or one of {DEVICES}, got {device!r}")
    return device


def _build(build, variable, check_device=True):
    """Call `build` and check that it gives (Network, NeuronGroup) with `variable`."""
    if check_device:
        _check_runtime()
    if not callable(build):
        raise ValueError("build must be a function returning (brian2.Network, NeuronGroup)")
    built = build()
    if not (isinstance(built, tuple) and len(built) == 2):
        raise ValueError("build() must return a tuple (brian2.Network, brian2.NeuronGroup)")
    network, group = built
    if not isinstance(group, NeuronGroup):
        raise ValueError(f"build() must return a NeuronGroup second, got {type(group).__name__}")
    if group not in network.objects:
        raise ValueError("the NeuronGroup returned by build() must be part of the Network")
    if not isinstance(variable, str) or variable not in group.variables:
        raise ValueError(f"variable {variable!r} is not a state variable of {group.name}")
    if getattr(group.variables[variable], "read_only", False) or getattr(
        group.variables[variable], "constant", False
    ):
        raise ValueError(f"variable {variable!r} must be a dynamic (writable) state variable")
    return network, group


def _read(group, variable):
    return np.array(getattr(group, variable + "_"), dtype=float)


def _write(group, variable, values):
    setattr(group, variable + "_", values)


def _wrap(difference, period):
    if period is None:
        return difference
    return (difference + 0.5 * period) % period - 0.5 * period


def _period(period):
    return None if period is None else _plain(period, "period")


class _SimulationStepper:
    """Advance a state of the group's dynamic variables by one interval on any device."""

    def __init__(self, build, variable, interval, device, directory, record_spikes=False):
        from neurosrnn.devices import Simulation, user_variables

        built = {}

        def build_network():
            network, group = _build(build, variable, check_device=False)
            built["group"] = group
            if record_spikes:
                built["monitor"] = SpikeMonitor(group, record=True)
                network.add(built["monitor"])
            return network

        self.simulation = Simulation(
            build_network, interval * second, device=device, directory=directory
        )
        self.simulation.build()
        self.group = built["group"]
        self.monitor = built.get("monitor")
        self.names = [
            name
            for name in user_variables(self.group)
            if name in self.group.equations.diff_eq_names
        ]
        if variable not in self.names:
            self.names.append(variable)
        self.runs = 0

    def advance(self, state=None):
        """Run one interval from `state` (dict name -> SI array; None: built state)."""
        overrides = None
        if state is not None:
            overrides = {
                f"{self.group.name}.{name}": Quantity(values, dim=self.group.variables[name].dim)
                for name, values in state.items()
            }
        self.simulation.run(overrides, save=False)
        self.runs += 1
        return {name: _read(self.group, name) for name in self.names}

    def spikes(self):
        """``(indices, times in s)`` of the last run (times from the start of that run)."""
        return (
            np.array(self.monitor.i[:], dtype=np.int64),
            np.array(self.monitor.t[:] / second, dtype=float),
        )

    def close(self):
        self.simulation.close()


@dataclass
class _Perturbation:
    """What the renormalised measures perturb: `variable` of `neurons`, wrapped to `period`."""

    variable: str
    period: float | None
    neurons: np.ndarray
    rng: np.random.Generator

    def displacement(self, values, epsilon):
        """A random displacement of norm `epsilon` on `neurons` (shape of `values`)."""
        direction = np.zeros_like(values)
        direction[self.neurons] = self.rng.standard_normal(self.neurons.size)
        direction *= epsilon / np.linalg.norm(direction)
        return direction

    def renormalize(self, perturbed, reference, direction, epsilon):
        """``(ln(d/epsilon), perturbed values rescaled to distance epsilon)``.

        A perturbation that vanished (``d = 0``) gives ``-inf`` and restarts along
        `direction`.
        """
        difference = _wrap(perturbed - reference, self.period)
        distance = float(np.linalg.norm(difference))
        if distance == 0:
            log_growth = -np.inf
            difference, distance = direction, epsilon
        else:
            log_growth = math.log(distance / epsilon)
        return log_growth, reference + difference * (epsilon / distance)


def _simulation_growth(stepper, perturbation, epsilon, n_burn_in, n_intervals, bar, start=None):
    """Renormalised two-copy growth with every interval a separate run of the binary.

    Returns ``ln(d/epsilon)`` per interval and the start state (after `n_burn_in`
    intervals when `start` is None), so that several sizes can share it.
    """
    variable = perturbation.variable
    if start is None:
        start = stepper.advance()
        for _ in range(n_burn_in):
            start = stepper.advance(start)
    reference = {name: values.copy() for name, values in start.items()}
    direction = perturbation.displacement(reference[variable], epsilon)
    perturbed = {name: values.copy() for name, values in start.items()}
    perturbed[variable] = reference[variable] + direction
    growth = np.empty(n_intervals)
    for step in range(n_intervals):
        reference = stepper.advance(reference)
        perturbed = stepper.advance(perturbed)
        growth[step], perturbed[variable] = perturbation.renormalize(
            perturbed[variable], reference[variable], direction, epsilon
        )
        bar.update(1)
    return growth, start


def _renormalized_growth(network, group, perturbation, epsilon, interval, n_intervals, bar):
    """Follow reference + perturbation of size epsilon, renormalising every interval.

    The network must hold its start state as the stored snapshot `_START`; both
    copies take turns through ``Network.store``/``restore``. Returns ``ln(d/epsilon)``
    per interval.
    """
    variable = perturbation.variable
    network.restore(_START)
    reference = _read(group, variable)
    direction = perturbation.displacement(reference, epsilon)
    network.store(_REFERENCE)
    _write(group, variable, reference + direction)
    network.store(_PERTURBED)
    growth = np.empty(n_intervals)
    for step in range(n_intervals):
        network.restore(_REFERENCE)
        network.run(interval * second)
        reference = _read(group, variable)
        network.store(_REFERENCE)
        network.restore(_PERTURBED)
        network.run(interval * second)
        growth[step], perturbed = perturbation.renormalize(
            _read(group, variable), reference, direction, epsilon
        )
        _write(group, variable, perturbed)
        network.store(_PERTURBED)
        bar.update(1)
    network.restore(_REFERENCE)
    return growth


def _neurons(group, neurons):
    if neurons is None:
        return np.arange(len(group))
    neurons = np.unique(np.asarray(neurons))
    if neurons.size == 0 or neurons.dtype.kind not in "iu":
        raise ValueError("neurons must be a non-empty array of integer indices")
    if neurons[0] < 0 or neurons[-1] >= len(group):
        raise ValueError(f"neurons must lie in [0, {len(group)})")
    return neurons


# --------------------------------------------------------------------------- measures


def two_trajectory_exponent(
    build,
    variable,
    *,
    duration,
    interval,
    epsilon=1e-8,
    burn_in=0.0,
    transient=None,
    period=None,
    neurons=None,
    n_segments=10,
    seed=0,
    progress=None,
    device=None,
    directory=None,
):
    """Largest Lyapunov exponent of a Brian2 network from a renormalised perturbation.

    After `burn_in`, the state `variable` of the group is displaced by a random vector
    of norm `epsilon`. Reference and perturbed copies are run for `interval` each; the
    distance :math:`d` of the variable is measured, :math:`\\ln(d/\\epsilon)` is
    accumulated and the displacement rescaled to `epsilon`:

    .. math:: \\lambda_{max} = \\frac{1}{n\\Delta}\\sum_{k=1}^{n} \\ln\\frac{d_k}{\\epsilon}.

    Parameters
    ----------
    build : callable
        ``build() -> (network, group)``: a `brian2.Network` and the `NeuronGroup`
        whose variable is perturbed. Called once.
    variable : str
        Name of the state variable to perturb (e.g. ``"theta"``, ``"v"``).
    duration : brian2 time or float (s)
        Averaging time.
    interval : brian2 time or float (s)
        Renormalisation interval :math:`\\Delta` (a multiple of ``dt``); the
        perturbation must stay small (linear) over it.
    epsilon : float or quantity
        Perturbation size in the units of `variable` (SI values, e.g. volt).
    burn_in : brian2 time or float (s)
        Time simulated first.
    transient : brian2 time or float (s), optional
        Renormalised time discarded before averaging (default: ``duration / 10``),
        while the perturbation aligns with the leading direction.
    period : float, optional
        Wrap differences to this period (``2*pi`` for theta neurons).
    neurons : array of int, optional
        Perturb only these neurons (the distance still covers all).
    n_segments : int
        Contiguous segments for the error bar.
    seed : int
        Seed of the perturbation direction.
    progress : bool or None
        Progress bar on stderr (`neurosrnn.progress.progress_bar`): None (default) on an
        interactive terminal only, True always, False never.
    device : {None, "runtime", "cpp_standalone", "cuda_standalone"} or DeviceSettings
        None: run in the current runtime device with ``Network.store``/``restore``.
        A device name: compile once with `neurosrnn.devices.Simulation` and run the
        binary once per interval and copy (`burn_in` is rounded to whole intervals;
        the time restarts at 0 in every run, so the network must be autonomous).
        Brian2 is reset to a clean runtime device afterwards.
    directory : str, optional
        Standalone project folder (default: a temporary folder).

    Returns
    -------
    TwoTrajectoryResult
        ``exponent`` in 1/s, ``variable`` the perturbed variable.

    Raises
    ------
    ValueError
        Bad arguments, a non-runtime device, or `build` not returning a network and
        a group with `variable`.

    Notes
    -----
    In a clock-driven simulation pulses reach their targets at the end of the step in
    which the threshold was crossed. An infinitesimal shift of a spike time then never
    reaches the targets, so the term :math:`(1 - d_i)\\,\\delta\\phi_{j^*}` of the
    single-spike Jacobian (Monteforte & Wolf 2010) is missing, and a chaotic
    pulse-coupled network (theta neurons) can look stable to small `epsilon`: with the
    plain ``on_pre`` of `neurosrnn.models.theta` and ``dt = 0.1 ms`` we measured
    :math:`\\lambda \\approx -2` 1/s where the exact value is +26 1/s. Either deliver
    each pulse at its sub-step crossing time (move the target back by the presynaptic
    overshoot time, kick, move forward; Hansel, Mato, Meunier & Neltner 1998, Neural
    Comput. 10:467; example in ``tests/test_perturbation.py``, which then agrees with
    the exact exponent within a few percent), or read the result at finite `epsilon`
    with `finite_size_lyapunov`. Models with continuous synaptic currents are not
    affected.
    """
    duration = to_seconds(duration, "duration", positive=True)
    interval = to_seconds(interval, "interval", positive=True)
    burn_in = to_seconds(burn_in, "burn_in", nonnegative=True)
    if transient is None:
        transient = duration / 10
    else:
        transient = to_seconds(transient, "transient", nonnegative=True)
    epsilon = _plain(epsilon, "epsilon")
    period = _period(period)
    device = _check_device_name(device)
    n_transient = int(round(transient / interval))
    n_intervals = max(1, int(round(duration / interval)))
    runs = _RenormalizedRuns(build, variable, interval, burn_in, period, neurons, seed)
    with progress_bar(
        total=n_transient + n_intervals,
        label="two trajectories",
        progress=progress,
        unit="intervals",
    ) as bar:
        (growth,) = runs.growth([epsilon], n_transient + n_intervals, bar, device, directory)
    return TwoTrajectoryResult.from_log_growth(
        growth[n_transient:], interval, epsilon=epsilon, n_segments=n_segments, variable=variable
    )


def two_trajectory_lyapunov(build, variable, **kwargs):
    """Deprecated: use `two_trajectory_exponent` (same arguments, same result)."""
    warnings.warn(
        "neurosrnn.perturbation.two_trajectory_lyapunov is deprecated; use "
        "neurosrnn.perturbation.two_trajectory_exponent",
        DeprecationWarning,
        stacklevel=2,
    )
    return two_trajectory_exponent(build, variable, **kwargs)


@dataclass
class _RenormalizedRuns:
    """Renormalised two-copy runs of one network for one or several perturbation sizes.

    Every size starts from the same state after `burn_in`; the random directions come
    one after the other from one generator seeded with `seed`.
    """

    build: object
    variable: str
    interval: float
    burn_in: float
    period: float | None
    neurons: object
    seed: int

    def growth(self, epsilons, n_intervals, bar, device=None, directory=None):
        """``ln(d/epsilon)`` of `n_intervals` intervals for every size in `epsilons`."""
        rng = np.random.default_rng(self.seed)
        if device is not None:
            return self._on_device(epsilons, n_intervals, rng, bar, device, directory)
        network, group = _build(self.build, self.variable)
        perturbation = _Perturbation(self.variable, self.period, _neurons(group, self.neurons), rng)
        if self.burn_in > 0:
            network.run(self.burn_in * second)
        network.store(_START)
        return [
            _renormalized_growth(
                network, group, perturbation, float(epsilon), self.interval, n_intervals, bar
            )
            for epsilon in epsilons
        ]

    def _on_device(self, epsilons, n_intervals, rng, bar, device, directory):
        stepper = _SimulationStepper(self.build, self.variable, self.interval, device, directory)
        try:
            perturbation = _Perturbation(
                self.variable, self.period, _neurons(stepper.group, self.neurons), rng
            )
            n_burn_in = max(0, int(round(self.burn_in / self.interval)) - 1)
            growths, start = [], None
            for epsilon in epsilons:
                growth, start = _simulation_growth(
                    stepper, perturbation, float(epsilon), n_burn_in, n_intervals, bar, start
                )
                growths.append(growth)
        finally:
            stepper.close()
        return growths


def finite_size_lyapunov(
    build,
    variable,
    *,
    epsilons,
    interval,
    n_intervals,
    burn_in=0.0,
    period=None,
    neurons=None,
    seed=0,
    progress=None,
    device=None,
    directory=None,
):
    """Growth rate of renormalised perturbations of fixed size, for several sizes.

    For each :math:`\\epsilon`, the perturbation is renormalised to size
    :math:`\\epsilon` after every `interval` :math:`\\Delta` and

    .. math:: \\lambda(\\epsilon) = \\frac{1}{n\\Delta} \\sum_k \\ln\\frac{d_k}{\\epsilon}.

    For :math:`\\epsilon \\to 0` this is :math:`\\lambda_{max}`; at large
    :math:`\\epsilon` it measures whether finite perturbations grow. Stable chaos
    (inhibitory LIF networks) shows as :math:`\\lambda(\\epsilon) < 0` for small and
    :math:`> 0` for large :math:`\\epsilon` (Monteforte & Wolf 2012, Phys. Rev. X
    2:041007). Every size starts from the same state (after `burn_in`).

    Parameters
    ----------
    build : callable
        ``build() -> (network, group)``, as in `two_trajectory_exponent`.
    variable : str
        State variable to perturb.
    epsilons : array of float
        Perturbation sizes (SI units of `variable`), each > 0.
    interval : brian2 time or float (s)
        Renormalisation interval.
    n_intervals : int
        Intervals per size.
    burn_in, period, neurons, seed, progress, device, directory
        As in `two_trajectory_exponent`.

    Returns
    -------
    FiniteSizeLyapunov

    References
    ----------
    Aurell E. et al. (1996), Phys. Rev. Lett. 77:1262 (finite-size Lyapunov exponent).
    """
    epsilons = np.atleast_1d(np.asarray(epsilons, dtype=float))
    if epsilons.ndim != 1 or epsilons.size == 0 or not np.all(np.isfinite(epsilons)):
        raise ValueError("epsilons must be a non-empty 1-D array of finite sizes")
    if np.any(epsilons <= 0):
        raise ValueError("epsilons must all be > 0")
    interval = to_seconds(interval, "interval", positive=True)
    if isinstance(n_intervals, bool) or not isinstance(n_intervals, int | np.integer):
        raise ValueError(f"n_intervals must be a positive integer, got {n_intervals!r}")
    if n_intervals < 1:
        raise ValueError(f"n_intervals must be a positive integer, got {n_intervals!r}")
    burn_in = to_seconds(burn_in, "burn_in", nonnegative=True)
    period = _period(period)
    device = _check_device_name(device)
    runs = _RenormalizedRuns(build, variable, interval, burn_in, period, neurons, seed)
    with progress_bar(
        total=epsilons.size * n_intervals,
        label="finite-size exponents",
        progress=progress,
        unit="intervals",
    ) as bar:
        growths = runs.growth(epsilons, int(n_intervals), bar, device, directory)
    exponents, errors, growing = [], [], []
    for growth in growths:
        finite = np.where(np.isfinite(growth), growth, np.log(np.finfo(float).tiny))
        exponents.append(finite.mean() / interval)
        errors.append(
            finite.std(ddof=1) / math.sqrt(finite.size) / interval if finite.size > 1 else np.nan
        )
        growing.append(float(np.mean(growth > 0)))
    return FiniteSizeLyapunov(
        epsilons=epsilons,
        exponents=np.asarray(exponents),
        standard_errors=np.asarray(errors),
        fraction_growing=np.asarray(growing),
        interval=interval,
        variable=variable,
    )


def spike_train_distance(reference, perturbed, N, times, time_constant):
    """Van Rossum distance between two network spike trains, as a function of time.

    Each spike train is filtered with a causal exponential kernel,
    :math:`f_i(t) = \\sum_{s: t_s \\le t} e^{-(t - t_s)/\\tau}`, and the distance at
    time :math:`t` is :math:`D(t) = \\sqrt{\\sum_i (f_i(t) - g_i(t))^2}` over all
    neurons (van Rossum 2001, Neural Comput. 13:751, evaluated pointwise in time).
    Identical trains give 0; one extra spike gives at most 1.

    Parameters
    ----------
    reference, perturbed : tuple of arrays
        ``(indices, times)`` of each run (times in s).
    N : int
        Number of neurons.
    times : array
        Sample times (s), sorted.
    time_constant : float
        Kernel time constant :math:`\\tau` (s, > 0).

    Returns
    -------
    ndarray
        :math:`D` at `times`.
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or np.any(np.diff(times) < 0):
        raise ValueError("times must be a sorted 1-D array")
    tau = to_seconds(time_constant, "time_constant", positive=True)
    state = np.zeros(int(N))
    out = np.empty(times.size)
    events = []
    for sign, (indices, spike_times) in ((1.0, reference), (-1.0, perturbed)):
        indices = np.asarray(indices, dtype=np.int64)
        spike_times = np.asarray(spike_times, dtype=float)
        events.append((indices, spike_times, np.full(indices.size, sign)))
    indices = np.concatenate([e[0] for e in events])
    spike_times = np.concatenate([e[1] for e in events])
    signs = np.concatenate([e[2] for e in events])
    order = np.argsort(spike_times, kind="stable")
    indices, spike_times, signs = indices[order], spike_times[order], signs[order]
    bins = np.searchsorted(times, spike_times, side="left")  # spike at t_s counts for t >= t_s
    previous = times[0] if times.size else 0.0
    for k, t in enumerate(times):
        state *= math.exp(-(t - previous) / tau)
        lo, hi = np.searchsorted(bins, [k, k + 1])
        if hi > lo:
            np.add.at(state, indices[lo:hi], signs[lo:hi] * np.exp(-(t - spike_times[lo:hi]) / tau))
        out[k] = math.sqrt(float(state @ state))
        previous = t
    return out


def divergence_curve(
    build,
    variable,
    *,
    perturbation,
    duration,
    sample_interval,
    burn_in=0.0,
    period=None,
    spike_time_constant=0.01,
    progress=None,
    device=None,
    directory=None,
):
    """Follow a reference and a once-perturbed trajectory and measure how they diverge.

    Parameters
    ----------
    build : callable
        ``build() -> (network, group)``, as in `two_trajectory_exponent`. A
        `SpikeMonitor` on the group is added.
    variable : str
        State variable that `perturbation` changes and that distances are taken on.
    perturbation : array or callable
        Either the displacement added to `variable` (SI values, length N), or a
        function ``f(values) -> new_values``.
    duration : brian2 time or float (s)
        Time followed after the perturbation.
    sample_interval : brian2 time or float (s)
        Spacing of the distance samples (a multiple of ``dt``).
    burn_in, period
        As in `two_trajectory_exponent`.
    spike_time_constant : brian2 time or float (s)
        Kernel time constant of `spike_train_distance`.
    progress : bool or None
        Progress bar on stderr (`neurosrnn.progress.progress_bar`): None (default) on an
        interactive terminal only, True always, False never.
    device, directory
        As in `two_trajectory_exponent`; on a device every sample interval of each
        run is one run of the compiled binary.

    Returns
    -------
    DivergenceCurve
    """
    duration = to_seconds(duration, "duration", positive=True)
    sample_interval = to_seconds(sample_interval, "sample_interval", positive=True)
    burn_in = to_seconds(burn_in, "burn_in", nonnegative=True)
    spike_time_constant = to_seconds(spike_time_constant, "spike_time_constant", positive=True)
    period = _period(period)
    device = _check_device_name(device)
    n_samples = max(1, int(round(duration / sample_interval)))
    follow = _divergence_runs_at_runtime if device is None else _divergence_runs_on_device
    with progress_bar(
        total=2 * n_samples, label="divergence", progress=progress, unit="samples"
    ) as bar:
        original, changed, runs = follow(
            build, variable, perturbation, n_samples, sample_interval, burn_in, bar,
            device=device, directory=directory,
        )  # fmt: skip
    times = sample_interval * np.arange(1, n_samples + 1)
    (reference_states, reference_counts, reference_spikes) = runs[0]
    (perturbed_states, perturbed_counts, perturbed_spikes) = runs[1]
    return DivergenceCurve(
        times=times,
        distance=np.linalg.norm(_wrap(perturbed_states - reference_states, period), axis=1),
        extra_spikes=perturbed_counts - reference_counts,
        spike_distance=spike_train_distance(
            reference_spikes, perturbed_spikes, original.size, times, spike_time_constant
        ),
        reference_spikes=reference_spikes,
        perturbed_spikes=perturbed_spikes,
        initial_distance=float(np.linalg.norm(_wrap(changed - original, period))),
    )


def _divergence_runs_at_runtime(
    build, variable, perturbation, n_samples, sample_interval, burn_in, bar, **_
):
    """Reference and perturbed run in the runtime device (``Network.store``/``restore``).

    Returns the unperturbed and perturbed start values and, per run, the sampled
    states, the spike counts and the spikes ``(indices, times from the start)``.
    """
    network, group = _build(build, variable)
    monitor = SpikeMonitor(group, record=True)
    network.add(monitor)
    if burn_in > 0:
        network.run(burn_in * second)
    start_time = float(network.t / second)
    original = _read(group, variable)
    changed = _perturbed_values(perturbation, original)
    network.store(_REFERENCE)
    runs = []
    for values in (None, changed):
        network.restore(_REFERENCE)
        if values is not None:
            _write(group, variable, values)
        first = monitor.num_spikes
        states = np.empty((n_samples, original.size))
        counts = np.empty(n_samples)
        for k in range(n_samples):
            network.run(sample_interval * second)
            states[k] = _read(group, variable)
            counts[k] = monitor.num_spikes - first
            bar.update(1)
        spikes = (
            np.array(monitor.i[first:], dtype=np.int64),
            np.array(monitor.t[first:] / second, dtype=float) - start_time,
        )
        runs.append((states, counts, spikes))
    network.restore(_REFERENCE)
    return original, changed, runs


def _perturbed_values(perturbation, original):
    if callable(perturbation):
        changed = np.asarray(perturbation(original.copy()), dtype=float)
    else:
        displacement = np.asarray(perturbation, dtype=float)
        if displacement.shape != original.shape:
            raise ValueError(
                f"perturbation must have one entry per neuron ({original.size}), "
                f"got shape {displacement.shape}"
            )
        changed = original + displacement
    if changed.shape != original.shape or not np.all(np.isfinite(changed)):
        raise ValueError("the perturbed values must be finite, one per neuron")
    return changed


def _divergence_runs_on_device(
    build,
    variable,
    perturbation,
    n_samples,
    sample_interval,
    burn_in,
    bar,
    *,
    device,
    directory,
):
    """`_divergence_runs_at_runtime` with one binary run per sample interval and copy."""
    stepper = _SimulationStepper(
        build, variable, sample_interval, device, directory, record_spikes=True
    )
    try:
        start = stepper.advance()
        for _ in range(max(0, int(round(burn_in / sample_interval)) - 1)):
            start = stepper.advance(start)
        original = start[variable]
        changed = _perturbed_values(perturbation, original)
        runs = []
        for values in (original, changed):
            state = dict(start)
            state[variable] = values
            states = np.empty((n_samples, original.size))
            counts = np.empty(n_samples)
            indices, times = [], []
            for k in range(n_samples):
                state = stepper.advance(state)
                states[k] = state[variable]
                run_indices, run_times = stepper.spikes()
                indices.append(run_indices)
                times.append(run_times + k * sample_interval)
                counts[k] = sum(part.size for part in indices)
                bar.update(1)
            runs.append((states, counts, (np.concatenate(indices), np.concatenate(times))))
    finally:
        stepper.close()
    return original, changed, runs


def extra_spike_experiment(
    build,
    variable,
    *,
    neuron,
    spike_value,
    duration,
    sample_interval,
    burn_in=0.0,
    period=None,
    spike_time_constant=0.01,
    progress=None,
    device=None,
    directory=None,
):
    """Add one extra spike to one neuron and follow its consequences (London et al. 2010).

    The variable of `neuron` is set to `spike_value` (a value beyond threshold, e.g.
    ``theta = pi + 1e-6`` or ``v = v_threshold + 1*mV``), so it fires in the next
    time step; everything else is unchanged. The result tracks the extra spikes the
    network emits relative to the unperturbed run, the spike-train distance and the
    state distance over time. In a chaotic network the spike-train distance grows
    until the two runs are uncorrelated; London, Roth, Beeren, Häusser & Latham
    (2010, Nature 466:123) found about 28 extra spikes per extra spike in rat
    barrel cortex.

    Parameters
    ----------
    build, variable, duration, sample_interval, burn_in, period, spike_time_constant,
    progress, device, directory
        As in `divergence_curve`.
    neuron : int
        Index of the neuron that gets the extra spike.
    spike_value : float or quantity
        Value of `variable` that makes that neuron fire at the next step.

    Returns
    -------
    DivergenceCurve
    """
    if isinstance(neuron, bool) or not isinstance(neuron, int | np.integer) or neuron < 0:
        raise ValueError(f"neuron must be a non-negative integer index, got {neuron!r}")
    value = _plain(spike_value, "spike_value", positive=False)

    def set_spike(values):
        if neuron >= values.size:
            raise ValueError(f"neuron must be < N = {values.size}, got {neuron}")
        values[neuron] = value
        return values

    return divergence_curve(
        build,
        variable,
        perturbation=set_spike,
        duration=duration,
        sample_interval=sample_interval,
        burn_in=burn_in,
        period=period,
        spike_time_constant=spike_time_constant,
        progress=progress,
        device=device,
        directory=directory,
    )
