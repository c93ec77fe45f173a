"""Numerical phase maps for any one-dimensional neuron :math:`dv/dt = f(v)`.

The theta (QIF) and LIF neurons have closed-form phase transition curves (see
`neurosrnn.sparseprop.phase_models`); the exponential integrate-and-fire neuron (EIF,
Fourcaud-Trocmé et al. 2003) and most other one-dimensional models do not. This module
tabulates the phase of such a model once, to near machine precision, so that the exact
event-driven engine (Engelken 2023) can use it like a closed form.

Phase
-----
For a rate :math:`f(v) > 0` on :math:`[v_{min}, v_{th}]` (dv/dt in 1/second, `v` a plain
number in the model's voltage unit), the free-flow time from reset to `v` is
:math:`t(v) = \\int_{v_r}^{v} dv'/f(v')`, the free period is :math:`T = t(v_{th})`, and the
normalised phase is

.. math:: \\phi(v) = \\frac{1}{T}\\int_{v_r}^{v} \\frac{dv'}{f(v')},

so :math:`\\phi(v_r) = 0`, :math:`\\phi(v_{th}) = 1`, :math:`\\phi < 0` below reset, and
between pulses :math:`d\\phi/dt = 1/T`. A delta pulse ``v += w`` maps the phase through
the phase transition curve (PTC)

.. math:: g(\\phi) = \\phi\\big(v(\\phi) + w\\big),\\qquad
   \\frac{\\partial g}{\\partial \\phi} = \\frac{f(v)}{f(v + w)},\\qquad
   \\frac{\\partial g}{\\partial w} = \\frac{1}{T f(v + w)},

with :math:`g = 1` exactly ("fires now") when :math:`v + w \\ge v_{th}`, and
:math:`g = \\phi(v_{min})` (a clamp, counted by the compiled kernels) when
:math:`v + w < v_{min}`; both derivatives are 0 in these two cases.

Construction (a quadrature, not an ODE)
---------------------------------------
Forward map :math:`\\phi(v)`
    :math:`1/f` is interpolated at the 11 Chebyshev points (first kind) of each piece of
    an adaptive partition of :math:`[v_{min}, v_{th}]` (with :math:`v_r` a breakpoint),
    a degree-10 series. A piece is bisected until the last three coefficients are below
    ``max(tolerance / 100, 4 eps)`` times the largest :math:`|1/f|` on the piece (or
    times a floor of :math:`10^{-20}\\max|1/f|`, so :math:`1/f`, and with it the PTC
    derivatives, keeps a relative accuracy wherever it matters), or below the noise of
    the data itself: the change of :math:`1/f` two float steps either side of each node
    (the rounding of the node times the slope, plus any cancellation inside `rate`; no
    series can do better). Each series is integrated exactly
    (`numpy.polynomial.chebyshev.chebint`) and the pieces' constants are exactly rounded
    (``math.fsum``) running sums, so the phase series of piece ``k`` is
    :math:`(C_k + \\int_{a_k}^v dv'/f)/T`. A rate that overflows to ``+inf`` (the EIF's
    :math:`e^{v/\\Delta_T}` past :math:`v \\approx 71` in float64) is read as
    :math:`1/f = 0`, the correct limit: those pieces are exactly zero and converge at
    once, so no change of variable is needed (the phase of the EIF is 1.0 in float64
    from :math:`v \\approx 3.6` on).
Inverse map :math:`v(\\phi)`
    A second adaptive degree-11 Chebyshev series in :math:`\\phi` on
    :math:`[\\phi_{min}, 1^-]` (up to the largest float below 1; :math:`v(1) = v_{th}`
    exactly), from 24 Chebyshev points per piece (the 12 kept coefficients average the
    rounding of the node values), with node values solved on the forward map by
    bracketed Newton steps (derivative :math:`1/(T f)`; the nearest float to the root;
    for :math:`\\phi \\ge 1/2` on the remaining phase :math:`1 - \\phi`, which keeps
    the digits that floats close to 1 lose). A piece is bisected
    until its tail, converted to phase by the largest :math:`d\\phi/dv` on the piece, is
    below ``tolerance / 10`` or four times the phase resolution of the float64 node
    values, whichever is larger. The steep, logarithmic approach of the EIF to
    :math:`\\phi = 1` is resolved by geometric refinement (about 50 short pieces); a piece
    narrower than 64 eps that still does not converge is made linear (monotone).

Error bound
-----------
`PhaseTable.error_bound` is *measured* after construction, not assumed: the forward part
is :math:`2\\sum_k |b_k - a_k|\\,\\max|1/f - s_k|/T`, with the interpolation error of each
piece taken at the midpoints between its nodes (a fresh call of `rate`); the inverse part
is the largest round-trip residual :math:`|\\phi(v(p)) - p|` at the midpoints between the
inverse nodes; plus 4 eps of evaluation rounding. `phase_of` and `v_of` (the latter
measured in phase) are then within `error_bound` of the exact maps, and the PTC within
:math:`\\epsilon(1 + \\partial g/\\partial\\phi)`: the amplification
:math:`f(v)/f(v+w)` is the problem's own conditioning. With the default tolerance the
measured bound is about :math:`10^{-15}` to :math:`10^{-14}` for the LIF, QIF and EIF
models of the tests; the EIF PTC agrees with a DOP853 integration (rtol 1e-13) to
better than 1e-12.

Compiled kernels
----------------
`kernel_tables` packs any number of tables ("populations") into one tuple of flat
arrays with fixed numba types; `table_pulse_phase`, `table_pulse_derivative` and
`table_pulse_weight_derivative` use it inside the engine. Each series is stored in the
power basis of :math:`x \\in [-1, 1]` (one 16-double row per piece: two cache lines)
and summed by Estrin's scheme (short dependency chains, no fused multiply-adds, so the
numpy methods give the same bits). A piece is found in O(1): a uniform grid of buckets
over the map's range (the bucket width is that of the narrowest pieces that still cover
99% of the range; the EIF's forward grid stops where the phase is 1.0 in float64) names
the one to three pieces a bucket meets, and a branch-free search picks among them; only
the geometrically refined pieces next to :math:`\\phi = 1` share one bucket. The
kernels read one float64 array (reference counting of every array touched costs more
than the arithmetic). :math:`v(\\phi)` and :math:`\\phi(v + w)` cost about 30 ns
together, against about 210 ns with degree-16 Clenshaw sums and binary searches.

Cache
-----
``tabulate(..., cache=True, key=...)`` stores the arrays as an ``.npz`` file, named by
the SHA-256 of `key` (a string or JSON-able description of the model, e.g. its equations
and parameter values), the three voltages, the tolerance and a format version, in
`cache_dir` (default ``$XDG_CACHE_HOME/neurosrnn/phase_tables`` or
``~/.cache/neurosrnn/phase_tables``). A callable cannot be hashed reliably, so without
`key` nothing is cached. A file that is corrupt, of another format version or does not
match is recomputed and overwritten, never trusted.

References
----------
Engelken R. (2023) SparseProp: Efficient event-based simulation and training of sparse
recurrent spiking neural networks. NeurIPS 36 (arXiv:2312.17216).
Fourcaud-Trocmé N., Hansel D., van Vreeswijk C., Brunel N. (2003) How spike generation
mechanisms determine the neuronal response to fluctuating inputs. J. Neurosci.
23:11628-11640.
Trefethen L. N. (2019) Approximation Theory and Approximation Practice, extended
edition. SIAM (Chebyshev interpolation and its coefficient decay).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import warnings

import numba
import numpy as np
from numpy.polynomial import chebyshev as _cheb

from neurosrnn.atomic import atomic_write
from neurosrnn.units import is_quantity
from neurosrnn.validation import check_output_folder

__all__ = [
    "PhaseTable",
    "tabulate",
    "kernel_tables",
    "empty_kernel_tables",
    "clamp_count",
    "table_pulse_phase",
    "table_pulse_derivative",
    "table_pulse_weight_derivative",
    "table_phase_of",
    "table_v_of",
    "CLAMPS",
]

#: Version of the cache file layout; a file of another version is recomputed.
_FORMAT_VERSION = 2
#: Degree of the Chebyshev interpolant of 1/f on each voltage piece.
_RATE_DEGREE = 10
#: Degree of the Chebyshev interpolant of v(phi) on each phase piece.
_INVERSE_DEGREE = 11
#: At most this many pieces per map (a rate that needs more is not smooth enough).
_MAX_PIECES = 20000
#: Relative floor of |1/f| below which 1/f is only resolved in absolute terms.
_FLOOR = 1e-20
_EPS = float(np.finfo(float).eps)

#: Terms of every compiled series (power basis in x on [-1, 1]): the phase series of the
#: forward map (degree _RATE_DEGREE + 1), its slope (padded) and the inverse map.
_N_TERMS = 12
#: Row of a piece in the kernel arrays: midpoint, 2/width, the _N_TERMS coefficients
#: (padded to 16 doubles = two 64-byte cache lines).
_ROW = 16
#: At most this many lookup buckets per map and population.
_MAX_BUCKETS = 1 << 14
#: Pieces narrower than the bucket width cover at most this fraction of a map's range.
_CROWDED_FRACTION = 0.01

# columns of the per-population scalars (kernel tuple entry 0, and each header in the data)
_PERIOD, _V_RESET, _V_THRESHOLD, _V_MIN, _PHASE_MIN = 0, 1, 2, 3, 4
_N_SCALARS = 5
# a map's header in the data (after the scalars): lookup origin, scale and last bucket,
# then where its left ends, rows, buckets and (forward map) slope rows start
_ORIGIN, _SCALE, _LAST, _LEFT_START, _ROWS_START, _BUCKETS_START, _SLOPE_START = range(7)
_V_MAP, _P_MAP = _N_SCALARS, _N_SCALARS + 7
# after the two map headers: the number of per-weight PTC maps, their weights (up to
# _MAX_WEIGHTS slots) and where their headers start
_N_WEIGHTS = _P_MAP + 7
_WEIGHTS = _N_WEIGHTS + 1
#: At most this many distinct weights get their own PTC map (`kernel_tables`).
_MAX_WEIGHTS = 8
_WEIGHT_DIRECTORY = _WEIGHTS + _MAX_WEIGHTS
#: Doubles per population header at the start of the data array.
_HEADER = 32
# a per-weight map's header: the lookup fields of a map header (_ORIGIN ... _BUCKETS_START),
# then the phases where the map starts and ends and from which the PTC is exactly 1.0
_W_LOW, _W_HIGH, _W_ONE = 6, 7, 8
_W_HEADER = 9

# positions in the kernel tuple (entries 3-11 are views of entry 2, for inspection)
(
    _SCALARS,
    _V_OFFSETS,
    _DATA,
    _V_LEFT,
    _V_ROWS,
    _V_SLOPE,
    _V_BUCKETS,
    _P_OFFSETS,
    _P_LEFT,
    _P_ROWS,
    _P_BUCKETS,
    _BUCKET_OFFSETS,
) = range(12)
#: Position of the 1-element int64 clamp counter in the `kernel_tables` tuple (a view of
#: the last double of the data array, which the kernels increment).
CLAMPS = 12


# --------------------------------------------------------------------------- Chebyshev helpers


def _interpolation_matrix(degree):
    """Nodes (Chebyshev points of the first kind) and the values-to-coefficients matrix."""
    count = degree + 1
    odd = 2 * (count - 1 - np.arange(count)) + 1  # nodes cos(pi odd / (2 count)), ascending
    nodes = np.cos(np.pi * odd / (2 * count))
    nodes[odd == count] = 0.0
    # T_j(x_k) = cos(j pi odd_k / (2 count)), with the angle reduced exactly in integers (the
    # recurrence of chebvander loses digits)
    turns = (np.arange(count)[:, None] * odd[None, :]) % (4 * count)
    matrix = np.cos(np.pi * turns / (2 * count)) * (2.0 / count)
    matrix[0] *= 0.5
    return nodes, matrix


def _midpoints(nodes):
    return 0.5 * (nodes[1:] + nodes[:-1])


def _clenshaw(coefficients, x):
    """Evaluate rows of Chebyshev `coefficients` (m, d) at `x` (m,) (numpy, vectorised)."""
    b1 = np.zeros_like(x)
    b2 = np.zeros_like(x)
    two_x = 2.0 * x
    for j in range(coefficients.shape[1] - 1, 0, -1):
        b1, b2 = (coefficients[:, j] - b2) + two_x * b1, b1
    return (coefficients[:, 0] - b2) + x * b1


def _tail(coefficients):
    return np.max(np.abs(coefficients[:, -3:]), axis=1)


def _piece_geometry(breaks):
    left = np.ascontiguousarray(breaks[:-1], dtype=np.float64)
    mid = 0.5 * (breaks[1:] + breaks[:-1])
    half_inverse = 2.0 / (breaks[1:] - breaks[:-1])
    return left, mid, half_inverse


def _evaluate(breaks, coefficients, values):
    """Piecewise Chebyshev series at `values` (clipped to the covered range)."""
    values = np.asarray(values, dtype=float)
    flat = values.ravel()
    index = np.clip(np.searchsorted(breaks, flat, side="right") - 1, 0, len(breaks) - 2)
    left, right = breaks[index], breaks[index + 1]
    x = (flat - 0.5 * (left + right)) * (2.0 / (right - left))
    return _clenshaw(coefficients[index], x).reshape(values.shape)


def _power_series(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, x):
    """:math:`\\sum_j a_j x^j` by Estrin's scheme (short dependency chains).

    The same source is compiled for the kernels (`_power_series_compiled`) and run on
    numpy arrays by the `PhaseTable` methods: no fused multiply-adds, so both give the
    same bits.
    """
    x2 = x * x
    x4 = x2 * x2
    x8 = x4 * x4
    low = a1 * x + (a2 + a3 * x) * x2
    middle = (a4 + a5 * x) + (a6 + a7 * x) * x2
    high = (a8 + a9 * x) + (a10 + a11 * x) * x2
    # the constant last: one rounding at the size of the value (a phase close to 1)
    return a0 + ((low + middle * x4) + high * x8)


_power_series_compiled = numba.njit(cache=True, inline="always")(_power_series)


def _power_rows(breaks, coefficients):
    """Kernel rows (midpoint, 2/width, power-basis coefficients) of Chebyshev pieces."""
    terms = coefficients.shape[1]
    conversion = np.zeros((terms, terms))
    for j in range(terms):
        power = _cheb.cheb2poly(np.eye(terms)[j])
        conversion[j, : len(power)] = power
    rows = np.zeros((len(breaks) - 1, _ROW))
    _, rows[:, 0], rows[:, 1] = _piece_geometry(breaks)
    rows[:, 2 : 2 + terms] = coefficients @ conversion
    return rows


def _evaluate_rows(breaks, rows, values):
    """The compiled kernels' evaluation (same piece, same arithmetic), vectorised."""
    values = np.asarray(values, dtype=float)
    flat = values.ravel()
    index = np.clip(np.searchsorted(breaks, flat, side="right") - 1, 0, len(breaks) - 2)
    piece = rows[index]
    x = (flat - piece[:, 0]) * piece[:, 1]
    return _power_series(*piece[:, 2 : 2 + _N_TERMS].T, x).reshape(values.shape)


