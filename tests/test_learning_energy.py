"""Operation-count energy estimate: the reference note's worked example and brute force."""

import pytest
from numpy.testing import assert_allclose

from neurosrnn.learning.energy import (
    ENERGY_PER_OPERATION,
    energy_ratio,
    rnn_operations,
    srnn_operations,
)


def test_worked_shd_example():
    # reference note section 4: 2 x 128 LSTM on 700 inputs ~ 555k MACs per step
    lstm = rnn_operations(700, [128, 128], kind="lstm")
    assert lstm["mac"] == 4 * (128 * (700 + 128) + 128 * (128 + 128))
    assert_allclose(lstm["mac"], 555e3, rtol=1e-3)
    # SRNN at r = 0.1: ~5.2k recurrent/feed-forward/readout ACs, 89.6k r_in input ACs
    no_input = srnn_operations(700, [128, 128], 20, rates=[0.1, 0.1], input_rate=0.0)
    assert_allclose(no_input["ac"], 5.2e3, rtol=0.01)
    assert no_input["mac"] == 4 * 256
    snn = srnn_operations(700, [128, 128], 20, rates=[0.1, 0.1], input_rate=0.02)
    assert_allclose(snn["ac"] - no_input["ac"], 0.02 * 89.6e3, rtol=1e-12)
    assert_allclose(energy_ratio(lstm, snn, "float32")["ratio"], 230, rtol=0.02)
    assert_allclose(energy_ratio(lstm, snn, "int32")["ratio"], 450, rtol=0.03)


def test_brute_force_counts():
    n_in, hidden, n_out = 5, [4, 3], 2
    rates = [0.25, 0.5]
    # count ACs by enumerating every synapse and multiplying by its source's rate
    acs = sum(0.2 for _ in range(n_in) for _ in range(hidden[0]))
    acs += sum(rates[0] for _ in range(4 * 4)) + sum(rates[0] for _ in range(4 * 3))
    acs += sum(rates[1] for _ in range(3 * 3)) + sum(rates[1] for _ in range(3 * 2))
    ops = srnn_operations(
        n_in, hidden, n_out, rates, 0.2, macs_per_neuron=3, readout_macs_per_unit=2
    )
    assert_allclose(ops["ac"], acs)
    assert ops["mac"] == 3 * 7 + 2 * 2
    gru = rnn_operations(n_in, hidden, n_out, kind="gru")
    assert gru["mac"] == 3 * (4 * 9 + 3 * 7) + 3 * 2
    e = energy_ratio(gru, ops, {"mac": 2.0, "ac": 1.0})
    assert_allclose(e["reference_joules"], 2.0 * gru["mac"])
    assert_allclose(e["srnn_joules"], 2.0 * ops["mac"] + acs)
    assert ENERGY_PER_OPERATION["float32"]["mac"] == 4.6e-12


def test_errors():
    with pytest.raises(ValueError, match="kind"):
        rnn_operations(3, [4], kind="transformer")
    with pytest.raises(ValueError, match="one value per hidden layer"):
        srnn_operations(3, [4, 4], 2, rates=[0.1], input_rate=0.1)
    with pytest.raises(ValueError, match="spike probabilities"):
        srnn_operations(3, [4], 2, rates=[1.5], input_rate=0.1)
    with pytest.raises(ValueError, match="constants"):
        energy_ratio({"mac": 1, "ac": 0}, {"mac": 1, "ac": 0}, "float16")
    with pytest.raises(ValueError, match="n_in"):
        rnn_operations(0, [4])
