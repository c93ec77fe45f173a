"""Data sets for SRNN training: bundled or generated, never downloaded.

- `sequential_digits`: scikit-learn's bundled 8x8 handwritten digits (1797 images,
  UCI optdigits test set; Alpaydin & Kaynak 1998) read row by row (T = 8, 8 inputs)
  or pixel by pixel (T = 64, 1 input), optionally with one fixed pixel permutation
  (permuted sequential digits, the small analogue of PS-MNIST; Le, Jaitly & Hinton
  2015, arXiv:1504.00941).
- `digit_images`: the same images as flat vectors in [0, 1], for `neurosrnn.coding`.
- `delayed_recall`: remember one of ``n_symbols`` cues across a silent delay.
- `delayed_xor`: the XOR of two bits, the first one shown ``delay`` steps before
  the second; the network must hold the first bit over the delay.
- `mnist1d`: the MNIST-1D benchmark (Greydanus & Kobak 2024, ICML), generated locally
  by the ``mnist1d`` package's procedural generator (T = 40 steps, one input).
- `latency_digits`: an event-based task, the 8x8 digits as latency-coded spike
  frames (`neurosrnn.coding.encode`): one event per pixel, brighter pixels earlier.

Each function returns a `Dataset` with ``x_train, y_train, x_test, y_test`` (inputs
``(n, T, n_in)`` float, labels ``(n,)`` int) and a description. Splits are seeded
and stratified-free (a seeded permutation).
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field

import numpy as np

from neurosrnn.validation import check_int, check_seed

__all__ = [
    "Dataset",
    "digit_images",
    "sequential_digits",
    "delayed_recall",
    "delayed_xor",
    "mnist1d",
    "latency_digits",
]


@dataclass
class Dataset:
    """Train/test arrays of a sequence classification task.

    Attributes
    ----------
    x_train, x_test : float arrays, shape (n, T, n_in)
    y_train, y_test : int arrays, shape (n,)
    n_classes : int
    description : str
    info : dict
        Generation parameters.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    description: str = ""
    info: dict = field(default_factory=dict)

    def __repr__(self):
        n, T, n_in = self.x_train.shape
        return (
            f"<Dataset {self.description!r}: {n} train / {len(self.x_test)} test, "
            f"T={T}, n_in={n_in}, {self.n_classes} classes>"
        )

    @property
    def n_in(self):
        """Number of input channels."""
        return self.x_train.shape[2]

    @property
    def T(self):
        """Sequence length."""
        return self.x_train.shape[1]


def _check_fraction(test_fraction):
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")


def _split(x, y, test_fraction, rng):
    order = rng.permutation(len(x))
    n_test = max(1, int(round(test_fraction * len(x))))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def digit_images(test_fraction=0.25, seed=0, n_samples=None):
    """The bundled 8x8 digits as flat images in [0, 1].

    Returns
    -------
    (x_train, y_train, x_test, y_test)
        ``x`` of shape ``(n, 64)``, pixel values / 16.
    """
    from sklearn.datasets import load_digits

    _check_fraction(test_fraction)
    digits = load_digits()
    x = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    if n_samples is not None:
        if not 2 <= n_samples <= len(x):
            raise ValueError(f"n_samples must lie in [2, {len(x)}], got {n_samples}")
        keep = rng.permutation(len(x))[:n_samples]
        x, y = x[keep], y[keep]
    return _split(x, y, test_fraction, rng)


def sequential_digits(
    mode="rows", permuted=False, test_fraction=0.25, seed=0, permutation_seed=1234, n_samples=None
):
    """Sequential (or permuted-sequential) 8x8 digits.

    Parameters
    ----------
    mode : {"rows", "pixels"}
        ``"rows"``: one image row per step (T = 8, 8 inputs); ``"pixels"``: one
        pixel per step (T = 64, 1 input).
    permuted : bool
        Apply one fixed permutation (from `permutation_seed`) to the 64 pixels
        before reading them out.
    test_fraction : float
        Fraction of the 1797 images held out.
    seed : int
        Seed of the train/test split (and of the subsample).
    n_samples : int, optional
        Use a random subset of this many images.

    Returns
    -------
    Dataset
    """
    if mode not in ("rows", "pixels"):
        raise ValueError(f"mode must be 'rows' or 'pixels', got {mode!r}")
    x_tr, y_tr, x_te, y_te = digit_images(test_fraction, seed, n_samples)
    perm = None
    if permuted:
        perm = np.random.default_rng(permutation_seed).permutation(64)
        x_tr, x_te = x_tr[:, perm], x_te[:, perm]
    shape = (8, 8) if mode == "rows" else (64, 1)
    name = ("permuted " if permuted else "") + f"sequential digits ({mode})"
    return Dataset(
        x_tr.reshape(-1, *shape),
        y_tr,
        x_te.reshape(-1, *shape),
        y_te,
        10,
        name,
        {
            "mode": mode,
            "permuted": permuted,
            "permutation": None if perm is None else perm.tolist(),
            "seed": seed,
        },
    )


