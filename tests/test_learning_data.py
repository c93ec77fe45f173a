"""Bundled and synthetic data sets."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

pytest.importorskip("sklearn")

from sklearn.datasets import load_digits  # noqa: E402

from neurosrnn.learning.data import (  # noqa: E402
    delayed_recall,
    delayed_xor,
    digit_images,
    sequential_digits,
)


def _find_rows(images, flat):
    """Brute-force lookup of every flat image among the sklearn images."""
    return [int(np.flatnonzero(np.all(images == row, axis=1))[0]) for row in flat]


def test_sequential_digits_rows_pixels_and_permutation():
    digits = load_digits()
    rows = sequential_digits("rows", seed=0)
    assert rows.x_train.shape[1:] == (8, 8) and rows.n_classes == 10
    assert len(rows.x_train) + len(rows.x_test) == 1797
    found = _find_rows(digits.data / 16.0, rows.x_test[:20].reshape(20, 64))
    assert_array_equal(digits.target[found], rows.y_test[:20])
    assert_array_equal(rows.x_test[:20].reshape(20, 8, 8), digits.images[found] / 16.0)
    pixels = sequential_digits("pixels", seed=0)
    assert pixels.x_train.shape[1:] == (64, 1)
    assert_array_equal(pixels.x_train[:, :, 0], rows.x_train.reshape(-1, 64))
    permuted = sequential_digits("pixels", permuted=True, seed=0)
    perm = np.asarray(permuted.info["permutation"])
    assert sorted(perm.tolist()) == list(range(64)) and not np.all(perm == np.arange(64))
    assert_array_equal(permuted.x_train[:, :, 0], pixels.x_train[:, perm, 0])
    assert "sequential digits" in repr(permuted)
    x_tr, y_tr, x_te, y_te = digit_images(n_samples=100, seed=1)
    assert len(x_tr) + len(x_te) == 100 and x_tr.max() <= 1.0


def test_delayed_xor_labels_by_brute_force():
    data = delayed_xor(n_samples=60, delay=17, cue_steps=3, seed=4)
    assert data.T == 3 + 17 + 3 and data.n_in == 4
    for x, y in zip(data.x_train, data.y_train, strict=True):
        first = int(np.argmax(x[0, :2]))
        second = int(np.argmax(x[-1, 2:]))
        assert y == (first ^ second)
        assert np.all(x[3:20] == 0)  # silent delay
        assert np.all(x[:3, first] == 1) and np.all(x[-3:, 2 + second] == 1)
    assert set(np.unique(data.y_train)) == {0, 1}


def test_delayed_recall_labels():
    data = delayed_recall(n_samples=50, delay=10, n_symbols=3, cue_steps=2, seed=0)
    assert data.T == 14 and data.n_in == 4
    for x, y in zip(data.x_train, data.y_train, strict=True):
        assert_array_equal(x[:2, :3], np.tile(np.eye(3)[y], (2, 1)))
        assert np.all(x[-2:, 3] == 1) and np.all(x[2:-2] == 0)
    noisy = delayed_recall(n_samples=50, delay=100, noise=0.2, seed=0)
    assert 0.15 < noisy.x_train[:, 5:105, :4].mean() < 0.25


def test_errors():
    with pytest.raises(ValueError, match="mode"):
        sequential_digits("columns")
    with pytest.raises(ValueError, match="test_fraction"):
        sequential_digits(test_fraction=1.0)
    with pytest.raises(ValueError, match="delay"):
        delayed_xor(delay=-1)
    with pytest.raises(ValueError, match="n_symbols"):
        delayed_recall(n_symbols=1)
    with pytest.raises(ValueError, match="noise"):
        delayed_xor(noise=1.0)
    with pytest.raises(ValueError, match="n_samples"):
        digit_images(n_samples=1)
