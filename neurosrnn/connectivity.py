"""Sparse connectivity generated once from a seed and shared by every engine.

A `Connectivity` holds a directed graph in compressed sparse row (CSR) form keyed by
the *presynaptic* neuron: the targets of neuron ``i`` are
``indices[indptr[i]:indptr[i + 1]]`` (sorted), with optional per-synapse weights.
Row-by-source is what an event-driven engine needs (the targets of a spiking
neuron), and Brian2 receives the same graph as explicit ``connect(i=..., j=...)``
index arrays, so runtime, C++ standalone, CUDA standalone and the SparseProp engine
all simulate one identical graph.

Generators
----------
- `fixed_in_degree`: every postsynaptic neuron receives exactly ``K`` inputs.
- `fixed_out_degree`: every presynaptic neuron projects to exactly ``K`` targets.
- `erdos_renyi`: each ordered pair is connected independently with probability ``p``.
- `balanced_ei`: an E/I network with fixed in-degrees and weights scaled as
  ``J0 / sqrt(K)`` (van Vreeswijk & Sompolinsky 1996, Science 274:1724;
  Brunel 2000, J. Comput. Neurosci. 8:183).

All are reproducible from ``seed`` (``numpy.random.default_rng``) and vectorised;
an N = 10^6, K = 100 graph builds in seconds (``benchmarks/connectivity_build.py``).
"""

from __future__ import annotations

import math
import numbers

import numba
import numpy as np

from neurosrnn.validation import check_choice, check_int, int_array, seeded_rng

__all__ = [
    "Connectivity",
    "fixed_in_degree",
    "fixed_out_degree",
    "erdos_renyi",
    "balanced_ei",
]

_INDEX_DTYPE = np.int32
# Above this many random keys the dense sampling path would use too much memory.
_DENSE_KEYS_LIMIT = 20_000_000
# Formats `Connectivity.to_scipy` can return (those of scipy.sparse's asformat).
_SCIPY_FORMATS = ("csr", "csc", "coo", "bsr", "dia", "dok", "lil")