def _bucket_of(values, origin, scale, last):
    """Lookup bucket of `values` (the formula of `_locate`, vectorised)."""
    position = (np.asarray(values, dtype=float) - origin) * scale
    inside = np.where(position > 0.0, position, 0.0).astype(np.int64)
    return np.where(position >= last, int(last), inside)


def _bucket_grid(breaks, top):
    """Uniform lookup grid over [breaks[0], top]: origin, scale, last bucket, first pieces.

    The bucket width is the narrowest piece width such that the narrower pieces cover at
    most `_CROWDED_FRACTION` of the range (so almost every bucket meets one or two
    pieces); ``first[b]`` is the largest piece whose left end falls in a bucket before
    ``b``: the pieces that can hold a value of bucket ``b`` are ``first[b] ..
    first[b + 1]``.
    """
    origin = float(breaks[0])
    left = breaks[:-1]
    inside = left < top
    span = float(top - origin)
    widths = np.sort(np.minimum(np.diff(breaks), span)[inside])
    covered = np.cumsum(widths)
    narrow = int(np.searchsorted(covered, _CROWDED_FRACTION * span, side="right"))
    width = widths[min(narrow, len(widths) - 1)]
    count = int(min(_MAX_BUCKETS, max(1, math.ceil(span / width))))
    scale = count / span
    last = float(count - 1)
    buckets = _bucket_of(left, origin, scale, last)
    first = np.searchsorted(buckets, np.arange(count + 1), side="left") - 1
    first = np.clip(first, 0, len(left) - 1)
    first[-1] = len(left) - 1
    return origin, scale, last, first.astype(np.int32)


# --------------------------------------------------------------------------- the table


