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


# ------------------------------------------------------------- tasks of issue 16
def test_mnist1d_is_generated_locally_seeded_and_leaves_global_rngs_alone(monkeypatch):
    pytest.importorskip("mnist1d")
    import random
    import socket

    from neurosrnn.learning.data import mnist1d

    def no_network(*args, **kwargs):
        raise AssertionError("mnist1d tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    np.random.seed(7)  # noqa: NPY002 (the legacy global state must survive)
    random.seed(7)
    before = (np.random.random(), random.random())  # noqa: NPY002
    np.random.seed(7)  # noqa: NPY002
    random.seed(7)
    data = mnist1d(n_samples=200, seed=3)
    assert (np.random.random(), random.random()) == before  # noqa: NPY002
    assert data.x_train.shape == (160, 40, 1) and data.x_test.shape == (40, 40, 1)
    assert data.n_classes == 10 and set(np.unique(data.y_train)) <= set(range(10))
    # each class contributes n_samples // 10 sequences, shuffled before the split
    assert_array_equal(np.bincount(np.concatenate([data.y_train, data.y_test]), minlength=10), 20)
    all_x = np.concatenate([data.x_train, data.x_test])
    assert abs(all_x.mean()) < 1e-9 and abs(all_x.std() - 1) < 1e-9  # standardised
    again = mnist1d(n_samples=200, seed=3)
    assert_array_equal(again.x_train, data.x_train)
    again.x_train[0] = 99.0  # callers get copies: the cache stays intact
    assert_array_equal(mnist1d(n_samples=200, seed=3).x_train, data.x_train)
    other = mnist1d(n_samples=200, seed=4)
    assert not np.array_equal(other.x_train, data.x_train)
    with pytest.raises(ValueError, match="n_samples"):
        mnist1d(n_samples=5)


def test_permutation_is_a_fixed_permutation_of_the_pixels():
    a = sequential_digits("pixels", permuted=True, seed=0, n_samples=60)
    b = sequential_digits("rows", permuted=True, seed=5, n_samples=60)
    perm = np.asarray(a.info["permutation"])
    assert_array_equal(np.sort(perm), np.arange(64))
    assert_array_equal(perm, b.info["permutation"])  # independent of the split seed
    assert b.x_train.shape[1:] == (8, 8)
    other = sequential_digits("pixels", permuted=True, permutation_seed=99, n_samples=60)
    assert not np.array_equal(other.info["permutation"], perm)


def test_latency_digits_are_the_latency_code_of_the_images():
    from neurosrnn.coding import encode
    from neurosrnn.learning.data import latency_digits

    data = latency_digits(T=6, n_samples=40, seed=2)
    x_tr, y_tr, x_te, y_te = digit_images(n_samples=40, seed=2)
    assert data.x_train.shape == (30, 6, 64) and data.n_classes == 10
    assert_array_equal(data.x_train, encode(x_tr, "latency", 6))
    assert_array_equal(data.y_test, y_te)
    assert set(np.unique(data.x_train)) <= {0.0, 1.0}
    assert data.x_train.sum(axis=1).max() <= 1  # at most one event per pixel
    # brighter pixels fire no later than darker ones
    first = np.where(data.x_train.any(axis=1), data.x_train.argmax(axis=1), 6)
    for image, times in zip(x_tr, first, strict=True):
        order = np.argsort(-image, kind="stable")
        assert np.all(np.diff(times[order]) >= 0)


def test_delayed_tasks_reach_hundreds_of_steps():
    xor = delayed_xor(n_samples=100, delay=500, cue_steps=5, noise=0.05, seed=1)
    assert xor.T == 510 and xor.x_train.shape == (80, 510, 4)
    recall = delayed_recall(n_samples=100, delay=400, n_symbols=4, seed=1)
    assert recall.T == 410
    for x, y in zip(recall.x_train, recall.y_train, strict=True):
        assert np.all(x[:5, y] == 1) and np.all(x[-5:, 4] == 1)