def _check_task(n_samples, delay, cue_steps, test_fraction):
    if not isinstance(n_samples, int | np.integer) or n_samples < 4:
        raise ValueError(f"n_samples must be an integer >= 4, got {n_samples!r}")
    if not isinstance(delay, int | np.integer) or delay < 0:
        raise ValueError(f"delay must be a non-negative integer number of steps, got {delay!r}")
    if not isinstance(cue_steps, int | np.integer) or cue_steps < 1:
        raise ValueError(f"cue_steps must be a positive integer, got {cue_steps!r}")
    _check_fraction(test_fraction)


def delayed_recall(
    n_samples=1000, delay=50, n_symbols=4, cue_steps=5, noise=0.0, test_fraction=0.2, seed=0
):
    """Delayed recall: report which of `n_symbols` cues was shown before a delay.

    Inputs have ``n_symbols + 1`` channels: channel ``k`` is 1 during the first
    `cue_steps` steps if the symbol is ``k``; then `delay` silent steps; then the
    last channel (the recall signal) is 1 for `cue_steps` steps. T = ``2 cue_steps +
    delay``. Optional Bernoulli distractor noise of probability `noise` on the symbol
    channels during the delay. The label is the symbol; train with ``loss="last"``
    (or ``"mean"`` with ``loss_start = T - cue_steps``).

    Returns
    -------
    Dataset
    """
    _check_task(n_samples, delay, cue_steps, test_fraction)
    if not isinstance(n_symbols, int | np.integer) or n_symbols < 2:
        raise ValueError(f"n_symbols must be an integer >= 2, got {n_symbols!r}")
    if not 0 <= noise < 1:
        raise ValueError(f"noise must lie in [0, 1), got {noise}")
    rng = np.random.default_rng(seed)
    T = 2 * cue_steps + delay
    y = rng.integers(0, n_symbols, n_samples)
    x = np.zeros((n_samples, T, n_symbols + 1))
    x[np.arange(n_samples), :cue_steps, y] = 1.0  # broadcast over the cue window
    x[:, cue_steps : cue_steps + delay, :n_symbols] = (
        rng.random((n_samples, delay, n_symbols)) < noise
    )
    x[:, T - cue_steps :, n_symbols] = 1.0
    x_tr, y_tr, x_te, y_te = _split(x, y, test_fraction, rng)
    return Dataset(
        x_tr,
        y_tr,
        x_te,
        y_te,
        int(n_symbols),
        f"delayed recall (delay {delay})",
        {
            "delay": delay,
            "n_symbols": n_symbols,
            "cue_steps": cue_steps,
            "noise": noise,
            "seed": seed,
        },
    )


def delayed_xor(n_samples=1000, delay=50, cue_steps=5, noise=0.0, test_fraction=0.2, seed=0):
    """Delayed XOR: the XOR of a bit shown first and a bit shown after `delay` steps.

    Inputs have 4 channels: channels 0/1 code the first bit (0 or 1) during the first
    `cue_steps` steps, then `delay` silent steps, then channels 2/3 code the second
    bit for `cue_steps` steps. T = ``2 cue_steps + delay``. The label ``a XOR b`` can
    only be computed if the first bit is held over the delay and combined
    non-linearly with the second. Optional Bernoulli distractor noise during the
    delay on all channels.

    Returns
    -------
    Dataset
    """
    _check_task(n_samples, delay, cue_steps, test_fraction)
    if not 0 <= noise < 1:
        raise ValueError(f"noise must lie in [0, 1), got {noise}")
    rng = np.random.default_rng(seed)
    T = 2 * cue_steps + delay
    a = rng.integers(0, 2, n_samples)
    b = rng.integers(0, 2, n_samples)
    x = np.zeros((n_samples, T, 4))
    rows = np.arange(n_samples)[:, None]
    x[rows, np.arange(cue_steps)[None, :], a[:, None]] = 1.0
    x[rows, np.arange(T - cue_steps, T)[None, :], 2 + b[:, None]] = 1.0
    if noise > 0:
        x[:, cue_steps : cue_steps + delay, :] = rng.random((n_samples, delay, 4)) < noise
    y = np.bitwise_xor(a, b).astype(np.int64)
    x_tr, y_tr, x_te, y_te = _split(x, y, test_fraction, rng)
    return Dataset(
        x_tr,
        y_tr,
        x_te,
        y_te,
        2,
        f"delayed XOR (delay {delay})",
        {"delay": delay, "cue_steps": cue_steps, "noise": noise, "seed": seed},
    )