class PhaseTable:
    """Tabulated phase of a one-dimensional neuron :math:`dv/dt = f(v)`; built by `tabulate`.

    The phase is :math:`\\phi(v) = T^{-1}\\int_{v_r}^{v} dv'/f(v')` (0 at reset, 1 at
    threshold, negative below reset); the PTC of a pulse ``v += w`` is
    :math:`g(\\phi) = \\phi(v(\\phi) + w)`. See the module docstring for the construction
    and the error bound. All methods are vectorised (numpy broadcasting) and agree with
    the compiled `table_pulse_phase` and friends.

    Attributes
    ----------
    name : str
        A label (used in ``repr`` and error messages).
    period : float
        Free period :math:`T` from `v_reset` to `v_threshold`, in seconds.
    v_reset, v_threshold, v_min : float
        Reset, threshold and lowest tabulated voltage (plain numbers, the unit of `rate`).
    phase_min : float
        :math:`\\phi(v_{min}) < 0`, the phase a pulse below `v_min` is clamped to.
    error_bound : float
        Measured bound on the phase error of `phase_of` and `v_of` (in phase units).
    tolerance : float
        The target the table was built for.
    n_pieces : tuple of int
        Number of Chebyshev pieces of the forward and of the inverse map.

    Examples
    --------
    >>> import numpy as np
    >>> table = tabulate(lambda v: (1.5 - v) / 0.01, v_reset=0.0, v_threshold=1.0,
    ...                  v_min=-1.0, name="lif", cache=False)
    >>> bool(np.isclose(table.period, 0.01 * np.log(3.0), rtol=1e-14))
    True
    >>> float(table.ptc(0.5, 1.0))  # the pulse lifts v over threshold: fires now
    1.0
    """

    def __init__(
        self,
        *,
        name,
        period,
        v_reset,
        v_threshold,
        v_min,
        phase_min,
        error_bound,
        tolerance,
        v_breaks,
        v_phase_coefficients,
        v_slope_coefficients,
        phase_breaks,
        phase_coefficients,
    ):
        self.name = str(name)
        self.period = float(period)
        self.v_reset = float(v_reset)
        self.v_threshold = float(v_threshold)
        self.v_min = float(v_min)
        self.phase_min = float(phase_min)
        self.error_bound = float(error_bound)
        self.tolerance = float(tolerance)
        self.v_breaks = np.ascontiguousarray(v_breaks, dtype=np.float64)
        self.v_phase_coefficients = np.ascontiguousarray(v_phase_coefficients, dtype=np.float64)
        self.v_slope_coefficients = np.ascontiguousarray(v_slope_coefficients, dtype=np.float64)
        self.phase_breaks = np.ascontiguousarray(phase_breaks, dtype=np.float64)
        self.phase_coefficients = np.ascontiguousarray(phase_coefficients, dtype=np.float64)
        for array in (
            self.v_breaks,
            self.v_phase_coefficients,
            self.v_slope_coefficients,
            self.phase_breaks,
            self.phase_coefficients,
        ):
            array.setflags(write=False)
        self._compile()
        # per-weight PTC maps for `kernel_tables(..., weights=...)`, built on first use
        self._pulse_maps = {}
        self._pulse_context = None

    def _compile(self):
        """Power-basis rows and lookup grids used by the methods and the kernels."""
        self._v_rows = _power_rows(self.v_breaks, self.v_phase_coefficients)
        self._v_slope_rows = _power_rows(self.v_breaks, self.v_slope_coefficients)
        self._p_rows = _power_rows(self.phase_breaks, self.phase_coefficients)
        # the forward grid stops where the phase is 1 in float64 (the EIF from v ~ 3.6)
        left_phase = _evaluate_rows(self.v_breaks, self._v_rows, self.v_breaks[:-1])
        saturated = np.flatnonzero(left_phase >= 1.0 - 2 * _EPS)
        top = self.v_breaks[saturated[0]] if saturated.size else self.v_threshold
        if top <= self.v_breaks[0]:
            top = self.v_threshold
        self._v_grid = _bucket_grid(self.v_breaks, top)
        self._p_grid = _bucket_grid(self.phase_breaks, self.phase_breaks[-1])

    @property
    def n_pieces(self):
        return (len(self.v_breaks) - 1, len(self.phase_breaks) - 1)

    def __repr__(self):
        return (
            f"<PhaseTable {self.name!r}: v in [{self.v_min:g}, {self.v_threshold:g}], "
            f"reset {self.v_reset:g}, period {self.period:.6g} s, phase_min "
            f"{self.phase_min:.6g}, {self.n_pieces[0]}+{self.n_pieces[1]} pieces, "
            f"error <= {self.error_bound:.1e}>"
        )

    # -------------------------------------------------------------- maps

    def phase_of(self, v):
        """Phase :math:`\\phi(v)`; 1.0 at and above threshold, `phase_min` below `v_min`.

        Examples
        --------
        >>> table = tabulate(lambda v: (1.5 - v) / 0.01, v_reset=0.0, v_threshold=1.0,
        ...                  v_min=-1.0, cache=False)
        >>> [round(float(p), 12) + 0.0 for p in table.phase_of([0.0, 1.0, 2.0])]
        [0.0, 1.0, 1.0]
        """
        v = np.asarray(v, dtype=float)
        phase = _evaluate_rows(self.v_breaks, self._v_rows, v)
        phase = np.clip(phase, self.phase_min, 1.0)
        phase = np.where(v >= self.v_threshold, 1.0, phase)
        return np.where(v < self.v_min, self.phase_min, phase)

    def phase_slope(self, v):
        """:math:`d\\phi/dv = 1/(T f(v))`, from the tabulated series (per unit of `v`).

        Examples
        --------
        >>> table = tabulate(lambda v: (1.5 - v) / 0.01, v_reset=0.0, v_threshold=1.0,
        ...                  v_min=-1.0, cache=False)
        >>> bool(np.isclose(table.phase_slope(0.5), 0.01 / (1.0 * table.period)))
        True
        """
        v = np.clip(np.asarray(v, dtype=float), self.v_min, self.v_threshold)
        return _evaluate_rows(self.v_breaks, self._v_slope_rows, v)

    def v_of(self, phase):
        """Voltage :math:`v(\\phi)`; `v_threshold` for phase >= 1, `v_min` below `phase_min`.

        Examples
        --------
        >>> table = tabulate(lambda v: (1.5 - v) / 0.01, v_reset=0.0, v_threshold=1.0,
        ...                  v_min=-1.0, cache=False)
        >>> [round(float(v), 12) + 0.0 for v in table.v_of([0.0, 1.0])]
        [0.0, 1.0]
        """
        phase = np.asarray(phase, dtype=float)
        v = _evaluate_rows(self.phase_breaks, self._p_rows, phase)
        v = np.clip(v, self.v_min, self.v_threshold)
        v = np.where(phase >= 1.0, self.v_threshold, v)
        return np.where(phase <= self.phase_min, self.v_min, v)

    def _pulse(self, phase, weight):
        phase, weight = np.broadcast_arrays(
            np.asarray(phase, dtype=float), np.asarray(weight, dtype=float)
        )
        v = self.v_of(phase)
        after = v + weight
        fires = after >= self.v_threshold
        clamped = after < self.v_min
        return v, after, fires, clamped

    def ptc(self, phase, weight):
        """Phase after a pulse ``v += weight``: :math:`g(\\phi) = \\phi(v(\\phi) + w)`.

        Exactly 1.0 when :math:`v + w \\ge v_{th}` (fires now); `phase_min` when
        :math:`v + w < v_{min}` (clamped; the compiled kernel counts these).

        Examples
        --------
        >>> import numpy as np
        >>> table = tabulate(lambda v: (1.5 - v) / 0.01, v_reset=0.0, v_threshold=1.0,
        ...                  v_min=-1.0, cache=False)
        >>> from neurosrnn.sparseprop.phase_models import lif_ptc
        >>> omega = 1.0 / np.log(3.0)  # LIF with drive I = 0.5, mu = 1.5
        >>> bool(np.isclose(table.ptc(0.3, -0.2), lif_ptc(0.3, 0.2 / 1.5, omega), atol=1e-13))
        True
        """
        _, after, fires, clamped = self._pulse(phase, weight)
        result = self.phase_of(after)
        result = np.where(fires, 1.0, result)
        return np.where(clamped, self.phase_min, result)

    def ptc_derivative(self, phase, weight):
        """:math:`\\partial g/\\partial\\phi = f(v)/f(v + w)` (0 where it fires now or clamps).

        Examples
        --------
        >>> table = tabulate(lambda v: (1.5 - v) / 0.01, v_reset=0.0, v_threshold=1.0,
        ...                  v_min=-1.0, cache=False)
        >>> v = float(table.v_of(0.3))
        >>> bool(np.isclose(table.ptc_derivative(0.3, -0.2), (1.5 - v) / (1.7 - v)))
        True
        """
        v, after, fires, clamped = self._pulse(phase, weight)
        slope_before = self.phase_slope(v)
        slope_after = self.phase_slope(after)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(slope_before > 0, slope_after / slope_before, np.inf)
        return np.where(fires | clamped, 0.0, ratio)

    def ptc_weight_derivative(self, phase, weight):
        """:math:`\\partial g/\\partial w = 1/(T f(v + w))` (0 where it fires now or clamps).

        Examples
        --------
        >>> table = tabulate(lambda v: (1.5 - v) / 0.01, v_reset=0.0, v_threshold=1.0,
        ...                  v_min=-1.0, cache=False)
        >>> v = float(table.v_of(0.3))
        >>> expected = 0.01 / (table.period * (1.7 - v))
        >>> bool(np.isclose(table.ptc_weight_derivative(0.3, -0.2), expected))
        True
        """
        _, after, fires, clamped = self._pulse(phase, weight)
        return np.where(fires | clamped, 0.0, self.phase_slope(after))

    # -------------------------------------------------------------- storage

    def _arrays(self):
        return {
            "v_breaks": self.v_breaks,
            "v_phase_coefficients": self.v_phase_coefficients,
            "v_slope_coefficients": self.v_slope_coefficients,
            "phase_breaks": self.phase_breaks,
            "phase_coefficients": self.phase_coefficients,
            "scalars": np.array(
                [
                    self.period,
                    self.v_reset,
                    self.v_threshold,
                    self.v_min,
                    self.phase_min,
                    self.error_bound,
                    self.tolerance,
                ]
            ),
        }


# --------------------------------------------------------------------------- validation


def _check_voltage(value, name):
    if is_quantity(value):
        raise ValueError(
            f"{name} must be a plain number in the voltage unit `rate` expects (e.g. mV), "
            f"not a quantity; got {value!r}"
        )
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def _key_text(key):
    """Canonical JSON text of `key` (str, numbers, lists, dicts, numpy values)."""

    def convert(item):
        if isinstance(item, np.ndarray):
            return item.tolist()
        if isinstance(item, np.generic):
            return item.item()
        raise TypeError(type(item).__name__)

    if isinstance(key, bytes):
        key = key.decode("utf-8", "surrogateescape")
    try:
        return json.dumps(key, sort_keys=True, default=convert, allow_nan=True)
    except (TypeError, ValueError) as error:
        raise ValueError(
            "key must be a str or a JSON-able structure (str, numbers, lists, dicts) that "
            f"identifies the rate function, e.g. its equations and parameter values; got "
            f"{key!r} ({error})"
        ) from None


def _default_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "neurosrnn", "phase_tables")


