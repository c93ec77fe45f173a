"""Tests of neurosrnn.validation, the one validation layer of the public entry points."""

import os

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from neurosrnn.validation import check_choice, check_int, check_output_folder, check_seed, int_array


@pytest.mark.parametrize(
    "seed, error, fragment",
    [
        (-1, ValueError, "seed must be >= 0"),
        (1.5, TypeError, "seed must be an integer"),
        (True, TypeError, "seed must be an integer"),
        ("1", TypeError, "seed must be an integer"),
        (2**64, ValueError, "seed must be <="),
        (None, TypeError, "seed is required"),
    ],
)
def test_bad_seeds_are_named(seed, error, fragment):
    with pytest.raises(error, match=fragment):
        check_seed(seed)


def test_good_seeds():
    assert check_seed(np.int64(7)) == 7
    assert check_seed(None, allow_none=True) is None


def test_integers_and_bounds():
    assert check_int(np.int32(3), "K", minimum=1) == 3
    with pytest.raises(ValueError, match="K must be >= 1, got 0"):
        check_int(0, "K", minimum=1)
    with pytest.raises(ValueError, match="K must be <= 10"):
        check_int(11, "K", maximum=10)


def test_integer_arrays_refuse_floats_and_out_of_range():
    assert_array_equal(int_array(np.array([1, 2], dtype=np.int32), "i"), [1, 2])
    assert int_array([], "i").dtype == np.int64
    with pytest.raises(TypeError, match="i must hold integers, got dtype float64"):
        int_array([1.0, 2.0], "i")
    with pytest.raises(TypeError, match="bool"):
        int_array([True, False], "i")
    with pytest.raises(ValueError, match="i must be >= 0"):
        int_array([-1, 2], "i", minimum=0)
    with pytest.raises(ValueError, match="i must be <= 4"):
        int_array([5], "i", maximum=4)
    with pytest.raises(ValueError, match="1-dimensional"):
        int_array([[1]], "i")


def test_choices_list_what_is_allowed():
    with pytest.raises(ValueError, match="model must be one of 'theta', 'lif'; got 'qif'"):
        check_choice("qif", "model", ("theta", "lif"))


def test_output_folder_checks_write_nothing(tmp_path):
    target = tmp_path / "x" / "y"
    assert check_output_folder(target) == str(target)
    assert not (tmp_path / "x").exists()
    afile = tmp_path / "file.txt"
    afile.write_text("")
    with pytest.raises(ValueError, match="exists and is not a folder"):
        check_output_folder(afile)
    with pytest.raises(ValueError, match="which is a file"):
        check_output_folder(afile / "sub")
    with pytest.raises(TypeError, match="out must be a path"):
        check_output_folder(3)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_output_folder_not_writable(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(PermissionError, match="cannot write"):
        check_output_folder(locked / "run")


def test_seeded_rng():
    from neurosrnn.validation import seeded_rng

    generator = np.random.default_rng(0)
    assert seeded_rng(generator) is generator
    assert seeded_rng(5).integers(1000) == np.random.default_rng(5).integers(1000)
    assert isinstance(seeded_rng(None, allow_none=True), np.random.Generator)
    with pytest.raises(ValueError, match="graph_seed must be >= 0"):
        seeded_rng(-3, "graph_seed")
    with pytest.raises(TypeError, match="seed must be an integer"):
        seeded_rng(1.5)
    with pytest.raises(TypeError, match="seed is required"):
        seeded_rng(None)