@functools.lru_cache(maxsize=4)
def _mnist1d_arrays(n_samples, seed, train_split):
    """MNIST-1D from the package's generator; the global RNGs it seeds are restored."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = n_samples
    args.seed = seed
    args.train_split = train_split
    numpy_state = np.random.get_state()  # noqa: NPY002 (restores the legacy global RNG)
    python_state = random.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(numpy_state)  # noqa: NPY002
        random.setstate(python_state)
    arrays = (
        np.asarray(data["x"], dtype=np.float64),
        np.asarray(data["y"], dtype=np.int64),
        np.asarray(data["x_test"], dtype=np.float64),
        np.asarray(data["y_test"], dtype=np.int64),
    )
    for array in arrays:
        array.setflags(write=False)
    return arrays


def mnist1d(n_samples=5000, test_fraction=0.2, seed=42):
    """MNIST-1D: ten 1-D digit templates, padded, sheared, shifted, scaled and noised.

    Generated on this machine by the ``mnist1d`` package's procedural generator
    (``mnist1d.data.make_dataset``; nothing is downloaded), with the package's default
    transformation arguments (Greydanus & Kobak 2024): every sequence has 40 points,
    read one per step (T = 40, one input channel), and the whole set is standardised
    to mean 0 and standard deviation 1. The package's own split is kept: the first
    ``(1 - test_fraction) n_samples`` shuffled samples train, the rest test. Results
    are cached in memory only (the package's pickle cache is not used); the global
    ``numpy.random`` and ``random`` states the generator seeds are restored.

    Parameters
    ----------
    n_samples : int
        Total number of sequences (>= 20; a multiple of 10 keeps the classes equal).
    test_fraction : float
        Fraction held out, in (0, 1).
    seed : int
        Seed of the generator (42, the package's default, gives its standard set of
        4000 training and 1000 test sequences at ``n_samples=5000``).

    Returns
    -------
    Dataset
        ``x`` of shape ``(n, 40, 1)``, 10 classes.

    References
    ----------
    Greydanus S & Kobak D (2024), Scaling down deep learning with MNIST-1D, ICML.

    Examples
    --------
    >>> data = mnist1d(n_samples=100, seed=0)
    >>> data.x_train.shape, data.x_test.shape, data.n_classes
    ((80, 40, 1), (20, 40, 1), 10)
    """
    n_samples = check_int(n_samples, "n_samples", minimum=20)
    check_seed(seed)
    _check_fraction(test_fraction)
    x_tr, y_tr, x_te, y_te = _mnist1d_arrays(n_samples, int(seed), 1.0 - float(test_fraction))
    return Dataset(
        x_tr[:, :, None].copy(),
        y_tr.copy(),
        x_te[:, :, None].copy(),
        y_te.copy(),
        10,
        "MNIST-1D",
        {"n_samples": n_samples, "test_fraction": float(test_fraction), "seed": int(seed)},
    )


def latency_digits(T=16, test_fraction=0.25, seed=0, n_samples=None, thresholds="uniform"):
    """Event-based digits: the 8x8 images as latency-coded spike frames.

    Each of the 64 pixels (value :math:`v \\in [0, 1]`) emits at most one event, the
    earlier the brighter (`neurosrnn.coding.encode` with ``coding="latency"``; a
    pixel below the last threshold stays silent). The network must integrate
    events spread over `T` steps.

    Parameters
    ----------
    T : int
        Number of time steps (>= 1).
    test_fraction, seed, n_samples
        As in `digit_images`.
    thresholds : {"uniform", "equal_frequency"} or array
        Latency thresholds (`neurosrnn.coding.latency_thresholds`).

    Returns
    -------
    Dataset
        Binary ``x`` of shape ``(n, T, 64)``, 10 classes.

    Examples
    --------
    >>> data = latency_digits(T=8, n_samples=40, seed=0)
    >>> data.x_train.shape, bool(data.x_train.sum(axis=1).max() <= 1)
    ((30, 8, 64), True)
    """
    from neurosrnn.coding import encode

    T = check_int(T, "T", minimum=1)
    x_tr, y_tr, x_te, y_te = digit_images(test_fraction, seed, n_samples)
    return Dataset(
        encode(x_tr, "latency", T, thresholds=thresholds),
        y_tr,
        encode(x_te, "latency", T, thresholds=thresholds),
        y_te,
        10,
        f"latency-coded digits (T={T})",
        {
            "T": T,
            "seed": seed,
            "thresholds": thresholds if isinstance(thresholds, str) else "custom",
        },
    )
