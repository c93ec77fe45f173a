"""SRNN options of issue 16: multi-Gaussian time-constant initialisation, firing-rate
penalty, truncated BPTT, and the saved form of the configuration."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)

from neurosrnn.learning import srnn, train  # noqa: E402


def test_multi_gaussian_initialisation_draws_each_block_from_its_normal():
    components = ((3.0, 0.5), (40.0, 4.0), (200.0, 20.0))
    config = srnn.SRNNConfig(
        n_in=2, hidden=(3000,), n_out=2, recurrent=False, tau_adp_init=components
    )
    tau = srnn.init_params(config, seed=0)["layers"][0]["tau_adp"]
    assert np.all(tau >= config.tau_min)
    for k, (mean, std) in enumerate(components):
        block = tau[k * 1000 : (k + 1) * 1000]
        # mean within 5 standard errors, std within 15 %
        assert abs(block.mean() - mean) < 5 * std / np.sqrt(1000)
        assert abs(block.std() - std) < 0.15 * std
    # one component is the plain normal draw, consumed from the generator the same way
    single = srnn.SRNNConfig(n_in=2, hidden=(50,), n_out=2, tau_adp_init=((150.0, 10.0),))
    plain = srnn.SRNNConfig(n_in=2, hidden=(50,), n_out=2, tau_adp_init=(150.0, 10.0))
    a, b = srnn.init_params(single, seed=3), srnn.init_params(plain, seed=3)
    assert_allclose(a["layers"][0]["tau_adp"], b["layers"][0]["tau_adp"], rtol=1e-15)
    assert_array_equal(a["readout"]["w"], b["readout"]["w"])


def test_multi_gaussian_taus_stay_positive_and_roundtrip(tmp_path):
    config = srnn.SRNNConfig(
        n_in=2,
        hidden=(7,),
        n_out=2,
        tau_m_init=((0.6, 5.0), (3.0, 1.0)),  # the first block would go negative unclipped
        tau_adp_init=((2.0, 1.0), (10.0, 2.0)),
        tau_out_init=((2.0, 1.0), (4.0, 1.0)),
    )
    params = srnn.init_params(config, seed=1)
    assert np.all(params["layers"][0]["tau_m"] >= config.tau_min)
    data = config.to_dict()
    assert data["tau_m_init"] == [[0.6, 5.0], [3.0, 1.0]]
    assert srnn.SRNNConfig.from_dict(data) == config
    assert hash(config) == hash(srnn.SRNNConfig.from_dict(data))
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 6, 2)) * 2, rng.integers(0, 2, 16)
    trained = train.train(config, x, y, epochs=2, batch_size=8, tau_lr_factor=500.0, progress=False)
    for tau in trained.timescales().values():
        assert np.all(tau >= config.tau_min)
    trained.save(tmp_path / "net")
    assert train.TrainedSRNN.load(tmp_path / "net").config == config
    for bad in [((1.0, 1.0), (-2.0, 1.0)), (), ((1.0,),), "20"]:
        with pytest.raises(ValueError, match="tau_m_init"):
            srnn.SRNNConfig(n_in=2, tau_m_init=bad)


def test_new_fields_are_left_out_of_the_saved_form_at_their_defaults():
    config = srnn.SRNNConfig(n_in=2)
    assert "rate_penalty" not in config.to_dict() and "truncation" not in config.to_dict()
    used = srnn.SRNNConfig(n_in=2, rate_penalty=0.5, truncation=4)
    assert used.to_dict()["rate_penalty"] == 0.5 and used.to_dict()["truncation"] == 4
    assert srnn.SRNNConfig.from_dict(used.to_dict()) == used
    with pytest.raises(ValueError, match="rate_penalty"):
        srnn.SRNNConfig(n_in=2, rate_penalty=-1.0)
    with pytest.raises(ValueError, match="truncation"):
        srnn.SRNNConfig(n_in=2, truncation=0)


def _firing_task():
    rng = np.random.default_rng(5)
    return rng.random((64, 10, 3)) * 3.0, rng.integers(0, 2, 64)


def test_rate_penalty_adds_lambda_times_the_mean_rates_and_lowers_firing():
    x, y = _firing_task()
    base = dict(n_in=3, hidden=(12, 8), n_out=2, tau_m_init=(4.0, 1.0), tau_adp_init=(8.0, 2.0))
    plain = srnn.SRNNConfig(**base)
    penalised = srnn.SRNNConfig(**base, rate_penalty=0.7)
    params = srnn.init_params(plain, seed=0)
    loss0, (_, out) = srnn.loss_and_accuracy(params, x, y, plain)
    loss1, _ = srnn.loss_and_accuracy(params, x, y, penalised)
    rates = [float(np.mean(s)) for s in out["spikes"]]
    assert_allclose(float(loss1), float(loss0) + 0.7 * sum(rates), rtol=1e-12)
    options = dict(epochs=6, batch_size=16, lr=1e-2, seed=0, progress=False)
    free = train.train(plain, x, y, **options)
    tight = train.train(penalised, x, y, **options)
    rate_free = np.mean(train.evaluate(free.params, x, y, plain)["firing_rates"])
    rate_tight = np.mean(train.evaluate(tight.params, x, y, penalised)["firing_rates"])
    assert rate_tight < 0.8 * rate_free


def test_truncated_bptt_cuts_the_gradient_and_keeps_the_forward_pass():
    x, y = _firing_task()
    x = x[:4]
    base = dict(n_in=3, hidden=(6,), n_out=2, loss="last", tau_m_init=(4.0, 1.0))
    full = srnn.SRNNConfig(**base)
    cut = srnn.SRNNConfig(**base, truncation=4)
    params = srnn.init_params(full, seed=2)
    assert_array_equal(
        np.asarray(srnn.run(params, x, full)["readout"]),
        np.asarray(srnn.run(params, x, cut)["readout"]),
    )

    def readout_gradient(config):
        def last(inputs):
            return srnn.run(params, inputs, config, smooth=True)["readout"][:, -1, :].sum()

        return np.asarray(jax.grad(last)(x))

    g_full, g_cut = readout_gradient(full), readout_gradient(cut)
    # T = 10: the last chunk starts at step 8, so steps 0..7 get no gradient
    assert np.all(g_cut[:, :8] == 0) and np.any(g_cut[:, 8:] != 0)
    assert np.any(g_full[:, :8] != 0)
    # inside the last chunk the gradient flows exactly as in full BPTT
    assert_allclose(g_cut[:, 8:], g_full[:, 8:], rtol=1e-12)
