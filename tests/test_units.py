"""Tests of neurosrnn.units (time and quantity conversion at the API boundary)."""

import numpy as np
import pytest
from brian2 import DimensionMismatchError, Hz, ms, mV, second
from numpy.testing import assert_allclose

from neurosrnn.units import seconds_array, to_hertz, to_seconds, to_si


def test_times_convert_to_seconds_from_brian2_and_floats():
    assert to_seconds(20 * ms, "tau") == pytest.approx(0.02)
    assert to_seconds(0.5, "tau") == 0.5
    assert_allclose(seconds_array([1.0, 2.5] * second, "t"), [1.0, 2.5])
    assert_allclose(seconds_array(np.array([3, 4]), "t"), [3.0, 4.0])


def test_python_quantities_times_convert():
    pq = pytest.importorskip("quantities")
    assert_allclose(seconds_array([5.0, 10.0] * pq.ms, "t"), [0.005, 0.01])


@pytest.mark.parametrize(
    "value, kwargs, error, fragment",
    [
        (3 * mV, {}, DimensionMismatchError, "tau must be a time"),
        (-1.0, {"positive": True}, ValueError, "tau must be a time > 0"),
        (0.0, {"positive": True}, ValueError, "> 0"),
        (-1e-3, {"nonnegative": True}, ValueError, ">= 0"),
        (float("nan"), {}, ValueError, "finite"),
        (float("inf"), {}, ValueError, "finite"),
        ("abc", {}, ValueError, "tau must be a time"),
        ([1.0, 2.0], {}, ValueError, "scalar"),
        (None, {}, ValueError, "tau is required"),
    ],
)
def test_bad_times_name_the_parameter(value, kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        to_seconds(value, "tau", **kwargs)


def test_none_allowed_when_asked():
    assert to_seconds(None, "t_stop", allow_none=True) is None


def test_rates_and_other_dimensions():
    assert to_hertz(5 * Hz, "rate") == 5.0
    with pytest.raises(DimensionMismatchError, match="rate must be a frequency"):
        to_hertz(5 * ms, "rate")
    assert to_si(20 * mV, mV, "J0") == pytest.approx(0.02)
    with pytest.raises(DimensionMismatchError, match="J0"):
        to_si(20 * ms, mV, "J0")
    assert_allclose(to_si([1.0, 2.0], mV, "w"), [1.0, 2.0])
