"""Property-based tests (hypothesis) of the spike-train measures of `neurosrnn.analysis`.

Arbitrary *valid* spike data are drawn: 1-6 neurons, 0-40 spikes, windows from 1 ms to
3 hours starting anywhere in ``[0, 1000]`` s, times continuous or on a 0.1 ms grid,
coincident spikes (across and within neurons), single spikes and silent neurons. Every
measure must then accept the data in each input form (``(i, t)`` pair, Brian2
quantities, per-neuron lists, `SpikeTrains`), give bit-identical results whatever the
order of the spikes, satisfy its invariants (ranges, symmetry, metric axioms) and agree
with a tiny brute-force implementation written here from the documented definition.

The profile is deterministic (``derandomize=True``, no deadline), so a failure
reproduces on every machine and under any load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from brian2 import second
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from neurosrnn import analysis
from neurosrnn.analysis import SpikeTrains, as_spike_trains

PROFILE = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
FEW = settings(PROFILE, max_examples=25)
TOLERANCE = 1e-8  # the binning edge tolerance documented in `analysis._spikes`
DURATIONS = (1e-3, 0.05, 1.0, 7.3, 10_000.0)  # window lengths (s): 1 ms to about 3 hours


# ---------------------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------------------
@dataclass
class Case:
    """Valid spikes: indices in [0, N), times in [t_start, t_stop), in any order."""

    i: np.ndarray
    t: np.ndarray
    N: int
    t_start: float
    t_stop: float

    @property
    def duration(self):
        return self.t_stop - self.t_start

    def trains(self):
        return [np.sort(self.t[self.i == k]) for k in range(self.N)]

    def window(self):
        return {"t_start": self.t_start, "t_stop": self.t_stop}


@st.composite
def spike_cases(draw, max_neurons=6, max_spikes=40, min_spikes=0, durations=DURATIONS):
    N = draw(st.integers(1, max_neurons))
    t_start = draw(st.sampled_from([0.0, 0.25, 3.0, 1000.0]))
    duration = draw(st.sampled_from(durations))
    t_stop = t_start + duration
    n = draw(st.integers(min_spikes, max_spikes))
    if draw(st.booleans()):
        # continuous times, with a pool that makes coincident spikes likely
        time = st.floats(t_start, t_stop, exclude_max=True, allow_nan=False)
        pool = draw(st.lists(time, min_size=1, max_size=6))
        times = draw(st.lists(st.one_of(time, st.sampled_from(pool)), min_size=n, max_size=n))
    else:
        # a 0.1 ms grid, as from a Brian2 SpikeMonitor
        steps = max(int(duration / 1e-4) - 1, 0)
        grid = draw(st.lists(st.integers(0, steps), min_size=n, max_size=n))
        times = [t_start + 1e-4 * step for step in grid]
    times = np.asarray(times, dtype=np.float64)
    times = times[(times >= t_start) & (times < t_stop)]
    indices = draw(st.lists(st.integers(0, N - 1), min_size=times.size, max_size=times.size))
    return Case(np.asarray(indices, dtype=np.int64), times, N, t_start, t_stop)


def bin_sizes(case_draw, case, max_bins=60):
    """A bin width that fits at least once in the window (up to ``max_bins`` bins)."""
    return case.duration / case_draw(st.floats(1.0, float(max_bins)))


def forms(case):
    """The same spikes in every accepted input form, as (spikes, keyword arguments)."""
    window = case.window()
    yield (case.i, case.t), {"N": case.N, **window}
    yield (
        (case.i, case.t * second),
        {
            "N": case.N,
            "t_start": case.t_start * second,
            "t_stop": case.t_stop * second,
        },
    )
    yield case.trains(), window
    yield as_spike_trains((case.i, case.t), N=case.N, **window), {}


def shuffled(case, seed):
    order = np.random.default_rng(seed).permutation(case.t.size)
    return Case(case.i[order], case.t[order], case.N, case.t_start, case.t_stop)


def assert_same(first, second_):
    """Bit-identical results (arrays, tuples, dataclasses, floats), NaN equal to NaN."""
    if isinstance(first, analysis.Bursts):
        for field in ("neuron", "start", "stop", "n_spikes"):
            assert_array_equal(getattr(first, field), getattr(second_, field))
        return
    if isinstance(first, tuple | list):
        assert len(first) == len(second_)
        for a, b in zip(first, second_, strict=True):
            assert_same(a, b)
        return
    assert_array_equal(np.asarray(first), np.asarray(second_))


# ---------------------------------------------------------------------------------------
# brute-force references (loops over spikes, straight from the documented definitions)
# ---------------------------------------------------------------------------------------
def brute_counts(case, bin_size):
    duration = case.t_stop - case.t_start
    n_bins = math.floor(duration / bin_size + TOLERANCE)
    counts = np.zeros((case.N, n_bins), dtype=np.int64)
    for neuron, time in zip(case.i, case.t, strict=True):
        k = math.floor((time - case.t_start) / bin_size + TOLERANCE)
        if k < n_bins:
            counts[neuron, k] += 1
    return counts


def brute_isi_measure(train, name, R=0.0):
    isi = np.diff(train)
    if isi.size < 2:
        return np.nan
    if name == "cv":
        mean = isi.mean()
        return np.nan if mean == 0 else isi.std() / mean
    previous, following = isi[:-1], isi[1:]
    both = previous + following
    if np.any(both == 0):
        return np.nan  # 0/0 for two zero ISIs in a row (duplicate spike times)
    if name == "cv2":
        terms = 2 * np.abs(following - previous) / both
    elif name == "lv":
        terms = 3 * ((previous - following) / both) ** 2
    else:
        terms = 3 * (1 - 4 * (previous / both) * (following / both)) * (1 + 4 * R / both)
    return terms.mean()


def brute_sttc(a, b, dt, t_start, t_stop):
    if a.size == 0 or b.size == 0:
        return np.nan

    def tiled(x):
        covered, end = 0.0, -np.inf
        for low, high in sorted((max(t_start, s - dt), min(t_stop, s + dt)) for s in x):
            low = max(low, end)
            if high > low:
                covered += high - low
                end = high
        return covered / (t_stop - t_start)

    def near(x, y):
        return np.mean([np.any((y >= s - dt) & (y <= s + dt)) for s in x])

    def term(P, T):
        return 1.0 if P * T == 1 else (P - T) / (1 - P * T)

    return 0.5 * (term(near(a, b), tiled(b)) + term(near(b, a), tiled(a)))


def brute_van_rossum_squared(a, b, tau):
    def kernel_sum(x, y):
        return float(np.exp(-np.abs(x[:, None] - y[None, :]) / tau).sum())

    return kernel_sum(a, a) + kernel_sum(b, b) - 2 * kernel_sum(a, b)


def brute_victor_purpura(a, b, q):
    table = np.zeros((a.size + 1, b.size + 1))
    table[:, 0] = np.arange(a.size + 1)
    table[0, :] = np.arange(b.size + 1)
    for k in range(1, a.size + 1):
        for m in range(1, b.size + 1):
            gap = abs(a[k - 1] - b[m - 1])
            shift = 0.0 if gap == 0 else q * gap  # q = inf: only exact coincidences match
            table[k, m] = min(table[k - 1, m] + 1, table[k, m - 1] + 1, table[k - 1, m - 1] + shift)
    return table[a.size, b.size]


def brute_bursts(train, max_isi, min_spikes):
    bursts, run = [], [0]
    for k in range(1, train.size + 1):
        if k < train.size and train[k] - train[k - 1] <= max_isi:
            run.append(k)
            continue
        if len(run) >= min_spikes:
            bursts.append((train[run[0]], train[run[-1]], len(run)))
        run = [k]
    return bursts


# ---------------------------------------------------------------------------------------
# every measure: one call with parameters drawn for the case
# ---------------------------------------------------------------------------------------
def _measures(draw, case):
    """(name, callable(spikes, **window)) for every spike measure, parameters drawn once."""
    bin_size = bin_sizes(draw, case)
    n_bins = math.floor(case.duration / bin_size + TOLERANCE)
    scale = case.duration * draw(st.floats(1e-4, 2.0))
    q = draw(st.sampled_from([0.0, 1.0 / case.duration, 30.0 / case.duration, math.inf]))
    measures = [
        ("firing_rates", analysis.firing_rates),
        ("interspike_intervals", analysis.interspike_intervals),
        ("cv", analysis.cv),
        ("cv2", analysis.cv2),
        ("lv", analysis.lv),
        ("lvr", lambda s, **w: analysis.lvr(s, R=scale, **w)),
        ("bin_spike_counts", lambda s, **w: analysis.bin_spike_counts(s, bin_size, **w)),
        ("fano_factor", lambda s, **w: analysis.fano_factor(s, bin_size, **w)),
        ("time_histogram", lambda s, **w: analysis.time_histogram(s, bin_size, **w)),
        (
            "kernel_rate",
            lambda s, **w: analysis.kernel_rate(s, bin_size * 2.5, bin_size, per_neuron=True, **w),
        ),
        ("detect_bursts", lambda s, **w: analysis.detect_bursts(s, scale, **w)),
        (
            "spike_count_correlation",
            lambda s, **w: analysis.spike_count_correlation(s, bin_size, **w),
        ),
        ("sttc_matrix", lambda s, **w: analysis.sttc_matrix(s, scale, **w)),
        ("van_rossum", lambda s, **w: analysis.van_rossum_distances(s, scale, **w)),
        ("victor_purpura", lambda s, **w: analysis.victor_purpura_distances(s, q, **w)),
        ("chi", lambda s, **w: analysis.spike_synchrony_chi(s, scale, dt=bin_size, **w)),
    ]
    if n_bins >= 2:
        K = draw(st.integers(1, n_bins - 1))
        measures.append(
            (
                "cross_correlograms",
                lambda s, **w: analysis.cross_correlograms(s, bin_size, K * bin_size, **w),
            )
        )
    if n_bins >= 3:
        K = draw(st.integers(2, n_bins - 1))
        measures.append(
            (
                "wieland_timescale",
                lambda s, **w: analysis.wieland_timescale(s, bin_size, K * bin_size, **w),
            )
        )
    if case.t.size >= 2:
        measures.append(("optimal_kernel_bandwidth", analysis.optimal_kernel_bandwidth))
    return measures


@PROFILE
@given(data=st.data())
def test_every_measure_same_result_in_every_input_form_and_spike_order(data):
    case = data.draw(spike_cases())
    measures = _measures(data.draw, case)
    (pair, window), *others = list(forms(case))
    permuted = shuffled(case, data.draw(st.integers(0, 2**32 - 1)))
    for name, measure in measures:
        note(f"measure: {name}")  # printed with a failing example
        with np.errstate(all="ignore"):
            expected = measure(pair, **window)
            for spikes, keywords in others:
                assert_same(expected, measure(spikes, **keywords))
            assert_same(expected, measure((permuted.i, permuted.t), **window))


# ---------------------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------------------
@PROFILE
@given(case=spike_cases())
def test_rates_and_intervals_match_brute_force(case):
    rates = analysis.firing_rates((case.i, case.t), N=case.N, **case.window())
    counts = np.bincount(case.i, minlength=case.N)
    assert_allclose(rates, counts / case.duration, rtol=1e-12)
    assert np.all(rates >= 0)
    isi = analysis.interspike_intervals((case.i, case.t), N=case.N, **case.window())
    assert len(isi) == case.N
    for k, train in enumerate(case.trains()):
        assert_array_equal(isi[k], np.diff(train))
        assert np.all(isi[k] >= 0)


@PROFILE
@given(case=spike_cases(), R=st.sampled_from([0.0, 1e-4, 5e-3, 0.2]))
def test_isi_variability_in_range_and_matches_brute_force(case, R):
    spikes, window = (case.i, case.t), {"N": case.N, **case.window()}
    results = {
        "cv": analysis.cv(spikes, **window),
        "cv2": analysis.cv2(spikes, **window),
        "lv": analysis.lv(spikes, **window),
        "lvr": analysis.lvr(spikes, R=R, **window),
    }
    for name, values in results.items():
        assert values.shape == (case.N,)
        finite = values[~np.isnan(values)]
        assert np.all(finite >= 0), name
        expected = [brute_isi_measure(train, name, R) for train in case.trains()]
        assert_allclose(values, expected, rtol=1e-6, atol=1e-9, err_msg=name)
    # bounds: CV2 <= 2, LV <= 3 (each term is)
    assert np.all(results["cv2"][~np.isnan(results["cv2"])] <= 2 + 1e-12)
    assert np.all(results["lv"][~np.isnan(results["lv"])] <= 3 + 1e-12)


def test_duplicate_spike_times_give_nan_not_zero_division():
    """Regression: two zero ISIs in a row (0/0) crashed cv2, lv and lvr in numba."""
    trains = [[0.1, 0.1, 0.1, 0.2], [0.1, 0.2, 0.2, 0.2, 0.4], [0.3]]
    for measure in (analysis.cv2, analysis.lv, analysis.lvr):
        values = measure(trains, t_stop=1.0)
        assert np.isnan(values[0]) and np.isnan(values[1]) and np.isnan(values[2])
    # ISIs so short that (I_k + I_k+1)^2 underflows: LvR stayed 0/0 (found by hypothesis)
    tiny = [[0.0, 0.0, 6.9e-243]]
    assert_allclose(analysis.lvr(tiny, R=0.0, t_stop=1.0), analysis.lv(tiny, t_stop=1.0))
    assert np.isfinite(analysis.lvr(tiny, R=0.001, t_stop=1.0)[0])
    # one zero ISI next to a non-zero one is fine: |0 - I| / (0 + I) = 1
    assert_allclose(analysis.cv2([[0.1, 0.1, 0.3]], t_stop=1.0), [2.0])
    assert_allclose(analysis.lv([[0.1, 0.1, 0.3]], t_stop=1.0), [3.0])


@PROFILE
@given(data=st.data())
def test_binned_counts_histograms_and_fano_match_brute_force(data):
    case = data.draw(spike_cases())
    bin_size = bin_sizes(data.draw, case)
    spikes, window = (case.i, case.t), {"N": case.N, **case.window()}
    counts, edges = analysis.bin_spike_counts(spikes, bin_size, **window)
    expected = brute_counts(case, bin_size)
    assert_array_equal(counts, expected)
    assert counts.sum() <= case.t.size
    assert_allclose(edges, case.t_start + bin_size * np.arange(expected.shape[1] + 1))
    hist_edges, hist = analysis.time_histogram(spikes, bin_size, output="counts", **window)
    assert_array_equal(hist, expected.sum(axis=0))
    assert_array_equal(hist_edges, edges)
    _, rate = analysis.time_histogram(spikes, bin_size, **window)
    assert_allclose(rate, expected.sum(axis=0) / (case.N * bin_size), rtol=1e-12)
    fano = analysis.fano_factor(spikes, bin_size, **window)
    with np.errstate(all="ignore"):
        reference = expected.var(axis=1) / expected.mean(axis=1)
    reference[expected.mean(axis=1) == 0] = np.nan
    if expected.shape[1] < 2:
        reference[:] = np.nan
    assert_allclose(fano, reference, rtol=1e-10, atol=1e-12)
    assert np.all(fano[~np.isnan(fano)] >= 0)


def rescaled(case, N):
    """The spikes of neurons ``< N`` mapped linearly onto the window [0, 1) s."""
    keep = case.i < N
    times = (case.t[keep] - case.t_start) / case.duration
    inside = times < 1.0  # rounding may reach 1.0
    return Case(case.i[keep][inside], times[inside], N, 0.0, 1.0)


@FEW
@given(data=st.data())
def test_trial_measures_match_single_trial_measures(data):
    N = data.draw(st.integers(1, 4))
    n_trials = data.draw(st.integers(2, 4))
    trials = [rescaled(data.draw(spike_cases(max_neurons=4)), N) for _ in range(n_trials)]
    first = trials[0]
    inputs = [(c.i, c.t) for c in trials]
    window = {"N": first.N, "t_stop": 1.0}
    bin_size = 1.0 / data.draw(st.integers(1, 20))
    counts = np.array([np.bincount(c.i, minlength=first.N) for c in trials])
    fano = analysis.fano_factor_across_trials(inputs, **window)
    with np.errstate(all="ignore"):
        reference = counts.var(axis=0) / counts.mean(axis=0)
    reference[counts.mean(axis=0) == 0] = np.nan
    assert_allclose(fano, reference, rtol=1e-12)
    times, rate = analysis.psth(inputs, bin_size, **window)
    summed = sum(brute_counts(c, bin_size).sum(axis=0) for c in trials)
    assert_allclose(rate, summed / (n_trials * first.N * bin_size), rtol=1e-12)
    assert np.all(rate >= 0)
    if first.N >= 2 and len(times) >= 2:
        lags, predictor, _ = analysis.shift_predictor(inputs, bin_size, bin_size, **window)
        assert predictor.shape == (first.N * (first.N - 1) // 2, 3)
        assert np.all(predictor >= 0)


@PROFILE
@given(data=st.data())
def test_kernel_rate_is_non_negative_and_population_is_neuron_mean(data):
    case = data.draw(spike_cases())
    sampling = bin_sizes(data.draw, case, max_bins=200)
    sigma = sampling * data.draw(st.floats(0.2, 10.0))
    spikes, window = (case.i, case.t), {"N": case.N, **case.window()}
    times, per_neuron = analysis.kernel_rate(spikes, sigma, sampling, per_neuron=True, **window)
    _, population = analysis.kernel_rate(spikes, sigma, sampling, **window)
    assert per_neuron.shape == (case.N, times.size)
    assert np.all(per_neuron >= -1e-9 * max(1.0, per_neuron.max(initial=0)))
    assert_allclose(population, per_neuron.mean(axis=0), rtol=1e-9, atol=1e-9 / sigma)
    if case.t.size >= 2:
        best, widths, cost = analysis.optimal_kernel_bandwidth(spikes, **window)
        assert best in widths and cost[np.argmin(cost)] == cost.min()


def test_population_kernel_rate_keeps_the_bin_count_when_the_kernel_is_longer():
    """Regression: np.convolve(mode="same") returned the kernel's length (11 values, 1 bin)."""
    times, rate = analysis.kernel_rate([[0.0004]], 0.002, 0.001, t_stop=0.001)
    _, per_neuron = analysis.kernel_rate([[0.0004]], 0.002, 0.001, per_neuron=True, t_stop=0.001)
    assert times.shape == rate.shape == (1,)
    assert_allclose(rate, per_neuron[0])
    # the normal case is unchanged: the kernel centred on the spike's bin
    _, long_rate = analysis.kernel_rate([[0.5]], 0.05, 0.01, t_stop=1.0)
    assert long_rate.size == 100 and np.argmax(long_rate) == 50