class Connectivity:
    """A directed graph in CSR form keyed by the presynaptic neuron.

    Parameters
    ----------
    indptr : array of int, shape (N_pre + 1,)
        Row pointers: the targets of presynaptic neuron ``i`` are
        ``indices[indptr[i]:indptr[i + 1]]``.
    indices : array of int, shape (n_synapses,)
        Postsynaptic indices.
    N_post : int
        Number of postsynaptic neurons.
    weights : array of float, shape (n_synapses,), optional
        Per-synapse weights (plain numbers; their physical unit is the model's
        coupling unit, chosen when the graph is handed to a simulator).
    description : str, optional
        How the graph was made (rule, parameters, seed); shown by ``repr``.

    Raises
    ------
    ValueError
        Inconsistent arrays: ``indptr`` not starting at 0 or not non-decreasing,
        indices out of ``[0, N_post)``, or a weight array of the wrong length.
    TypeError
        ``indptr`` or ``indices`` not integers (floats are refused, never truncated).
    """

    def __init__(self, indptr, indices, N_post, weights=None, description=""):
        indptr = int_array(indptr, "indptr", ndim=None)
        indices = int_array(indices, "indices", ndim=None)
        if indptr.ndim != 1 or indptr.size < 1 or indptr[0] != 0:
            raise ValueError("indptr must be a 1-D array starting at 0")
        if np.any(np.diff(indptr) < 0):
            raise ValueError("indptr must be non-decreasing")
        if indices.ndim != 1 or indices.size != indptr[-1]:
            raise ValueError(
                f"indices must be 1-D with indptr[-1]={indptr[-1]} entries, got {indices.shape}"
            )
        if not isinstance(N_post, int | np.integer) or N_post <= 0:
            raise ValueError(f"N_post must be a positive integer, got {N_post!r}")
        if indices.size and (indices.min() < 0 or indices.max() >= N_post):
            raise ValueError(f"indices must lie in [0, N_post={N_post})")
        if weights is not None:
            weights = np.asarray(weights, dtype=float)
            if weights.shape != indices.shape:
                raise ValueError(
                    f"weights must have one entry per synapse ({indices.size}), "
                    f"got shape {weights.shape}"
                )
        self.indptr = indptr
        self.indices = indices.astype(_INDEX_DTYPE, copy=False)
        self.N_pre = int(indptr.size - 1)
        self.N_post = int(N_post)
        self.weights = weights
        self.description = description

    def __repr__(self):
        weights = "weighted" if self.weights is not None else "unweighted"
        desc = f", {self.description}" if self.description else ""
        return (
            f"<Connectivity {self.N_pre} -> {self.N_post} neurons, "
            f"{self.n_synapses} synapses, {weights}{desc}>"
        )

    @property
    def n_synapses(self):
        """Number of synapses (edges)."""
        return int(self.indices.size)

    @property
    def sources(self):
        """Presynaptic index of every synapse, in CSR order."""
        return np.repeat(
            np.arange(self.N_pre, dtype=_INDEX_DTYPE), np.diff(self.indptr).astype(np.int64)
        )

    @property
    def targets(self):
        """Postsynaptic index of every synapse, in CSR order."""
        return self.indices

    def out_degrees(self):
        """Number of targets of each presynaptic neuron."""
        return np.diff(self.indptr)

    def in_degrees(self):
        """Number of inputs of each postsynaptic neuron."""
        return np.bincount(self.indices, minlength=self.N_post)

    def targets_of(self, i):
        """Postsynaptic indices of presynaptic neuron `i`."""
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    def weights_of(self, i):
        """Weights of the synapses of presynaptic neuron `i` (None if unweighted)."""
        if self.weights is None:
            return None
        return self.weights[self.indptr[i] : self.indptr[i + 1]]

    def with_weights(self, weights):
        """Return a copy of this graph with new per-synapse `weights` (scalar or array).

        Raises
        ------
        ValueError
            `weights` not finite, or not a scalar or an array broadcastable to one value
            per synapse.
        """
        weights = _check_weights(weights, self.indices.shape)
        return Connectivity(self.indptr, self.indices, self.N_post, weights, self.description)

    def to_dense(self):
        """Dense ``(N_pre, N_post)`` weight matrix (1 per synapse if unweighted; sums multapses).

        For tests and small graphs only.
        """
        matrix = np.zeros((self.N_pre, self.N_post))
        values = self.weights if self.weights is not None else np.ones(self.n_synapses)
        np.add.at(matrix, (self.sources, self.indices), values)
        return matrix

    def to_scipy(self, format="csr", *, allow_multapses=False):
        """This graph as a ``scipy.sparse`` array of shape ``(N_pre, N_post)``.

        Entry ``(i, j)`` is the weight of the synapse from presynaptic neuron ``i`` to
        postsynaptic neuron ``j`` (1.0 for an unweighted graph); the rows are this graph's
        CSR rows, so ``to_scipy("csr")`` has the same ``indptr`` and ``indices`` as the
        graph. The result is in scipy's canonical form: sorted indices, one entry per
        pair, and a synapse of weight 0 kept as an explicitly stored zero.

        ``scipy.sparse`` holds one value per ``(pre, post)`` pair and *sums* duplicate
        entries (:math:`A_{ij} = \\sum_{s: i_s = i, j_s = j} w_s`). A graph with
        multapses therefore cannot be represented synapse by synapse: it is refused
        unless `allow_multapses` is True, in which case each pair holds the sum of its
        synapses' weights (as in `to_dense`), and `from_scipy` gives back a graph with
        one synapse per pair.

        Parameters
        ----------
        format : {"csr", "csc", "coo", "bsr", "dia", "dok", "lil"}
            The scipy.sparse format of the result.
        allow_multapses : bool
            Accept a graph with several synapses between one pair, summing their weights.

        Returns
        -------
        scipy.sparse.sparray
            A sparse array (``csr_array`` for the default format) of float64 values.

        Raises
        ------
        ValueError
            `format` not one of the above, or the graph has multapses and
            `allow_multapses` is False.

        See Also
        --------
        from_scipy : The inverse conversion.
        to_dense : The same matrix as a dense numpy array.

        Examples
        --------
        >>> graph = Connectivity([0, 2, 3], [0, 2, 1], 3, weights=[0.5, -1.0, 2.0])
        >>> matrix = graph.to_scipy()
        >>> matrix.shape, matrix.indptr.tolist(), matrix.indices.tolist()
        ((2, 3), [0, 2, 3], [0, 2, 1])
        >>> matrix.toarray()
        array([[ 0.5,  0. , -1. ],
               [ 0. ,  2. ,  0. ]])
        >>> Connectivity.from_scipy(matrix) == graph
        True
        """
        from scipy import sparse  # here, not at module level: `import neurosrnn` stays light

        check_choice(format, "format", _SCIPY_FORMATS)
        if not isinstance(allow_multapses, bool):
            raise TypeError(f"allow_multapses must be True or False, got {allow_multapses!r}")
        values = np.ones(self.n_synapses) if self.weights is None else self.weights
        # copy=True: sum_duplicates below works in place and must not touch this graph
        matrix = sparse.csr_array(
            (values.astype(float), self.indices, self.indptr),
            shape=(self.N_pre, self.N_post),
            copy=True,
        )
        n_stored = matrix.nnz
        matrix.sum_duplicates()
        n_merged = n_stored - matrix.nnz
        if n_merged and not allow_multapses:
            raise ValueError(
                f"this graph has multapses ({n_merged} synapses repeat a (pre, post) pair "
                "already connected); scipy.sparse keeps one entry per pair and sums their "
                "weights: pass allow_multapses=True to accept the summed matrix"
            )
        return matrix.asformat(format)

    @classmethod
    def from_scipy(cls, matrix, *, description=None):
        """The graph whose synapses are the stored entries of a ``scipy.sparse`` matrix.

        Row ``i`` of `matrix` holds the targets of presynaptic neuron ``i``, so a matrix
        of shape ``(N_pre, N_post)`` gives ``N_pre -> N_post`` neurons (square or not).
        Every *stored* entry ``(i, j)`` becomes one synapse with weight ``matrix[i, j]``,
        explicitly stored zeros included (call ``matrix.eliminate_zeros()`` first to drop
        them); duplicate entries of a non-canonical matrix are summed first, as scipy
        does, so the graph has one synapse per pair and sorted rows. A boolean matrix
        (an adjacency pattern) gives an unweighted graph.

        Parameters
        ----------
        matrix : scipy.sparse array or matrix, shape (N_pre, N_post)
            Any format (CSR, CSC, COO, ...), of real numbers or booleans.
        description : str, optional
            How the graph was made, shown by ``repr``; default: the scipy type it came
            from.

        Returns
        -------
        Connectivity
            Weighted (float64 weights) unless `matrix` is boolean.

        Raises
        ------
        TypeError
            `matrix` is not a scipy.sparse array or matrix (a dense numpy array
            included: convert it with ``scipy.sparse.csr_array(array)``, which keeps only
            its nonzero entries), holds neither real numbers nor booleans, or
            `description` is not a string.
        ValueError
            `matrix` is not 2-D or has no columns, a stored value is NaN or infinite, or a
            boolean matrix stores a False entry.

        See Also
        --------
        to_scipy : The inverse conversion.

        Examples
        --------
        >>> import numpy as np
        >>> from scipy import sparse
        >>> matrix = sparse.coo_array(([0.5, 2.0], ([0, 1], [2, 0])), shape=(2, 3))
        >>> graph = Connectivity.from_scipy(matrix, description="two synapses")
        >>> graph
        <Connectivity 2 -> 3 neurons, 2 synapses, weighted, two synapses>
        >>> graph.targets_of(0), graph.weights_of(0)
        (array([2], dtype=int32), array([0.5]))
        >>> Connectivity.from_scipy(matrix.astype(bool)).weights is None
        True
        """
        from scipy import sparse  # here, not at module level: `import neurosrnn` stays light

        if not sparse.issparse(matrix):
            raise TypeError(
                "matrix must be a scipy.sparse array or matrix, got "
                f"{type(matrix).__module__}.{type(matrix).__qualname__}; convert a dense "
                "array with scipy.sparse.csr_array(array) (which keeps its nonzero entries)"
            )
        if description is not None and not isinstance(description, str):
            raise TypeError(f"description must be a string or None, got {description!r}")
        if matrix.ndim != 2:
            raise ValueError(f"matrix must be 2-D (N_pre, N_post), got shape {matrix.shape}")
        N_pre, N_post = matrix.shape
        if N_post < 1:
            raise ValueError(
                f"matrix must have at least one column (N_post), got shape {matrix.shape}"
            )
        dtype = matrix.dtype
        weighted = not np.issubdtype(dtype, np.bool_)
        if weighted and not (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)):
            raise TypeError(f"matrix must hold real numbers or booleans, got dtype {dtype}")
        # an own copy in CSR form: sum_duplicates works in place (and sorts the rows)
        csr = sparse.csr_array(matrix, copy=True)
        csr.sum_duplicates()
        if weighted:
            weights = csr.data.astype(float)
            n_bad = int(np.count_nonzero(~np.isfinite(weights)))
            if n_bad:
                raise ValueError(
                    f"matrix must hold finite weights, found {n_bad} NaN or infinite stored values"
                )
        else:
            weights = None
            n_false = int(np.count_nonzero(~csr.data))
            if n_false:
                raise ValueError(
                    f"a boolean matrix gives an unweighted graph, but this one stores "
                    f"{n_false} False entries; call matrix.eliminate_zeros() first"
                )
        if description is None:
            description = f"from scipy.sparse {type(matrix).__name__}"
        return cls(csr.indptr, csr.indices, N_post, weights, description)

    def connect(self, synapses, weight_unit=None, weight_variable="w"):
        """Create these synapses in a `brian2.Synapses` object with explicit indices.

        Parameters
        ----------
        synapses : brian2.Synapses
            Unconnected synapses between groups of sizes ``N_pre`` and ``N_post``.
        weight_unit : brian2 unit, optional
            Unit of the weights (e.g. ``mV``); needed when the graph has weights and
            the weight variable has units.
        weight_variable : str
            Name of the synaptic weight variable.
        """
        if synapses.source.N != self.N_pre or synapses.target.N != self.N_post:
            raise ValueError(
                f"Synapses connect {synapses.source.N} -> {synapses.target.N} neurons, "
                f"this graph is {self.N_pre} -> {self.N_post}"
            )
        synapses.connect(i=self.sources, j=self.indices)
        if self.weights is not None:
            values = self.weights if weight_unit is None else self.weights * weight_unit
            setattr(synapses, weight_variable, values)
        return synapses

    def __eq__(self, other):
        if not isinstance(other, Connectivity):
            return NotImplemented
        same_weights = (self.weights is None and other.weights is None) or (
            self.weights is not None
            and other.weights is not None
            and np.array_equal(self.weights, other.weights)
        )
        return (
            self.N_post == other.N_post
            and np.array_equal(self.indptr, other.indptr)
            and np.array_equal(self.indices, other.indices)
            and same_weights
        )

    __hash__ = None


