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

Each function returns a `Dataset` with ``x_train, y_train, x_test, y_test`` (inputs
``(n, T, n_in)`` float, labels ``(n,)`` int) and a description. Splits are seeded
and stratified-free (a seeded permutation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Dataset", "digit_images", "sequential_digits", "delayed_recall", "delayed_xor"]


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