class _RateCaller:
    """Call the user's rate safely: 1/f with inf -> 0, errors naming the location."""

    def __init__(self, rate, v_min, v_threshold):
        self.rate = rate
        self.v_min = v_min
        self.v_threshold = v_threshold

    def values(self, v):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            try:
                result = self.rate(v)
            except Exception as error:
                raise ValueError(
                    f"rate raised {type(error).__name__} when called with a float array "
                    f"of voltages in [{v.min():g}, {v.max():g}]: {error}"
                ) from error
            result = np.asarray(result, dtype=float)
        try:
            return np.broadcast_to(result, v.shape)
        except ValueError:
            raise ValueError(
                f"rate must be vectorised: called with an array of shape {v.shape}, it "
                f"returned shape {result.shape}"
            ) from None

    def _scalar(self, x):
        return float(self.values(np.array([x]))[0])

    def inverse(self, v):
        """1/f(v) for an array `v`, checking f > 0 (raises ValueError otherwise)."""
        values = self.values(v)
        bad = ~(values > 0)
        if np.any(bad):
            self._raise_nonpositive(v.ravel(), values.ravel())
        with np.errstate(divide="ignore"):
            return np.where(np.isinf(values), 0.0, 1.0 / values)

    def _raise_nonpositive(self, v, values):
        order = np.argsort(v)
        v, values = v[order], values[order]
        bad = np.flatnonzero(~(values > 0))
        first = bad[0]
        if np.isnan(values[first]):
            raise ValueError(
                f"rate returned NaN at v = {v[first]!r}: it must be a finite or +inf rate "
                f"> 0 on [v_min, v_threshold] = [{self.v_min:g}, {self.v_threshold:g}]"
            )
        location = self._fixed_point(v, values, first)
        raise ValueError(
            f"rate must be > 0 on [v_min, v_threshold] = [{self.v_min:g}, "
            f"{self.v_threshold:g}], but rate({v[first]!r}) = {values[first]!r}: the model "
            f"has a fixed point near v = {location:.10g}, so it does not fire tonically from "
            "reset and has no phase representation (raise the drive, or choose v_min above "
            "the fixed point)"
        )

    def _fixed_point(self, v, values, first):
        """Locate the zero of the rate next to the sample `first` (f(v[first]) <= 0)."""
        from scipy.optimize import brentq

        positive = np.flatnonzero(values > 0)
        left = positive[positive < first]
        right = positive[positive > first]
        if left.size:
            a, b = v[left[-1]], v[first]
        elif right.size:
            a, b = v[first], v[right[0]]
        else:
            return float(v[first])
        try:
            return brentq(self._scalar, a, b, xtol=1e-15, rtol=4 * _EPS, maxiter=200)
        except (ValueError, RuntimeError):
            return float(b if left.size else a)


# --------------------------------------------------------------------------- construction


def _fit_inverse_rate(caller, v_min, v_reset, v_threshold, tolerance):
    """Adaptive piecewise Chebyshev interpolants of 1/f; returns breaks and coefficients."""
    nodes, matrix = _interpolation_matrix(_RATE_DEGREE)
    coefficient_tolerance = max(0.01 * tolerance, 4 * _EPS)
    survey = np.linspace(v_min, v_threshold, 2049)
    scale = float(np.max(caller.inverse(survey)))
    minimum_width = 1e-13 * (v_threshold - v_min)
    pending = [(v_min, v_reset), (v_reset, v_threshold)]
    accepted = []
    while pending:
        if len(accepted) + len(pending) > _MAX_PIECES:
            raise ValueError(
                f"rate could not be tabulated to tolerance {tolerance:g} with "
                f"{_MAX_PIECES} pieces on [{v_min:g}, {v_threshold:g}]: is it smooth?"
            )
        bounds = np.array(pending)
        mid = 0.5 * (bounds[:, 0] + bounds[:, 1])
        half = 0.5 * (bounds[:, 1] - bounds[:, 0])
        v = mid[:, None] + half[:, None] * nodes[None, :]
        inverse = caller.inverse(v)
        scale = max(scale, float(inverse.max()))
        coefficients = inverse @ matrix.T
        local = np.maximum(np.max(np.abs(inverse), axis=1), _FLOOR * scale)
        # noise of the data: 1/f two float steps either side of each node (the node's own
        # rounding times the slope, plus any cancellation in `rate`); no series can beat it
        step = 2.0 * np.spacing(np.maximum(np.abs(v), np.abs(mid)[:, None]))
        noise = np.max(np.abs(caller.inverse(v + step) - caller.inverse(v - step)), axis=1)
        allowed = np.maximum(coefficient_tolerance * local, noise)
        good = (_tail(coefficients) <= allowed) | (2 * half <= minimum_width)
        pending = []
        for index in range(len(bounds)):
            a, b = bounds[index]
            if good[index]:
                accepted.append((a, b, coefficients[index]))
            else:
                pending.extend([(a, mid[index]), (mid[index], b)])
    accepted.sort(key=lambda piece: piece[0])
    breaks = np.array([piece[0] for piece in accepted] + [v_threshold])
    coefficients = np.array([piece[2] for piece in accepted])
    return breaks, coefficients


def _forward_error(caller, breaks, coefficients):
    """Measured interpolation error of 1/f at the midpoints between nodes, per piece."""
    nodes, _ = _interpolation_matrix(_RATE_DEGREE)
    between = np.concatenate([[-1.0], _midpoints(nodes), [1.0]])
    mid = 0.5 * (breaks[1:] + breaks[:-1])
    half = 0.5 * (breaks[1:] - breaks[:-1])
    v = mid[:, None] + half[:, None] * between[None, :]
    exact = caller.inverse(v)
    approximation = _cheb.chebval(between, coefficients.T)
    return np.max(np.abs(approximation - exact), axis=1)


def _phase_series(breaks, inverse_coefficients, v_reset):
    """Phase series per piece, slope, period, phase_min and the remaining-phase series.

    The remaining phase :math:`1 - \\phi(v)` (time to threshold over T) is kept as its
    own series, with exactly rounded constants: near threshold it carries digits that
    :math:`\\phi` close to 1 cannot (used to solve the inverse map's node voltages).
    """
    half = 0.5 * (breaks[1:] - breaks[:-1])
    integrals = np.array(
        [_cheb.chebint(c, lbnd=-1) * h for c, h in zip(inverse_coefficients, half, strict=True)]
    )
    totals = np.sum(integrals, axis=1)  # T_j(1) = 1
    reset_index = int(np.flatnonzero(breaks == v_reset)[0])
    constants = np.empty(len(totals))
    for k in range(len(totals)):
        if k < reset_index:
            constants[k] = -math.fsum(totals[k:reset_index])
        else:
            constants[k] = math.fsum(totals[reset_index:k])
    period = math.fsum(totals[reset_index:])
    phase_coefficients = integrals.copy()
    phase_coefficients[:, 0] += constants
    phase_coefficients /= period
    slope = inverse_coefficients / period
    phase_min = -math.fsum(totals[:reset_index]) / period
    remaining = -integrals
    remaining[:, 0] += [math.fsum(totals[k:]) for k in range(len(totals))]
    remaining /= period
    return phase_coefficients, slope, period, phase_min, remaining


def _solve_voltages(targets, v_breaks, phase_rows, slope_rows, break_phases, remaining_rows):
    """v with phi(v) = target, by bracketed Newton steps on the forward table.

    For targets >= 1/2 the residual is taken on the remaining phase, ``(1 - target) -
    r(v)`` (``1 - target`` is exact there), so voltages close to threshold are found to
    the resolution of the remaining phase rather than that of floats near 1.

    Returns the evaluated point with the smallest residual: within about one float step
    of the root of the tabulated map.
    """
    flat = targets.ravel()
    upper = flat >= 0.5
    complement = 1.0 - flat
    index = np.clip(np.searchsorted(break_phases, flat, side="right") - 1, 0, len(v_breaks) - 2)
    low = v_breaks[index].copy()
    high = v_breaks[index + 1].copy()
    v = 0.5 * (low + high)
    best = v.copy()
    best_residual = np.full(flat.shape, np.inf)
    active = np.ones(flat.shape, dtype=bool)
    for _ in range(200):
        positions = np.flatnonzero(active)
        va, lo, hi = v[positions], low[positions], high[positions]
        residual = np.where(
            upper[positions],
            complement[positions] - _evaluate_rows(v_breaks, remaining_rows, va),
            _evaluate_rows(v_breaks, phase_rows, va) - flat[positions],
        )
        slope = _evaluate_rows(v_breaks, slope_rows, va)
        better = np.abs(residual) < best_residual[positions]
        best[positions[better]] = va[better]
        best_residual[positions[better]] = np.abs(residual[better])
        above = residual > 0
        hi = np.where(above, va, hi)
        lo = np.where(above, lo, va)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = va - residual / slope
        inside = (step > lo) & (step < hi) & np.isfinite(step)
        new = np.where(inside, step, 0.5 * (lo + hi))
        size = np.where(upper[positions], complement[positions], 1.0)
        settled = np.abs(residual) <= 0.5 * _EPS * np.maximum(
            size, np.abs(flat[positions]) * ~upper[positions]
        )
        stuck = (new == va) | (hi - lo <= np.spacing(np.maximum(np.abs(lo), np.abs(hi))))
        low[positions], high[positions], v[positions] = lo, hi, new
        active[positions[settled | stuck]] = False
        if not active.any():
            break
    return best.reshape(targets.shape)