# --------------------------------------------------------------------------- checks


def _check_count(name, value, *, allow_zero=False):
    """`value` as an int, checked to be a positive (or, with `allow_zero`, >= 0) integer."""
    is_integer = not isinstance(value, bool) and isinstance(value, int | np.integer)
    if not is_integer or value < 0 or (value == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a {kind} integer, got {value!r}")
    return int(value)


def _check_degree(K, n_choices, multapses, what, name="K"):
    if isinstance(K, bool) or not isinstance(K, int | np.integer) or K < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {K!r}")
    if not multapses and K > n_choices:
        raise ValueError(
            f"{name}={K} exceeds the {n_choices} distinct {what} available without multapses; "
            f"use {name} <= that number or multapses=True"
        )
    if multapses and K > 0 and n_choices < 1:
        raise ValueError(
            f"{name}={K} needs at least one of the {what}, but none is available (the only "
            "candidate is the neuron itself); use autapses=True or a larger population"
        )
    return int(K)


def _check_real(value, name, *, nonnegative=False):
    """`value` (a real scalar, not bool) as a finite float; with `nonnegative`, also >= 0."""
    try:
        if isinstance(value, bool | str | bytes) or np.ndim(value) != 0:
            raise TypeError
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(value) or (nonnegative and value < 0):
        kind = "a finite number >= 0" if nonnegative else "finite"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return value


def _check_weights(weights, shape):
    """Finite float weights broadcast to `shape` (one per synapse), as a new array."""
    try:
        values = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"weights must be numbers, got {weights!r}") from None
    try:
        values = np.broadcast_to(values, shape).copy()
    except ValueError:
        raise ValueError(
            f"weights must be a scalar or have one entry per synapse ({shape[0]}), "
            f"got shape {values.shape}"
        ) from None
    if not np.all(np.isfinite(values)):
        raise ValueError("weights must be finite (found NaN or inf)")
    return values