# ---------------------------------------------------------------------------------------
# bursts
# ---------------------------------------------------------------------------------------
@PROFILE
@given(case=spike_cases(), data=st.data())
def test_bursts_match_brute_force_and_never_exceed_spike_counts(case, data):
    max_isi = case.duration * data.draw(st.floats(1e-4, 0.5))
    min_spikes = data.draw(st.integers(2, 5))
    bursts = analysis.detect_bursts(
        (case.i, case.t), max_isi, min_spikes=min_spikes, N=case.N, **case.window()
    )
    counts = np.bincount(case.i, minlength=case.N)
    in_bursts = np.bincount(bursts.neuron, weights=bursts.n_spikes, minlength=case.N)
    assert np.all(in_bursts <= counts)
    assert np.all(np.bincount(bursts.neuron, minlength=case.N) * min_spikes <= counts)
    assert np.all(bursts.n_spikes >= min_spikes)
    assert np.all(bursts.start <= bursts.stop)
    fraction = bursts.fraction_in_bursts(counts)
    assert np.all((fraction[counts > 0] >= 0) & (fraction[counts > 0] <= 1))
    assert np.all(bursts.burst_rate >= 0)
    expected = [
        (k, *burst)
        for k, train in enumerate(case.trains())
        for burst in brute_bursts(train, max_isi, min_spikes)
    ]
    found = list(zip(bursts.neuron, bursts.start, bursts.stop, bursts.n_spikes, strict=True))
    assert found == expected