def _fit_inverse(table, tolerance, remaining_rows):
    """Adaptive piecewise Chebyshev series of v(phi) on [phase_min, 1^-].

    Each piece samples v at twice as many Chebyshev points as it keeps terms: the kept
    coefficients average the float64 noise of the node values (v near a spike at large
    |v| is only known to the phase resolution divided by d phi/dv).
    """
    nodes, matrix = _interpolation_matrix(2 * _INVERSE_DEGREE + 1)
    v_breaks = table.v_breaks
    break_phases = np.maximum.accumulate(
        np.clip(_evaluate(v_breaks, table.v_phase_coefficients, v_breaks), table.phase_min, 1.0)
    )
    break_phases[0] = table.phase_min
    top = np.nextafter(1.0, 0.0)
    pending = [(table.phase_min, 0.0), (0.0, top)]
    accepted = []
    while pending:
        if len(accepted) + len(pending) > _MAX_PIECES:
            raise ValueError(
                f"the inverse phase map could not be tabulated to tolerance {tolerance:g} "
                f"with {_MAX_PIECES} pieces: is the rate smooth?"
            )
        bounds = np.array(pending)
        mid = 0.5 * (bounds[:, 0] + bounds[:, 1])
        half = 0.5 * (bounds[:, 1] - bounds[:, 0])
        targets = mid[:, None] + half[:, None] * nodes[None, :]
        v = _solve_voltages(
            targets, v_breaks, table._v_rows, table._v_slope_rows, break_phases, remaining_rows
        )
        centre = np.median(v, axis=1)  # transform the deviations: less rounding
        full = (v - centre[:, None]) @ matrix.T
        full[:, 0] += centre
        coefficients = full[:, : _INVERSE_DEGREE + 1]
        tail = np.max(np.abs(full[:, _INVERSE_DEGREE - 2 :]), axis=1)
        # in phase units: the tail times the largest d phi/dv on the piece, against the
        # target or the phase resolution of the float64 node values (each is the nearest
        # float to its root, +-1/2 step), whichever is larger
        slope = np.max(np.abs(_evaluate(v_breaks, table.v_slope_coefficients, v)), axis=1)
        resolution = 4 * np.max(np.spacing(np.abs(v)) * slope[:, None], axis=1) + 2 * _EPS
        allowed = np.maximum(0.1 * tolerance, resolution)
        tiny = 2 * half <= 64 * _EPS
        good = tail * slope <= allowed
        pending = []
        for index in range(len(bounds)):
            a, b = bounds[index]
            if good[index]:
                accepted.append((a, b, coefficients[index]))
            elif tiny[index]:
                # unresolvable in float64: linear (monotone) between the end values
                ends = _solve_voltages(
                    np.array([a, b]),
                    v_breaks,
                    table._v_rows,
                    table._v_slope_rows,
                    break_phases,
                    remaining_rows,
                )
                linear = np.zeros(_INVERSE_DEGREE + 1)
                linear[0], linear[1] = 0.5 * (ends[0] + ends[1]), 0.5 * (ends[1] - ends[0])
                accepted.append((a, b, linear))
            else:
                pending.extend([(a, mid[index]), (mid[index], b)])
    accepted.sort(key=lambda piece: piece[0])
    breaks = np.array([piece[0] for piece in accepted] + [top])
    coefficients = np.array([piece[2] for piece in accepted])
    return breaks, coefficients


def _inverse_residual(table):
    """Largest |phi(v(p)) - p| at the midpoints between the inverse nodes."""
    nodes, _ = _interpolation_matrix(_INVERSE_DEGREE)
    between = np.concatenate([_midpoints(nodes), [-1.0, 1.0]])
    breaks = table.phase_breaks
    mid = 0.5 * (breaks[1:] + breaks[:-1])
    half = 0.5 * (breaks[1:] - breaks[:-1])
    phases = (mid[:, None] + half[:, None] * between[None, :]).ravel()
    phases = np.clip(phases, table.phase_min, breaks[-1])
    return float(np.max(np.abs(table.phase_of(table.v_of(phases)) - phases)))


def _build(caller, name, v_reset, v_threshold, v_min, tolerance):
    v_breaks, inverse_coefficients = _fit_inverse_rate(
        caller, v_min, v_reset, v_threshold, tolerance
    )
    phase_coefficients, slope_coefficients, period, phase_min, remaining = _phase_series(
        v_breaks, inverse_coefficients, v_reset
    )
    if not (math.isfinite(period) and period > 0):
        raise ValueError(f"the free period of rate from v_reset to v_threshold is {period!r} s")
    interpolation = _forward_error(caller, v_breaks, inverse_coefficients)
    forward_bound = 2.0 * math.fsum(np.diff(v_breaks) * interpolation) / period
    arrays = dict(
        name=name,
        period=period,
        v_reset=v_reset,
        v_threshold=v_threshold,
        v_min=v_min,
        phase_min=phase_min,
        tolerance=tolerance,
        v_breaks=v_breaks,
        v_phase_coefficients=phase_coefficients,
        v_slope_coefficients=slope_coefficients,
    )
    provisional = PhaseTable(
        error_bound=np.inf,
        phase_breaks=np.array([phase_min, 1.0]),
        phase_coefficients=np.zeros((1, _INVERSE_DEGREE + 1)),
        **arrays,
    )
    remaining_rows = _power_rows(v_breaks, remaining)
    phase_breaks, phase_coefficients = _fit_inverse(provisional, tolerance, remaining_rows)
    table = PhaseTable(
        error_bound=np.inf,
        phase_breaks=phase_breaks,
        phase_coefficients=phase_coefficients,
        **arrays,
    )
    table.error_bound = float(forward_bound + _inverse_residual(table) + 4 * _EPS)
    return table


# --------------------------------------------------------------------------- per-weight PTC maps


class _PulseMap:
    """The PTC :math:`g_w(\\phi)` of one weight `w` as one piecewise series in the phase.

    ``low`` is the smallest phase at which the pulse does not clamp (the generic path
    handles phases below it), ``one`` the smallest phase from which the two-step PTC is
    exactly 1.0 (``-inf`` if everywhere, ``inf`` if nowhere), ``high`` the last phase of
    the series (``min(one, 1^-)``); ``breaks`` is None when there is no series.
    """

    def __init__(self, weight, phase_min, low, high, one, breaks=None, coefficients=None):
        self.weight, self.low, self.high, self.one = weight, low, high, one
        self.phase_min = phase_min
        self.error = 0.0
        self.breaks = breaks
        self.rows = self.grid = None
        if breaks is not None:
            self.rows = _power_rows(breaks, coefficients)
            self.grid = _bucket_grid(breaks, breaks[-1])

    @property
    def n_pieces(self):
        return 0 if self.breaks is None else len(self.breaks) - 1

    def evaluate(self, phase):
        """The compiled kernel's value of the series (inside ``[low, high]``), vectorised."""
        value = _evaluate_rows(self.breaks, self.rows, phase)
        return np.minimum(np.maximum(value, self.phase_min), 1.0)


def _pulse_context(table):
    """Remaining-phase rows and break phases of `table` (for `_solve_voltages`), memoised.

    The remaining phase :math:`1 - \\phi(v)` per forward piece is integrated again from
    the slope series, with exactly rounded constants, as in `_phase_series`.
    """
    if table._pulse_context is None:
        breaks = table.v_breaks
        half = 0.5 * (breaks[1:] - breaks[:-1])
        integrals = np.array(
            [
                _cheb.chebint(c, lbnd=-1) * h
                for c, h in zip(table.v_slope_coefficients, half, strict=True)
            ]
        )
        totals = np.sum(integrals, axis=1)
        remaining = -integrals
        remaining[:, 0] += [math.fsum(totals[k:]) for k in range(len(totals))]
        break_phases = np.maximum.accumulate(
            np.clip(_evaluate(breaks, table.v_phase_coefficients, breaks), table.phase_min, 1.0)
        )
        break_phases[0] = table.phase_min
        table._pulse_context = (_power_rows(breaks, remaining), break_phases)
    return table._pulse_context


def _accurate_ptc(table, phases, weight):
    """:math:`g_w` at `phases` in ``[phase_min, 1)`` from the forward map alone, and noise.

    The voltage is the nearest float to the root of the tabulated forward map (not the
    inverse series), and phases from 1/2 on come from the remaining-phase series, so the
    values are as good as float64 voltages allow. The noise is the change of
    :math:`g_w` for one float step of the phase, of :math:`v` and of :math:`v + w`:
    :math:`g'\\,\\mathrm{ulp}(\\phi) + d\\phi/dv(v + w)\\,(\\mathrm{ulp}(v) +
    \\mathrm{ulp}(v + w))`, with :math:`g' = f(v)/f(v + w)`.
    """
    remaining, break_phases = _pulse_context(table)
    v = _solve_voltages(
        phases, table.v_breaks, table._v_rows, table._v_slope_rows, break_phases, remaining
    )
    after = v + weight
    inside = np.clip(after, table.v_min, table.v_threshold)
    phase = _evaluate_rows(table.v_breaks, table._v_rows, inside)
    rest = _evaluate_rows(table.v_breaks, remaining, inside)
    value = np.clip(np.where(phase >= 0.5, 1.0 - rest, phase), table.phase_min, 1.0)
    value = np.where(after >= table.v_threshold, 1.0, value)
    slope = np.abs(_evaluate_rows(table.v_breaks, table._v_slope_rows, inside))
    noise = slope * (np.spacing(np.abs(v)) + np.spacing(np.abs(after)))
    # the rounding of the phase itself, amplified by dg/dphi = f(v)/f(v + w)
    before = np.abs(_evaluate_rows(table.v_breaks, table._v_slope_rows, v))
    with np.errstate(divide="ignore", invalid="ignore"):
        amplification = np.where(before > 0, slope / before, 0.0)
    noise += amplification * np.spacing(np.abs(phases))
    return value, noise


def _first_phase(holds, low, high):
    """Smallest float in ``(low, high]`` where `holds` (false at `low`, true at `high`)."""
    while True:
        middle = 0.5 * (low + high)
        if not low < middle < high:
            return high
        if holds(middle):
            high = middle
        else:
            low = middle


