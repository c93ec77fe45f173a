"""NeuronModel: validation of its description and of per-neuron parameters."""

import numpy as np
import pytest
from brian2 import Equations, Network, StateMonitor, ms, mV, volt
from brian2.units.fundamentalunits import DimensionMismatchError

from neurosrnn.models._base import NeuronModel

EQUATIONS = """
dv/dt = (I_ext - v)/tau_m : volt
tau_m : second (constant)
I_ext : volt (constant)
tau_ref : second (constant)
counter : 1
"""


def _model(**overrides):
    kwargs = dict(
        name="toy",
        equations=Equations(EQUATIONS),
        threshold="v > 10*mV",
        reset="v = 0*mV",
        method="exact",
        parameters={"tau_m": 10 * ms, "I_ext": 0 * mV, "tau_ref": 1 * ms},
        initial_values={"v": 1 * mV},
    )
    kwargs.update(overrides)
    return NeuronModel(**kwargs)


def test_model_defaults_and_repr():
    model = _model()
    assert model.drive_parameter == "I_ext"
    assert model.suprathreshold_drive is None
    assert model.coupling_unit == volt
    text = repr(model)
    assert "'toy'" in text and "tau_m=10. ms" in text and "'exact'" in text


def test_model_rejects_parameter_missing_from_equations():
    with pytest.raises(ValueError, match="not state variables"):
        _model(parameters={"tau_m": 10 * ms, "I_ext": 0 * mV, "gain": 1.0})


def test_model_rejects_unknown_coupling_target():
    with pytest.raises(ValueError, match="coupling_target"):
        _model(coupling_target="g_syn")


def test_model_rejects_drive_parameter_that_is_not_a_parameter():
    with pytest.raises(ValueError, match="drive_parameter"):
        _model(drive_parameter="I_input", suprathreshold_drive=1 * mV)


def test_make_group_applies_parameters_and_initial_values():
    group = _model().make_group(3, tau_m=np.array([1.0, 2.0, 3.0]) * ms)
    np.testing.assert_allclose(group.tau_m[:] / ms, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(group.I_ext[:] / mV, 0.0)
    np.testing.assert_allclose(group.v[:] / mV, 1.0)
    group = _model().make_group(2, initial_values={"v": "3*mV"})
    np.testing.assert_allclose(group.v[:] / mV, 3.0)


def test_make_group_attaches_run_regularly_code():
    model = _model(run_regularly=(("counter += 1", "start"),))
    group = model.make_group(2)
    monitor = StateMonitor(group, "counter", record=0, when="end")
    Network(group, monitor).run(1 * ms, namespace={})
    np.testing.assert_allclose(monitor.counter[0], np.arange(1, 11))


def test_make_group_runs_validators_with_defaults_filled_in():
    seen = {}

    def validator(model_name, values):
        seen.update(values)
        if np.any(np.asarray(values["tau_m"]) > np.asarray(values["tau_ref"]) * 100):
            raise ValueError(f"{model_name}: tau_m too long")

    model = _model(validators=(validator,))
    model.make_group(2, tau_m=5 * ms)
    assert seen["tau_ref"] == 1 * ms and seen["tau_m"] == 5 * ms
    with pytest.raises(ValueError, match="tau_m too long"):
        model.make_group(2, tau_m=1 * np.array([1.0, 200.0]) * ms)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(tau_m=0 * ms), "must be > 0"),
        (dict(tau_m=-1 * ms), "must be > 0"),
        (dict(tau_m=np.nan * ms), "finite"),
        (dict(I_ext=np.inf * mV), "finite"),
        (dict(tau_m=np.ones(4) * ms), "length N=3"),
        (dict(tau_m=np.ones((3, 1)) * ms), "length N=3"),
        (dict(tau_membrane=1 * ms), "Unknown parameter 'tau_membrane'"),
        (dict(tau_ref=-1 * ms), "tau_ref"),
    ],
)
def test_make_group_rejects_bad_parameter_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _model().make_group(3, **kwargs)


def test_refractory_duration_may_be_zero():
    group = _model().make_group(3, tau_ref=0 * ms)
    np.testing.assert_allclose(group.tau_ref[:] / ms, 0.0)


@pytest.mark.parametrize("value", [1 * volt, 5.0])
def test_make_group_rejects_wrong_units(value):
    with pytest.raises(DimensionMismatchError):
        _model().make_group(3, tau_m=value)


@pytest.mark.parametrize("n", [0, -2, 1.5, "3"])
def test_make_group_rejects_bad_size(n):
    with pytest.raises(ValueError, match="N must be a positive integer"):
        _model().make_group(n)


def test_make_group_rejects_unknown_initial_state():
    with pytest.raises(ValueError, match="Unknown state variable"):
        _model().make_group(2, initial_values={"w": 1.0})


@pytest.mark.parametrize(
    "value",
    [np.zeros(2) * mV, np.zeros(5) * mV, np.zeros((3, 1)) * mV],
    ids=["short", "long", "2-D"],
)
def test_make_group_names_initial_value_of_wrong_length(value):
    """A wrong-length initial value used to give Brian2's broadcast error, unnamed."""
    with pytest.raises(ValueError, match=r"initial_values\['v'\] .* length N=3, got shape"):
        _model().make_group(3, initial_values={"v": value})


def test_make_group_accepts_scalar_full_and_string_initial_values():
    for value in (2 * mV, np.arange(3) * mV, "2*mV"):
        _model().make_group(3, initial_values={"v": value})


def test_threshold_above_reset_validator():
    from neurosrnn.models._base import threshold_above_reset

    check = threshold_above_reset("v_threshold", "v_reset")
    check("m", {"v_threshold": np.array([2.0, 3.0]), "v_reset": 1.0})
    with pytest.raises(ValueError, match=r"v_reset must be < v_threshold .* first is neuron 1"):
        check("m", {"v_threshold": np.array([2.0, 1.0]), "v_reset": 1.0})
    with pytest.raises(ValueError, match="v_reset=3.0 and v_threshold=2.0"):
        check("m", {"v_threshold": 2.0, "v_reset": 3.0})