def _check_self_exclusion(N_pre, N_post, autapses, self_offset):
    """Return the offset o such that pre index i and post index i + o are one neuron, or None."""
    if self_offset is not None:
        # checked even when autapses make it unused: a bad value is a bug at the call site
        self_offset = check_int(self_offset, "self_offset")
    if autapses:
        return None
    if self_offset is None:
        return 0 if N_pre == N_post else None
    return self_offset


# --------------------------------------------------------------------------- sampling


def _rows_with_duplicates(sorted_rows):
    return np.flatnonzero(np.any(sorted_rows[:, 1:] == sorted_rows[:, :-1], axis=1))


def _draw_rows(rng, n_rows, K, n_choices, excluded):
    """Draw `K` values per row from ``[0, n_choices)``, skipping ``excluded[row]`` if >= 0."""
    n_draw = n_choices - (excluded is not None)
    values = rng.integers(0, n_draw, size=(n_rows, K), dtype=_INDEX_DTYPE)
    if excluded is not None:
        # Shift values at or above the excluded index by one: uniform over the rest.
        values += values >= excluded[:, None]
    return values


def _sample_distinct_rows(rng, n_rows, K, n_choices, excluded, multapses):
    """Sorted ``(n_rows, K)`` array of draws without replacement (or with, if `multapses`).

    Sparse case: draw with replacement, sort rows, redraw rows holding a repeat until
    none does (expected redraws n_rows * K^2 / (2 n_choices)). Dense case: random keys
    and a partial argsort, which never repeats.
    """
    if K == 0:
        return np.empty((n_rows, 0), dtype=_INDEX_DTYPE)
    if multapses:
        rows = _draw_rows(rng, n_rows, K, n_choices, excluded)
        rows.sort(axis=1)
        return rows
    n_draw = n_choices - (excluded is not None)
    if K * K <= n_draw or n_rows * n_draw > _DENSE_KEYS_LIMIT:
        rows = _draw_rows(rng, n_rows, K, n_choices, excluded)
        rows.sort(axis=1)
        bad = _rows_with_duplicates(rows)
        while bad.size:
            sub_excluded = None if excluded is None else excluded[bad]
            redrawn = _draw_rows(rng, bad.size, K, n_choices, sub_excluded)
            redrawn.sort(axis=1)
            rows[bad] = redrawn
            bad = bad[_rows_with_duplicates(redrawn)]
        return rows
    rows = np.empty((n_rows, K), dtype=_INDEX_DTYPE)
    chunk = max(1, _DENSE_KEYS_LIMIT // max(n_draw, 1))
    for start in range(0, n_rows, chunk):
        stop = min(n_rows, start + chunk)
        keys = rng.random((stop - start, n_draw))
        picks = np.argpartition(keys, K - 1, axis=1)[:, :K].astype(_INDEX_DTYPE)
        if excluded is not None:
            picks += picks >= excluded[start:stop, None]
        picks.sort(axis=1)
        rows[start:stop] = picks
    return rows


@numba.njit(cache=True)
def _transpose_rows(row_targets, n_cols):
    """CSR keyed by column of a dense (n_rows, K) row->column table (counting sort)."""
    n_rows, K = row_targets.shape
    counts = np.zeros(n_cols + 1, dtype=np.int64)
    for r in range(n_rows):
        for k in range(K):
            counts[row_targets[r, k] + 1] += 1
    indptr = np.cumsum(counts)
    fill = indptr[:-1].copy()
    indices = np.empty(n_rows * K, dtype=np.int32)
    for r in range(n_rows):  # rows in increasing order -> each column's list is sorted
        for k in range(K):
            c = row_targets[r, k]
            indices[fill[c]] = r
            fill[c] += 1
    return indptr, indices


def _self_partners(n_rows, offset, n_choices, rows_are_post):
    """For each row, the column that is the same neuron (-1 if none), or None if no row has one."""
    rows = np.arange(n_rows, dtype=np.int64)
    partner = rows - offset if rows_are_post else rows + offset
    inside = (partner >= 0) & (partner < n_choices)
    if not np.any(inside):
        return None
    return np.where(inside, partner, -1).astype(_INDEX_DTYPE)


def _sample_rows(rng, n_rows, K, n_choices, partner, multapses):
    """Sorted ``(n_rows, K)`` draws; row r never draws ``partner[r]`` when that is >= 0."""
    if partner is None:
        return _sample_distinct_rows(rng, n_rows, K, n_choices, None, multapses)
    rows = np.empty((n_rows, K), dtype=_INDEX_DTYPE)
    has_partner = partner >= 0
    with_self = np.flatnonzero(has_partner)
    rows[with_self] = _sample_distinct_rows(
        rng, with_self.size, K, n_choices, partner[with_self], multapses
    )
    without_self = np.flatnonzero(~has_partner)
    if without_self.size:
        rows[without_self] = _sample_distinct_rows(
            rng, without_self.size, K, n_choices, None, multapses
        )
    return rows


# --------------------------------------------------------------------------- generators


def fixed_in_degree(
    N_pre, N_post, K, *, seed, autapses=False, multapses=False, self_offset=None, weights=None
):
    """Connect every postsynaptic neuron to exactly `K` presynaptic neurons.

    Parameters
    ----------
    N_pre, N_post : int
        Population sizes.
    K : int
        In-degree of every postsynaptic neuron.
    seed : int or numpy.random.Generator
        Random seed; the same seed gives the same graph.
    autapses : bool
        Allow a neuron to connect to itself. Self-connections are defined by
        `self_offset` (default: pre ``i`` is post ``i`` when ``N_pre == N_post``).
    multapses : bool
        Allow several synapses between one pair.
    self_offset : int, optional
        Presynaptic neuron ``i`` is postsynaptic neuron ``i + self_offset`` (for
        blocks of a larger network); None means 0 if ``N_pre == N_post``, else the
        populations are disjoint.
    weights : float or array, optional
        Weight of every synapse.

    Returns
    -------
    Connectivity

    Raises
    ------
    ValueError
        Non-positive sizes, negative `K`, or `K` larger than the number of distinct
        presynaptic candidates without multapses.
    """
    N_pre = _check_count("N_pre", N_pre)
    N_post = _check_count("N_post", N_post)
    offset = _check_self_exclusion(N_pre, N_post, autapses, self_offset)
    partner = None if offset is None else _self_partners(N_post, offset, N_pre, True)
    K = _check_degree(K, N_pre - (partner is not None), multapses, "presynaptic neurons")
    rng = seeded_rng(seed)
    pre_of_post = _sample_rows(rng, N_post, K, N_pre, partner, multapses)
    indptr, indices = _transpose_rows(pre_of_post, N_pre)
    description = f"fixed in-degree K={K}, seed={_seed_repr(seed)}"
    graph = Connectivity(indptr, indices, N_post, description=description)
    return graph if weights is None else graph.with_weights(weights)


def fixed_out_degree(
    N_pre, N_post, K, *, seed, autapses=False, multapses=False, self_offset=None, weights=None
):
    """Connect every presynaptic neuron to exactly `K` postsynaptic neurons.

    Parameters are those of `fixed_in_degree`, with `K` the out-degree.

    Returns
    -------
    Connectivity
    """
    N_pre = _check_count("N_pre", N_pre)
    N_post = _check_count("N_post", N_post)
    offset = _check_self_exclusion(N_pre, N_post, autapses, self_offset)
    partner = None if offset is None else _self_partners(N_pre, offset, N_post, False)
    K = _check_degree(K, N_post - (partner is not None), multapses, "postsynaptic neurons")
    rng = seeded_rng(seed)
    post_of_pre = _sample_rows(rng, N_pre, K, N_post, partner, multapses)
    indptr = K * np.arange(N_pre + 1, dtype=np.int64)  # (np.arange with step K fails at K=0)
    description = f"fixed out-degree K={K}, seed={_seed_repr(seed)}"
    graph = Connectivity(indptr, post_of_pre.ravel(), N_post, description=description)
    return graph if weights is None else graph.with_weights(weights)


def erdos_renyi(N_pre, N_post, p, *, seed, autapses=False, weights=None):
    """Connect each ordered pair independently with probability `p` (no multapses).

    Parameters
    ----------
    N_pre, N_post : int
        Population sizes.
    p : float
        Connection probability in ``[0, 1]``.
    seed : int or numpy.random.Generator
        Random seed.
    autapses : bool
        Allow self-connections (only meaningful when ``N_pre == N_post``).
    weights : float or array, optional
        Weight of every synapse.

    Returns
    -------
    Connectivity
    """
    N_pre = _check_count("N_pre", N_pre)
    N_post = _check_count("N_post", N_post)
    is_number = not isinstance(p, bool) and isinstance(p, numbers.Real)
    if not is_number or not (0.0 <= float(p) <= 1.0):
        raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
    rng = seeded_rng(seed)
    exclude_self = (not autapses) and N_pre == N_post
    n_choices = N_post - exclude_self
    counts = rng.binomial(n_choices, float(p), size=N_pre)
    indices = np.empty(int(counts.sum()), dtype=_INDEX_DTYPE)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    # Rows of equal count share one vectorised draw.
    for count in np.unique(counts):
        if count == 0:
            continue
        rows = np.flatnonzero(counts == count)
        partner = rows.astype(_INDEX_DTYPE) if exclude_self else None
        drawn = _sample_rows(rng, rows.size, int(count), N_post, partner, False)
        positions = indptr[rows][:, None] + np.arange(count)
        indices[positions.ravel()] = drawn.ravel()
    description = f"Erdos-Renyi p={p}, seed={_seed_repr(seed)}"
    graph = Connectivity(indptr, indices, N_post, description=description)
    return graph if weights is None else graph.with_weights(weights)


def balanced_ei(
    N_excitatory,
    N_inhibitory,
    K,
    *,
    J0,
    g,
    seed,
    autapses=False,
    multapses=False,
    J0_unit=None,
):
    """Fixed in-degree E/I network with balanced ``1/sqrt(K)`` weight scaling.

    Neurons ``0 .. N_excitatory - 1`` are excitatory, the rest inhibitory. Every
    neuron receives ``K_E = round(K * N_E / N)`` excitatory and ``K_I = K - K_E``
    inhibitory inputs, with weights

    .. math:: J_E = J_0 / \\sqrt{K}, \\qquad J_I = -g J_0 / \\sqrt{K}.

    With this scaling the mean input is O(sqrt K) and its fluctuations O(1), the
    balanced state of van Vreeswijk & Sompolinsky (1996, Science 274:1724).

    Parameters
    ----------
    N_excitatory, N_inhibitory : int
        Population sizes (``N_excitatory`` may be 0 for a purely inhibitory network).
    K : int
        Total in-degree.
    J0 : float
        Coupling strength before scaling (plain number, in the model's coupling unit).
    g : float
        Relative strength of inhibition (>= 0).
    seed : int
        Random seed.
    autapses, multapses : bool
        As in `fixed_in_degree`.
    J0_unit : brian2 unit, optional
        The unit `J0` is expressed in (e.g. ``mV``), shown with J0 in the repr; None:
        a plain number.

    Returns
    -------
    Connectivity
        Over ``N = N_excitatory + N_inhibitory`` neurons, with signed weights.
    """
    N_excitatory = _check_count("N_excitatory", N_excitatory, allow_zero=True)
    N_inhibitory = _check_count("N_inhibitory", N_inhibitory)
    N = N_excitatory + N_inhibitory
    K = _check_degree(K, N - (not autapses), multapses, "presynaptic neurons")
    if K == 0:
        raise ValueError("K must be > 0 for a balanced network")
    J0_value = _check_real(J0, "J0")
    g_value = _check_real(g, "g", nonnegative=True)
    K_E = int(round(K * N_excitatory / N))
    K_I = K - K_E
    # every neuron draws K_E of its inputs from the E and K_I from the I population
    for K_block, N_block, population in (
        (K_E, N_excitatory, "N_excitatory"),
        (K_I, N_inhibitory, "N_inhibitory"),
    ):
        n_choices = N_block - (not autapses)
        if K_block > 0 and (n_choices < 1 or (K_block > n_choices and not multapses)):
            raise ValueError(
                f"K={K} asks for {K_block} inputs from the {population}={N_block} neurons of "
                f"that population, but only {max(n_choices, 0)} are available to each neuron "
                f"(K_E = round(K N_E / N) = {K_E}, K_I = {K_I}); use a smaller K, a larger "
                "population, or autapses/multapses"
            )
    rng = seeded_rng(seed)
    blocks = []
    scale = J0_value / math.sqrt(K)
    for N_block, K_block, offset, weight in (
        (N_excitatory, K_E, 0, scale),
        (N_inhibitory, K_I, N_excitatory, -g_value * scale),
    ):
        if N_block == 0:
            continue
        blocks.append(
            fixed_in_degree(
                N_block,
                N,
                K_block,
                seed=rng,
                autapses=autapses,
                multapses=multapses,
                self_offset=offset,
                weights=weight,
            )
        )
    indptr, indices, weights = _stack_presynaptic_blocks(blocks)
    description = (
        f"balanced E/I N_E={N_excitatory}, N_I={N_inhibitory}, K={K} (K_E={K_E}, K_I={K_I}), "
        f"J0={J0 if J0_unit is None else J0 * J0_unit}, g={g}, seed={_seed_repr(seed)}"
    )
    return Connectivity(indptr, indices, N, weights, description)


def _stack_presynaptic_blocks(blocks):
    """CSR arrays of the graph whose presynaptic rows are those of `blocks`, in order."""
    indptr = blocks[0].indptr
    indices, weights = blocks[0].indices, blocks[0].weights
    for block in blocks[1:]:
        indptr = np.concatenate([indptr, indptr[-1] + block.indptr[1:]])
        indices = np.concatenate([indices, block.indices])
        weights = np.concatenate([weights, block.weights])
    return indptr, indices, weights


def _seed_repr(seed):
    return seed if isinstance(seed, int | np.integer | None) else "generator"