def _fit_pulse_map(table, weight):
    """Build the `_PulseMap` of `weight` for `table` (see `kernel_tables`)."""
    top = float(np.nextafter(1.0, 0.0))
    start = table.phase_min

    def clamped(phase):
        return bool(table._pulse(phase, weight)[3])

    def fires(phase):
        return float(table.ptc(phase, weight)) >= 1.0

    # the breaks of the two-step kernel's own float decisions: the per-weight map then
    # clamps, and returns exactly 1.0 ("fires now"), at the same phases
    if not clamped(start):
        low = start
    elif clamped(top):
        low = math.inf
    else:
        low = _first_phase(lambda phase: not clamped(phase), start, top)
    if fires(start):
        one = -math.inf
    elif not fires(1.0):
        one = math.inf
    else:
        one = _first_phase(fires, start, 1.0)
    high = min(one, top)
    if not low < high:
        return _PulseMap(weight, start, math.inf, -math.inf, one)
    nodes, matrix = _interpolation_matrix(2 * _INVERSE_DEGREE + 1)
    target = 0.1 * table.tolerance
    pending = [(low, high)]
    accepted = []
    while pending:
        if len(accepted) + len(pending) > _MAX_PIECES:
            return _PulseMap(weight, start, math.inf, -math.inf, math.inf)  # generic path
        bounds = np.array(pending)
        middle = 0.5 * (bounds[:, 0] + bounds[:, 1])
        half = 0.5 * (bounds[:, 1] - bounds[:, 0])
        phases = np.clip(middle[:, None] + half[:, None] * nodes[None, :], low, high)
        values, noise = _accurate_ptc(table, phases, weight)
        centre = np.median(values, axis=1)
        full = (values - centre[:, None]) @ matrix.T
        full[:, 0] += centre
        tail = np.max(np.abs(full[:, _INVERSE_DEGREE - 2 :]), axis=1)
        allowed = np.maximum(target, 4 * np.max(noise, axis=1) + 2 * _EPS)
        good = tail <= allowed
        pending = []
        for index, (a, b) in enumerate(bounds):
            if good[index]:
                accepted.append((a, b, full[index, : _INVERSE_DEGREE + 1]))
            elif 2 * half[index] <= 64 * _EPS:
                ends, _ = _accurate_ptc(table, np.array([a, b]), weight)
                linear = np.zeros(_INVERSE_DEGREE + 1)
                linear[0], linear[1] = 0.5 * (ends[0] + ends[1]), 0.5 * (ends[1] - ends[0])
                accepted.append((a, b, linear))
            else:
                pending.extend([(a, middle[index]), (middle[index], b)])
    accepted.sort(key=lambda piece: piece[0])
    breaks = np.array([piece[0] for piece in accepted] + [high])
    coefficients = np.array([piece[2] for piece in accepted])
    pulse_map = _PulseMap(weight, start, low, high, one, breaks, coefficients)
    # measured: the series against the accurate values between the nodes
    check_nodes, _ = _interpolation_matrix(_INVERSE_DEGREE)
    between = np.concatenate([_midpoints(check_nodes), [-1.0, 1.0]])
    middle = 0.5 * (breaks[1:] + breaks[:-1])
    half = 0.5 * (breaks[1:] - breaks[:-1])
    phases = np.clip((middle[:, None] + half[:, None] * between[None, :]).ravel(), low, high)
    exact, _ = _accurate_ptc(table, phases, weight)
    pulse_map.error = float(np.max(np.abs(pulse_map.evaluate(phases) - exact)))
    return pulse_map


def _pulse_map(table, weight):
    """The memoised `_PulseMap` of `weight` (a float) for `table`."""
    pulse_map = table._pulse_maps.get(weight)
    if pulse_map is None:
        pulse_map = _fit_pulse_map(table, weight)
        table._pulse_maps[weight] = pulse_map
    return pulse_map


# --------------------------------------------------------------------------- cache


def _cache_digest(key_text, v_reset, v_threshold, v_min, tolerance):
    description = json.dumps(
        {
            "format": _FORMAT_VERSION,
            "key": key_text,
            "v_reset": v_reset.hex(),
            "v_threshold": v_threshold.hex(),
            "v_min": v_min.hex(),
            "tolerance": tolerance.hex(),
            "rate_degree": _RATE_DEGREE,
            "inverse_degree": _INVERSE_DEGREE,
        },
        sort_keys=True,
    )
    return hashlib.sha256(description.encode("utf-8")).hexdigest()


def _load_cached(path, digest, name, v_reset, v_threshold, v_min, tolerance):
    """The table stored at `path`, or None when it is missing, corrupt or does not match."""
    if not os.path.isfile(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            if int(stored["format_version"]) != _FORMAT_VERSION:
                return None
            if str(stored["digest"]) != digest:
                return None
            arrays = {field: np.array(stored[field]) for field in _CACHED_FIELDS}
        period, *voltages_and_phase, error_bound, stored_tolerance = arrays.pop("scalars")
        if list(voltages_and_phase[:3]) != [v_reset, v_threshold, v_min]:
            return None
        if stored_tolerance != tolerance:
            return None
        table = PhaseTable(
            name=name,
            period=period,
            v_reset=v_reset,
            v_threshold=v_threshold,
            v_min=v_min,
            phase_min=voltages_and_phase[3],
            error_bound=error_bound,
            tolerance=tolerance,
            **arrays,
        )
        if not _consistent(table):
            return None
        return table
    except Exception:  # any unreadable or malformed file is recomputed, never trusted
        return None


_CACHED_FIELDS = (
    "v_breaks",
    "v_phase_coefficients",
    "v_slope_coefficients",
    "phase_breaks",
    "phase_coefficients",
    "scalars",
)


def _consistent(table):
    """Shapes, finiteness and ordering of a loaded table."""
    n_v, n_p = table.n_pieces
    checks = [
        table.v_breaks.ndim == 1 and n_v >= 2 and table.phase_breaks.ndim == 1 and n_p >= 2,
        table.v_phase_coefficients.shape == (n_v, _RATE_DEGREE + 2),
        table.v_slope_coefficients.shape == (n_v, _RATE_DEGREE + 1),
        table.phase_coefficients.shape == (n_p, _INVERSE_DEGREE + 1),
        table.v_breaks[0] == table.v_min and table.v_breaks[-1] == table.v_threshold,
        table.phase_breaks[0] == table.phase_min,
        bool(np.all(np.diff(table.v_breaks) > 0) and np.all(np.diff(table.phase_breaks) > 0)),
        math.isfinite(table.period) and table.period > 0,
        table.phase_min < 0 and math.isfinite(table.error_bound),
    ]
    arrays = table._arrays()
    checks.append(all(bool(np.all(np.isfinite(array))) for array in arrays.values()))
    return all(checks)


def _store(path, table, digest):
    with atomic_write(path, "wb") as stream:
        np.savez(
            stream,
            format_version=np.array(_FORMAT_VERSION),
            digest=np.array(digest),
            **table._arrays(),
        )


# --------------------------------------------------------------------------- public entry


def tabulate(
    rate,
    *,
    v_reset,
    v_threshold,
    v_min,
    name="tabulated",
    cache=True,
    cache_dir=None,
    key=None,
    tolerance=1e-13,
):
    """Tabulate the phase map and PTC of a one-dimensional neuron :math:`dv/dt = f(v)`.

    Builds :math:`\\phi(v) = T^{-1}\\int_{v_r}^{v} dv'/f(v')` and its inverse as adaptive
    piecewise Chebyshev series (see the module docstring for the method and the error
    bound), for the exact event-driven engine (Engelken 2023).

    Parameters
    ----------
    rate : callable
        Vectorised ``rate(v) -> dv/dt`` in 1/second for a float array `v` of plain
        (dimensionless) voltages, e.g. in mV. It must be > 0 on
        ``[v_min, v_threshold]``; ``+inf`` is allowed (read as :math:`1/f = 0`, e.g. an
        exponential that overflows near the EIF's numerical threshold).
    v_reset, v_threshold, v_min : float
        Reset, threshold (spike) and lowest tabulated voltage, plain numbers in the unit
        of `rate`, with ``v_min < v_reset < v_threshold``. A pulse that takes the voltage
        below `v_min` is clamped there.
    name : str
        Label of the table.
    cache : bool
        Store the table on disk and reuse it (only when `key` is given).
    cache_dir : str or os.PathLike, optional
        Cache folder; default ``$XDG_CACHE_HOME/neurosrnn/phase_tables`` (or
        ``~/.cache/neurosrnn/phase_tables``).
    key : str or JSON-able, optional
        Identifies `rate` for the cache (e.g. the equations and parameter values). The
        cache file name is the SHA-256 of `key`, the three voltages, `tolerance` and a
        format version. Without a key nothing is cached.
    tolerance : float
        Target phase error, in [1e-15, 1e-6]; the achieved (measured) bound is
        `PhaseTable.error_bound`.

    Returns
    -------
    PhaseTable

    Raises
    ------
    ValueError
        `rate` not callable, not vectorised, NaN or <= 0 somewhere on
        ``[v_min, v_threshold]`` (the message locates the fixed point); voltages not
        finite or not ordered; a `key` that is not JSON-able; a bad `tolerance`.

    Examples
    --------
    The EIF neuron of SparseProp (Engelken 2023; Fourcaud-Trocmé et al. 2003) in
    dimensionless voltage, :math:`\\tau\\,dV/dt = -V + \\Delta_T e^{V/\\Delta_T} + I`,
    reset -1, spike at V = 1000 (the exponential overflows long before: 1/f = 0 there):

    >>> import numpy as np
    >>> tau, delta, drive = 0.01, 0.1, 0.1
    >>> def eif(v):
    ...     return (-v + delta * np.exp(v / delta) + drive) / tau
    >>> table = tabulate(eif, v_reset=-1.0, v_threshold=1000.0, v_min=-5.0, name="eif",
    ...                  cache=False)
    >>> table.error_bound < 1e-12
    True
    >>> float(table.ptc(0.5, 1000.0))  # lifted past the spike voltage: fires now
    1.0
    >>> bool(table.ptc(0.5, -0.3) < 0.5)  # an inhibitory pulse delays the spike
    True
    """
    if not callable(rate):
        raise ValueError(f"rate must be a callable rate(v) -> dv/dt in 1/s, got {rate!r}")
    v_reset = _check_voltage(v_reset, "v_reset")
    v_threshold = _check_voltage(v_threshold, "v_threshold")
    v_min = _check_voltage(v_min, "v_min")
    if not v_min < v_reset:
        raise ValueError(f"v_min must be < v_reset, got v_min={v_min!r}, v_reset={v_reset!r}")
    if not v_reset < v_threshold:
        raise ValueError(
            f"v_threshold must be > v_reset, got v_threshold={v_threshold!r}, v_reset={v_reset!r}"
        )
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float | np.floating):
        raise ValueError(f"tolerance must be a float in [1e-15, 1e-6], got {tolerance!r}")
    tolerance = float(tolerance)
    if not 1e-15 <= tolerance <= 1e-6:
        raise ValueError(f"tolerance must be in [1e-15, 1e-6], got {tolerance!r}")
    name = str(name)
    path = digest = None
    if cache and key is not None:
        key_text = _key_text(key)
        if cache_dir is None:
            folder = _default_cache_dir()
            try:
                folder = check_output_folder(folder, "cache_dir")
            except (OSError, ValueError) as error:
                warnings.warn(f"phase table not cached: {error}", stacklevel=2)
                folder = None
        else:
            folder = check_output_folder(cache_dir, "cache_dir")
        if folder is not None:
            digest = _cache_digest(key_text, v_reset, v_threshold, v_min, tolerance)
            path = os.path.join(folder, f"{digest}.npz")
            table = _load_cached(path, digest, name, v_reset, v_threshold, v_min, tolerance)
            if table is not None:
                return table
    caller = _RateCaller(rate, v_min, v_threshold)
    table = _build(caller, name, v_reset, v_threshold, v_min, tolerance)
    if path is not None:
        try:
            _store(path, table, digest)
        except OSError as error:
            warnings.warn(f"phase table not cached at {path!r}: {error}", stacklevel=2)
    return table