# ---------------------------------------------------------------------------------------
# correlation
# ---------------------------------------------------------------------------------------
@PROFILE
@given(case=spike_cases(), data=st.data())
def test_spike_count_correlation_matches_corrcoef(case, data):
    bin_size = bin_sizes(data.draw, case)
    r = analysis.spike_count_correlation((case.i, case.t), bin_size, N=case.N, **case.window())
    counts = brute_counts(case, bin_size).astype(float)
    constant = counts.std(axis=1) == 0
    assert r.shape == (case.N, case.N)
    assert_array_equal(r, r.T)
    assert np.all(np.isnan(r[constant, :])) and np.all(np.isnan(r[:, constant]))
    ok = ~constant
    values = r[np.ix_(ok, ok)]
    assert np.all((values >= -1) & (values <= 1))
    if ok.sum():
        assert_allclose(np.diag(values), 1.0, rtol=1e-9)
        expected = np.corrcoef(counts[ok]) if ok.sum() > 1 else np.ones((1, 1))
        assert_allclose(values, expected, atol=1e-8)


@PROFILE
@given(case=spike_cases(), data=st.data())
def test_cross_correlograms_count_every_spike_pair_within_the_lag(case, data):
    bin_size = bin_sizes(data.draw, case, max_bins=30)
    counts = brute_counts(case, bin_size)
    n_bins = counts.shape[1]
    assume(n_bins >= 2)
    K = data.draw(st.integers(1, n_bins - 1))
    lags, ccg, pairs = analysis.cross_correlograms(
        (case.i, case.t), bin_size, K * bin_size, N=case.N, **case.window()
    )
    assert lags.shape == (2 * K + 1,) and ccg.shape == (case.N * (case.N - 1) // 2, 2 * K + 1)
    for p, (a, b) in enumerate(pairs):
        expected = np.zeros(2 * K + 1, dtype=np.int64)
        for lag in range(-K, K + 1):
            shifted = counts[b, max(lag, 0) : n_bins + min(lag, 0)]
            reference = counts[a, max(-lag, 0) : n_bins + min(-lag, 0)]
            expected[lag + K] = int(np.dot(reference, shifted))
        assert_array_equal(ccg[p], expected)
        assert ccg[p].sum() <= counts[a].sum() * counts[b].sum()
        # swapping the pair mirrors the correlogram
        _, swapped, _ = analysis.cross_correlograms(
            (case.i, case.t), bin_size, K * bin_size, pairs=[(b, a)], N=case.N, **case.window()
        )
        assert_array_equal(swapped[0], ccg[p][::-1])


@PROFILE
@given(case=spike_cases(), data=st.data())
def test_sttc_in_range_symmetric_and_matches_brute_force(case, data):
    dt = case.duration * data.draw(st.floats(1e-5, 0.6))
    matrix = analysis.sttc_matrix((case.i, case.t), dt, N=case.N, **case.window())
    trains = case.trains()
    assert_array_equal(matrix, matrix.T)
    finite = matrix[~np.isnan(matrix)]
    assert np.all((finite >= -1) & (finite <= 1))
    for a in range(case.N):
        for b in range(case.N):
            if a == b:
                assert matrix[a, a] == 1 or (trains[a].size == 0 and np.isnan(matrix[a, a]))
                continue
            expected = brute_sttc(trains[a], trains[b], dt, case.t_start, case.t_stop)
            assert_allclose(matrix[a, b], expected, atol=1e-9)
    if case.N >= 2:
        one = analysis.spike_time_tiling_coefficient(trains[0], trains[1], dt, **case.window())
        other = analysis.spike_time_tiling_coefficient(trains[1], trains[0], dt, **case.window())
        assert_array_equal(one, other)
        assert_array_equal(one, matrix[0, 1])


# ---------------------------------------------------------------------------------------
# dissimilarity
# ---------------------------------------------------------------------------------------
def _assert_metric(distances, tolerance):
    """Non-negative, zero diagonal, symmetric, triangle inequality (up to ``tolerance``)."""
    assert np.all(distances >= 0)
    assert_array_equal(np.diag(distances), 0.0)
    assert_array_equal(distances, distances.T)
    through = distances[:, :, None] + distances[None, :, :]  # d(a, b) + d(b, c)
    assert np.all(distances[:, None, :] <= through + tolerance)


@PROFILE
@given(case=spike_cases(), data=st.data())
def test_van_rossum_is_a_metric_and_matches_closed_form(case, data):
    tau = case.duration * data.draw(st.floats(1e-4, 3.0))
    trains = case.trains()
    doubled = trains + [trains[0]]  # an identical copy of train 0
    distances = analysis.van_rossum_distances(doubled, tau, **case.window())
    n_max = max((train.size for train in trains), default=0)
    _assert_metric(distances, 1e-6 * (n_max + 1))
    assert distances[0, -1] <= 1e-6 * (n_max + 1)
    for a in range(case.N):
        for b in range(a + 1, case.N):
            expected = brute_van_rossum_squared(trains[a], trains[b], tau)
            scale = (trains[a].size + trains[b].size) ** 2 + 1
            assert_allclose(distances[a, b] ** 2, max(expected, 0.0), atol=1e-9 * scale)
            # D^2 <= sum_kl e^(..) over a and b alone <= n_a^2 + n_b^2
            assert distances[a, b] ** 2 <= trains[a].size ** 2 + trains[b].size ** 2 + 1e-9
    paper = analysis.van_rossum_distances(doubled, tau, normalization="paper", **case.window())
    assert_allclose(paper, distances / math.sqrt(2), rtol=1e-12, atol=1e-15)


@PROFILE
@given(case=spike_cases(max_spikes=30), data=st.data())
def test_victor_purpura_is_a_metric_and_matches_dynamic_programme(case, data):
    q = data.draw(
        st.sampled_from([0.0, 0.5, 3.0, 40.0, 1e4]).map(lambda f: f / case.duration)
        | st.just(math.inf)
    )
    trains = case.trains()
    doubled = trains + [trains[0]]
    distances = analysis.victor_purpura_distances(doubled, q, **case.window())
    _assert_metric(distances, 1e-9)
    assert distances[0, -1] == 0
    for a in range(case.N):
        for b in range(a + 1, case.N):
            na, nb = trains[a].size, trains[b].size
            expected = brute_victor_purpura(trains[a], trains[b], q)
            assert_allclose(distances[a, b], expected, rtol=1e-9, atol=1e-9)
            assert abs(na - nb) - 1e-9 <= distances[a, b] <= na + nb + 1e-9


def test_victor_purpura_infinite_cost_matches_only_exact_coincidences():
    """Regression: q = inf was replaced by 1e300, so spikes 5e-324 s apart matched for ~0."""
    trains = [[0.0, 0.0, 0.5], [5e-324, 0.5, 0.5]]
    assert_array_equal(
        analysis.victor_purpura_distances(trains, math.inf, t_stop=1.0), [[0, 4], [4, 0]]
    )
    # shifted window: only time differences matter
    shifted = [[2.0, 2.25], [2.0, 2.5]]
    assert_array_equal(
        analysis.victor_purpura_distances(shifted, math.inf, t_start=2.0, t_stop=3.0),
        [[0, 2], [2, 0]],
    )


# ---------------------------------------------------------------------------------------
# synchrony
# ---------------------------------------------------------------------------------------
def brute_chi(case, tau, dt):
    counts = brute_counts(case, dt).astype(float)
    active = np.bincount(case.i, minlength=case.N) > 0
    if not active.any():
        return np.nan
    decay = math.exp(-dt / tau)
    traces = np.zeros_like(counts)
    for b in range(counts.shape[1]):
        traces[:, b] = counts[:, b] + (decay * traces[:, b - 1] if b else 0.0)
    traces = traces[active]
    single = traces.var(axis=1).mean()
    return np.nan if single == 0 else math.sqrt(traces.mean(axis=0).var() / single)


@PROFILE
@given(case=spike_cases(), data=st.data())
def test_spike_synchrony_chi_in_unit_interval_and_matches_brute_force(case, data):
    dt = bin_sizes(data.draw, case, max_bins=300)
    tau = dt * data.draw(st.floats(0.1, 50.0))
    chi = analysis.spike_synchrony_chi((case.i, case.t), tau, dt=dt, N=case.N, **case.window())
    assert np.isnan(chi) or 0 <= chi <= 1 + 1e-9
    assert_allclose(chi, brute_chi(case, tau, dt), rtol=1e-7, atol=1e-9)
    # identical trains are perfectly synchronous
    train = case.trains()[0]
    copies = analysis.spike_synchrony_chi([train] * 3, tau, dt=dt, **case.window())
    assert np.isnan(copies) or abs(copies - 1) < 1e-9


@PROFILE
@given(
    traces=st.integers(1, 5).flatmap(
        lambda n: st.lists(
            st.lists(st.floats(-1e3, 1e3), min_size=n, max_size=n), min_size=2, max_size=6
        )
    ),
    ddof=st.sampled_from([0, 1]),
)
def test_golomb_chi_in_unit_interval(traces, ddof):
    traces = np.asarray(traces).T  # (N, n_times >= 2)
    assume(traces.shape[1] > ddof)
    chi = analysis.golomb_chi(traces, ddof=ddof)
    assert np.isnan(chi) or 0 <= chi <= 1 + 1e-9
    if not np.isnan(chi):
        varying = traces[[np.argmax(traces.var(axis=1))]]
        # a constant trace has a rounding-noise variance, not 0: chi is meaningless there
        assume(varying.var() > 1e-9 * (1 + np.mean(varying**2)))
        assert_allclose(analysis.golomb_chi(np.vstack([varying] * 3), ddof=ddof), 1.0)


# ---------------------------------------------------------------------------------------
# timescales
# ---------------------------------------------------------------------------------------
@FEW
@given(case=spike_cases(max_spikes=60), data=st.data())
def test_spike_timescales_never_crash_and_are_positive_or_nan(case, data):
    bin_size = bin_sizes(data.draw, case, max_bins=80)
    n_bins = math.floor(case.duration / bin_size + TOLERANCE)
    spikes, window = (case.i, case.t), {"N": case.N, **case.window()}
    if n_bins >= 3:
        K = data.draw(st.integers(2, n_bins - 1))
        with np.errstate(all="ignore"):
            wieland = analysis.wieland_timescale(spikes, bin_size, K * bin_size, **window)
        assert wieland.shape == (case.N,)
        assert np.all(np.isnan(wieland) | (wieland >= 0))
    method = data.draw(st.sampled_from(["mr", "acf"]))
    lowest, highest = (4, n_bins - 2) if method == "mr" else (1, n_bins - 1 if n_bins >= 3 else 0)
    if lowest <= highest:
        k_max = data.draw(st.integers(lowest, highest))
        with np.errstate(all="ignore"):
            taus = analysis.neuron_timescales(spikes, bin_size, k_max, method=method, **window)
        assert taus.shape == (case.N,)
        assert np.all(np.isnan(taus) | (taus > 0))
    # a k_max outside the documented range fails whatever the spikes (silent or not)
    with pytest.raises(ValueError, match="k_max"):
        analysis.neuron_timescales(spikes, bin_size, highest + 1, method=method, **window)


def test_neuron_timescales_checks_k_max_before_looking_at_the_spikes():
    """Regression: k_max < 4 with method='mr' failed only for neurons with >= 10 spikes."""
    silent = ([], [])
    busy = (np.zeros(20, dtype=int), np.linspace(0, 0.99, 20))
    for spikes in (silent, busy):
        with pytest.raises(ValueError, match="k_max=2 must lie in"):
            analysis.neuron_timescales(spikes, 0.1, 2, N=1, t_stop=1.0)
        with pytest.raises(ValueError, match="k_max=10 must lie in"):
            analysis.neuron_timescales(spikes, 0.1, 10, method="acf", N=1, t_stop=1.0)


def test_corrected_timescale_starts_inside_its_bounds():
    """Regression: a direct-fit start below 1e-3 steps made least_squares raise."""
    row = np.zeros(68)
    row[[0, 4, 6, 7, 28, 30, 32, 58]] = [4, 3, 1, 1, 1, 1, 1, 2]  # found by hypothesis
    tau = analysis.corrected_timescale(row, 1.0, 30, white_noise=True)
    assert np.isnan(tau) or tau > 0


def test_fit_exponential_degenerate_data_give_nan_not_scipy_errors():
    """Regression: NaN MR slopes and very steep data made least_squares raise."""
    lags = np.arange(1.0, 6.0)
    assert all(np.isnan(analysis.fit_exponential([0.5, np.nan, 0.1, 0.0, 0.0], lags)))
    steep = np.exp(-lags / 1e-7)  # log-linear guess far below the 1e-6 * span bound
    tau, _, _ = analysis.fit_exponential(steep, lags, offset=True)
    assert np.isnan(tau) or tau > 0
    # a silent-at-some-lags train in neuron_timescales: NaN instead of an exception
    times = np.r_[np.zeros(19), 0.0002, 0.0005, 0.0006]
    taus = analysis.neuron_timescales((np.zeros(22, int), times), 1e-3 / 24, 20, N=1, t_stop=1e-3)
    assert taus.shape == (1,)


# ---------------------------------------------------------------------------------------
# heterogeneity and the summary
# ---------------------------------------------------------------------------------------
values_lists = st.lists(st.floats(1e-3, 1e3), min_size=2, max_size=20)


@PROFILE
@given(a=values_lists, b=values_lists, c=values_lists, log=st.booleans())
def test_wasserstein_distance_is_a_metric(a, b, c, log):
    d = {
        pair: analysis.wasserstein_distance(*pair_values, log=log)
        for pair, pair_values in {"ab": (a, b), "ba": (b, a), "bc": (b, c), "ac": (a, c)}.items()
    }
    assert d["ab"] >= 0
    assert_allclose(d["ab"], d["ba"], rtol=1e-12, atol=1e-12)
    assert d["ac"] <= d["ab"] + d["bc"] + 1e-9 * (1 + d["ab"] + d["bc"])
    assert analysis.wasserstein_distance(a, list(reversed(a)), log=log) == 0


@PROFILE
@given(values=values_lists)
def test_parameter_summary_is_ordered(values):
    summary = analysis.summarize_parameter(values)
    q = list(summary.quantiles.values())
    assert summary.minimum <= q[0] and q[-1] <= summary.maximum
    assert all(x <= y + 1e-12 * abs(y) for x, y in zip(q, q[1:], strict=False))
    assert summary.sd >= 0 and summary.cv >= 0 and summary.log_sd >= 0
    assert summary.minimum - 1e-9 <= summary.mean <= summary.maximum + 1e-9


@FEW
@given(case=spike_cases(durations=DURATIONS[:-1]))  # 1 ms chi bins: keep the window short
def test_firing_summary_agrees_with_the_single_measures(case):
    spikes, window = (case.i, case.t), {"N": case.N, **case.window()}
    if case.duration < 0.005:  # the default 5 ms population bin does not fit
        with pytest.raises(ValueError, match="bin_size"):
            analysis.firing_summary(spikes, **window)
        return
    summary = analysis.firing_summary(spikes, **window)
    assert_array_equal(summary.rates, analysis.firing_rates(spikes, **window))
    assert_array_equal(summary.cv, analysis.cv(spikes, **window))
    assert_array_equal(summary.lv, analysis.lv(spikes, **window))
    fraction = summary.burst_fraction[~np.isnan(summary.burst_fraction)]
    assert np.all((fraction >= 0) & (fraction <= 1))
    assert np.isnan(summary.chi) or 0 <= summary.chi <= 1 + 1e-9


def test_spike_trains_type_round_trips():
    """The `SpikeTrains` form used above: counts, indices and trains agree."""
    case = Case(np.array([2, 0, 2, 2]), np.array([0.3, 0.1, 0.1, 0.2]), 4, 0.0, 1.0)
    trains = as_spike_trains((case.i, case.t), N=4, t_stop=1.0)
    assert isinstance(trains, SpikeTrains)
    assert_array_equal(trains.counts, [1, 0, 3, 0])
    assert_array_equal(trains.indices, [0, 2, 2, 2])
    assert_array_equal(trains.train(2), [0.1, 0.2, 0.3])