# --------------------------------------------------------------------------- numba kernels


def _concatenate(parts, width=None, dtype=np.float64):
    if parts:
        return np.ascontiguousarray(np.concatenate(parts), dtype=dtype)
    shape = (0,) if width is None else (0, width)
    return np.zeros(shape, dtype=dtype)


def kernel_tables(tables, weights=None):
    """Pack `PhaseTable` objects into one tuple of flat arrays for the compiled kernels.

    Population ``k`` of the kernels is ``tables[k]``. The tuple always has the same numba
    type (whatever the number of tables and weights), so `empty_kernel_tables` can stand
    in for networks without tabulated models. Its entry `CLAMPS` is a 1-element int64
    array that `table_pulse_phase` increments for every pulse clamped at `v_min` (read it
    with `clamp_count`).

    The kernels read one float64 array (entry 2): a header of 32 doubles per population
    (the scalars, then origin, scale, last bucket and section starts of the forward and
    inverse lookup grids, then the per-weight maps' count, weights and directory), then
    per population the left ends of the forward pieces, their rows (16 doubles: midpoint,
    2/width, 12 power-basis coefficients), the slope rows, the lookup buckets (piece
    indices, as floats), the same for the inverse map, and last the per-weight maps
    (their headers, left ends, rows and buckets). One array, because every array a
    compiled call touches costs a reference count.

    Per-weight PTC maps
    -------------------
    With `weights` (the synaptic weights of the network; at most 8 distinct values), each
    population also gets the PTC :math:`g_w(\\phi) = \\phi(v(\\phi) + w)` of each
    distinct weight as one adaptive piecewise Chebyshev series in the phase (degree 11,
    from 24 points per piece, bisected until the tail is below ``tolerance / 10`` or the
    float64 resolution of the data: one float step of the phase, of :math:`v` and of
    :math:`v + w`, times their effect on :math:`g_w`). The data are the forward map at
    the float roots :math:`v(\\phi)` of the forward map (not the inverse series), so the
    series is at least as accurate as the two-step path. `table_pulse_phase` then costs
    one look-up and one series instead of two of each when the weight equals (exactly,
    as floats) a stored one. The map has two breaks, the phases where the two-step path's own float
    decisions change: below the first, :math:`v + w < v_{min}` (clamped; left to the
    two-step path, which counts it), and from the second on the two-step PTC is exactly
    1.0 (for :math:`v + w \\ge v_{th}`, or where the phase of :math:`v + w` rounds to
    1), located by bisection to the float. The maps are built once per table and weight
    (memoised on the table; about 0.1 s each). More than 8 distinct weights: no maps
    (every pulse takes the two-step path).

    Parameters
    ----------
    tables : PhaseTable or sequence of PhaseTable
    weights : array_like of float, optional
        Synaptic weights (plain numbers in the voltage unit of the tables, any shape,
        repeats allowed). None (default), empty, or more than 8 distinct values: no
        per-weight maps.

    Returns
    -------
    tuple of numpy.ndarray
        ``(scalars, v_offsets, data, v_left, v_rows, v_slope, v_buckets, p_offsets,
        p_left, p_rows, p_buckets, bucket_offsets, clamps)``: per-population scalars
        (period, v_reset, v_threshold, v_min, phase_min), piece offsets (int64), the data
        array, views of its sections (all populations concatenated), the bucket offsets
        (int64, ``(2, n + 1)``) and the clamp counter (an int64 view of the last double
        of the data array).

    Examples
    --------
    >>> table = tabulate(lambda v: (1.5 - v) / 0.01, v_reset=0.0, v_threshold=1.0,
    ...                  v_min=-1.0, cache=False)
    >>> packed = kernel_tables([table, table])
    >>> packed[0].shape, clamp_count(packed)
    ((2, 5), 0)
    >>> float(table_pulse_phase(packed, 1, 0.5, 2.0))
    1.0
    >>> fast = kernel_tables([table], weights=[-0.1, 0.05, -0.1])
    >>> bool(abs(table_pulse_phase(fast, 0, 0.5, -0.1) - table.ptc(0.5, -0.1)) < 1e-15)
    True
    """
    if isinstance(tables, PhaseTable):
        tables = [tables]
    tables = list(tables)
    for index, table in enumerate(tables):
        if not isinstance(table, PhaseTable):
            raise ValueError(f"tables[{index}] must be a PhaseTable, got {table!r}")
    distinct = _distinct_weights(weights)
    n = len(tables)
    scalars = np.zeros((n, _N_SCALARS), dtype=np.float64)
    offsets = np.zeros((2, n + 1), dtype=np.int64)
    bucket_offsets = np.zeros((2, n + 1), dtype=np.int64)
    sections = {name: [] for name in ("v_left", "v_rows", "v_slope", "v_buckets")}
    sections.update({name: [] for name in ("p_left", "p_rows", "p_buckets")})
    for index, table in enumerate(tables):
        scalars[index] = [
            table.period,
            table.v_reset,
            table.v_threshold,
            table.v_min,
            table.phase_min,
        ]
        sections["v_left"].append(table.v_breaks[:-1])
        sections["v_rows"].append(table._v_rows.ravel())
        sections["v_slope"].append(table._v_slope_rows.ravel())
        sections["v_buckets"].append(table._v_grid[3].astype(np.float64))
        sections["p_left"].append(table.phase_breaks[:-1])
        sections["p_rows"].append(table._p_rows.ravel())
        sections["p_buckets"].append(table._p_grid[3].astype(np.float64))
        for side, (breaks, grid) in enumerate(
            ((table.v_breaks, table._v_grid), (table.phase_breaks, table._p_grid))
        ):
            offsets[side, index + 1] = offsets[side, index] + len(breaks) - 1
            bucket_offsets[side, index + 1] = bucket_offsets[side, index] + len(grid[3])
    # section starts in the data array
    order = ("v_left", "v_rows", "v_slope", "v_buckets", "p_left", "p_rows", "p_buckets")
    starts = {}
    position = _HEADER * n
    for name in order:
        starts[name] = position
        position += sum(len(part) for part in sections[name])
    data = np.zeros(position, dtype=np.float64)
    for name in order:
        if sections[name]:
            data[starts[name] : starts[name] + sum(map(len, sections[name]))] = np.concatenate(
                sections[name]
            )
    for index, table in enumerate(tables):
        header = data[_HEADER * index : _HEADER * (index + 1)]
        header[:_N_SCALARS] = scalars[index]
        for side, (base, grid, prefix) in enumerate(
            ((_V_MAP, table._v_grid, "v"), (_P_MAP, table._p_grid, "p"))
        ):
            pieces, buckets = offsets[side, index], bucket_offsets[side, index]
            header[base + _ORIGIN : base + _LAST + 1] = grid[:3]
            header[base + _LEFT_START] = starts[f"{prefix}_left"] + pieces
            header[base + _ROWS_START] = starts[f"{prefix}_rows"] + _ROW * pieces
            header[base + _BUCKETS_START] = starts[f"{prefix}_buckets"] + buckets
        header[_V_MAP + _SLOPE_START] = starts["v_slope"] + _ROW * offsets[0, index]
    if distinct:
        data = _append_pulse_maps(data, tables, distinct)
    # the last double holds the int64 clamp counter (entry CLAMPS is a view of it): the
    # kernel then touches one array only (a second one costs ~10 ns per call)
    data = np.concatenate([data, np.zeros(1)])

    def view(name, rows=False):
        stop = starts[name] + sum(len(part) for part in sections[name])
        part = data[starts[name] : stop]
        return part.reshape(-1, _ROW) if rows else part

    return (
        scalars,
        offsets[0].copy(),
        data,
        view("v_left"),
        view("v_rows", True),
        view("v_slope", True),
        view("v_buckets"),
        offsets[1].copy(),
        view("p_left"),
        view("p_rows", True),
        view("p_buckets"),
        bucket_offsets,
        data[-1:].view(np.int64),
    )


def _distinct_weights(weights):
    """Sorted distinct float weights, or [] (None, empty or more than _MAX_WEIGHTS)."""
    if weights is None:
        return []
    if is_quantity(weights):
        raise ValueError(
            "weights must be plain numbers in the voltage unit of the tables, not "
            f"quantities; got {weights!r}"
        )
    try:
        values = np.asarray(weights, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"weights must be an array of real numbers, got {weights!r}") from None
    if not np.all(np.isfinite(values)):
        raise ValueError(f"weights must be finite, got {values[~np.isfinite(values)][:3]!r}")
    distinct = np.unique(values + 0.0)  # -0.0 and 0.0 are one weight
    if len(distinct) > _MAX_WEIGHTS:
        return []
    return [float(w) for w in distinct]


def _append_pulse_maps(data, tables, weights):
    """`data` extended by the per-weight maps of every table (headers filled in)."""
    parts = [data]
    position = len(data)
    for index, table in enumerate(tables):
        header = data[_HEADER * index : _HEADER * (index + 1)]
        header[_N_WEIGHTS] = len(weights)
        header[_WEIGHTS : _WEIGHTS + len(weights)] = weights
        header[_WEIGHT_DIRECTORY] = position
        directory = np.zeros(_W_HEADER * len(weights))
        parts.append(directory)
        position += len(directory)
        for j, weight in enumerate(weights):
            pulse_map = _pulse_map(table, weight)
            entry = directory[_W_HEADER * j : _W_HEADER * (j + 1)]
            entry[_W_LOW], entry[_W_HIGH], entry[_W_ONE] = (
                pulse_map.low,
                pulse_map.high,
                pulse_map.one,
            )
            if pulse_map.breaks is None:
                continue
            origin, scale, last, first = pulse_map.grid
            entry[_ORIGIN], entry[_SCALE], entry[_LAST] = origin, scale, last
            pieces = pulse_map.n_pieces
            entry[_LEFT_START] = position
            entry[_ROWS_START] = position + pieces
            entry[_BUCKETS_START] = position + pieces + _ROW * pieces
            block = [pulse_map.breaks[:-1], pulse_map.rows.ravel(), first.astype(np.float64)]
            parts.extend(block)
            position += sum(len(part) for part in block)
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float64)


def empty_kernel_tables():
    """A `kernel_tables` tuple without populations (same numba types), for theta/LIF runs.

    Examples
    --------
    >>> packed = empty_kernel_tables()
    >>> len(packed), packed[0].shape, clamp_count(packed)
    (13, (0, 5), 0)
    """
    return kernel_tables([])


def clamp_count(tables):
    """Number of pulses clamped at `v_min` so far (the counter in a `kernel_tables` tuple).

    Examples
    --------
    >>> clamp_count(empty_kernel_tables())
    0
    """
    return int(tables[CLAMPS][0])


@numba.njit(cache=True, inline="always")
def _locate(data, head, value):
    """Piece of `value` in the map whose header starts at data[head]: its lookup bucket,
    then a search among that bucket's few pieces.

    The same piece as ``searchsorted(breaks, value, "right") - 1`` (see `_bucket_grid`).
    """
    position = (value - data[head + _ORIGIN]) * data[head + _SCALE]
    bucket = 0
    if position >= data[head + _LAST]:
        bucket = int(data[head + _LAST])
    elif position > 0.0:
        bucket = int(position)
    at = int(data[head + _BUCKETS_START]) + bucket
    base = int(data[at])
    count = int(data[at + 1]) - base + 1
    left = int(data[head + _LEFT_START])
    # branch-free search: largest k in [base, base + count) with left[k] <= value
    while count > 1:
        half = count >> 1
        base = base + half if data[left + base + half] <= value else base
        count -= half
    return base


@numba.njit(cache=True, inline="always")
def _row_value(data, start, k, value):
    """The power series of piece `k` (rows from data[start]) at `value`."""
    r = start + _ROW * k
    x = (value - data[r]) * data[r + 1]
    return _power_series_compiled(
        data[r + 2],
        data[r + 3],
        data[r + 4],
        data[r + 5],
        data[r + 6],
        data[r + 7],
        data[r + 8],
        data[r + 9],
        data[r + 10],
        data[r + 11],
        data[r + 12],
        data[r + 13],
        x,
    )


@numba.njit(cache=True, inline="always")
def _v_of(data, population, phase):
    top = _HEADER * population
    if phase >= 1.0:
        return data[top + _V_THRESHOLD]
    if phase <= data[top + _PHASE_MIN]:
        return data[top + _V_MIN]
    head = top + _P_MAP
    k = _locate(data, head, phase)
    v = _row_value(data, int(data[head + _ROWS_START]), k, phase)
    if v > data[top + _V_THRESHOLD]:
        return data[top + _V_THRESHOLD]
    if v < data[top + _V_MIN]:
        return data[top + _V_MIN]
    return v


@numba.njit(cache=True, inline="always")
def _phase_of(data, population, v):
    """Clamped forward phase of `v` in [v_min, v_threshold)."""
    top = _HEADER * population
    head = top + _V_MAP
    k = _locate(data, head, v)
    phase = _row_value(data, int(data[head + _ROWS_START]), k, v)
    return min(max(phase, data[top + _PHASE_MIN]), 1.0)


@numba.njit(cache=True, inline="always")
def _slope(data, population, v):
    head = _HEADER * population + _V_MAP
    k = _locate(data, head, v)
    return _row_value(data, int(data[head + _SLOPE_START]), k, v)


@numba.njit(cache=True, inline="always")
def _weight_slot(data, top, weight):
    """Index of `weight` among the population's per-weight maps (exact match), or -1."""
    slot = -1
    for j in range(int(data[top + _N_WEIGHTS])):
        if data[top + _WEIGHTS + j] == weight:
            slot = j
            break
    return slot


@numba.njit(cache=True, inline="always")
def table_v_of(tables, population, phase):
    """Voltage :math:`v(\\phi)` of `population` (numba; `PhaseTable.v_of`).

    `v_threshold` for phase >= 1 and `v_min` for phase <= phase_min.
    """
    return _v_of(tables[_DATA], population, phase)


@numba.njit(cache=True, inline="always")
def table_phase_of(tables, population, v):
    """Phase :math:`\\phi(v)` of `population` (numba; `PhaseTable.phase_of`).

    1.0 for v >= v_threshold, phase_min for v < v_min (not counted as a clamp).
    """
    data = tables[_DATA]
    top = _HEADER * population
    if v >= data[top + _V_THRESHOLD]:
        return 1.0
    if v < data[top + _V_MIN]:
        return data[top + _PHASE_MIN]
    return _phase_of(data, population, v)


@numba.njit(cache=True, inline="always")
def table_pulse_phase(tables, population, phase, weight):
    """Phase after a pulse ``v += weight``: :math:`\\phi(v(\\phi) + w)` (numba).

    Returns exactly 1.0 when :math:`v + w \\ge v_{th}` (fires now). When
    :math:`v + w < v_{min}` it returns ``phase_min`` and increments
    ``tables[CLAMPS][0]``. Cost: two bucket look-ups and two degree-11 Estrin sums; for a
    weight given to `kernel_tables` (exact float match), one of each (its own PTC series).
    """
    # one array only, and one exit: binding tables[CLAMPS] as well costs ~10 ns per call,
    # and reading it inside a branch ~130 ns
    data = tables[_DATA]
    top = _HEADER * population
    result = math.nan
    # a weight given to kernel_tables: its own PTC series (one look-up, one series)
    slot = _weight_slot(data, top, weight)
    if slot >= 0:
        head = int(data[top + _WEIGHT_DIRECTORY]) + _W_HEADER * slot
        if phase >= data[head + _W_ONE]:
            result = 1.0
        elif data[head + _W_LOW] <= phase <= data[head + _W_HIGH]:
            k = _locate(data, head, phase)
            value = _row_value(data, int(data[head + _ROWS_START]), k, phase)
            result = min(max(value, data[top + _PHASE_MIN]), 1.0)
    if result != result:  # the two-step path: v(phi), then phi(v + w)
        after = _v_of(data, population, phase) + weight
        if after >= data[top + _V_THRESHOLD]:
            result = 1.0
        elif after < data[top + _V_MIN]:
            last = data.shape[0] - 1  # the clamp counter (tables[CLAMPS] is its view)
            data[last:].view(np.int64)[0] += 1
            result = data[top + _PHASE_MIN]
        else:
            result = _phase_of(data, population, after)
    return result


@numba.njit(cache=True, inline="always")
def table_pulse_derivative(tables, population, phase, weight):
    """:math:`\\partial\\phi^+/\\partial\\phi^- = f(v)/f(v + w)` (numba; 0 if it fires or clamps).

    ``inf`` if :math:`1/f(v)` is 0 in the table (a phase of exactly 1).
    """
    data = tables[_DATA]
    top = _HEADER * population
    v = _v_of(data, population, phase)
    after = v + weight
    if after >= data[top + _V_THRESHOLD] or after < data[top + _V_MIN]:
        return 0.0
    before_slope = _slope(data, population, v)
    if before_slope <= 0.0:
        return math.inf
    return _slope(data, population, after) / before_slope


@numba.njit(cache=True, inline="always")
def table_pulse_weight_derivative(tables, population, phase, weight):
    """:math:`\\partial\\phi^+/\\partial w = 1/(T f(v + w))` (numba; 0 if it fires or clamps)."""
    data = tables[_DATA]
    top = _HEADER * population
    after = _v_of(data, population, phase) + weight
    if after >= data[top + _V_THRESHOLD] or after < data[top + _V_MIN]:
        return 0.0
    return _slope(data, population, after)
