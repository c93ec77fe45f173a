"""Trained SRNN -> Brian2: identical spikes and predictions on runtime and C++ standalone."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)

from neurosrnn.learning import deploy, srnn, train  # noqa: E402
from neurosrnn.learning.data import delayed_xor, sequential_digits  # noqa: E402


@pytest.fixture(scope="module")
def trained_two_layer():
    data = sequential_digits("rows", n_samples=160, seed=3)
    config = srnn.SRNNConfig(
        n_in=8,
        hidden=(12, 10),
        n_out=10,
        tau_m_init=(4, 1),
        tau_adp_init=(15, 5),
        tau_out_init=(3, 1),
    )
    trained = train.train(
        config,
        data.x_train,
        data.y_train,
        epochs=2,
        batch_size=30,
        tau_lr_factor=5.0,
        seed=1,
        progress=False,
    )
    return trained, data.x_test  # 40 test samples


def _assert_same(trained, x, brian_spikes, brian_readout, brian_predictions):
    reference = trained.run(x, dtype="float64")
    total = 0
    for layer, (ref, got) in enumerate(zip(reference["spikes"], brian_spikes, strict=True)):
        assert_array_equal(got.sum(axis=(1, 2)), ref.sum(axis=(1, 2)), err_msg=f"layer {layer}")
        assert_array_equal(got, ref, err_msg=f"spike trains of layer {layer}")
        total += ref.sum()
    assert total > 100  # the networks are active
    assert_allclose(brian_readout, reference["readout"], rtol=1e-9, atol=1e-12)
    assert_array_equal(brian_predictions, trained.predict(x))


def test_runtime_reproduces_trained_network(trained_two_layer):
    trained, x = trained_two_layer
    deployed = deploy.to_brian2(trained, x)
    assert "DeployedSRNN" in repr(deployed)
    deployed.run()
    _assert_same(trained, x, deployed.spikes(), deployed.readout(), deployed.predict())


def test_spiking_readout_and_chunks_on_runtime():
    data = delayed_xor(n_samples=80, delay=6, cue_steps=3, seed=2)
    config = srnn.SRNNConfig(
        n_in=4,
        hidden=(10,),
        n_out=2,
        readout="spiking",
        loss="spike_count",
        tau_m_init=(3, 1),
        tau_adp_init=(10, 3),
    )
    params = srnn.init_params(config, 4)
    params["layers"][0]["w_in"] *= 4.0
    params["readout"]["w"] *= 4.0
    trained = train.TrainedSRNN(config, params)
    x = data.x_test
    out = deploy.simulate(trained, x, chunk_size=9, target="numpy")
    assert out["readout"].sum() > 10  # the spiking readout fires
    _assert_same(trained, x, out["spikes"], out["readout"], out["predictions"])


@pytest.mark.standalone
def test_cpp_standalone_reproduces_trained_network(trained_two_layer, tmp_path):
    trained, x = trained_two_layer
    out = deploy.simulate(trained, x, device="cpp_standalone", directory=str(tmp_path))
    _assert_same(trained, x, out["spikes"], out["readout"], out["predictions"])


def test_deploy_errors(trained_two_layer):
    trained, x = trained_two_layer
    with pytest.raises(ValueError, match="MAX_NEURONS_PER_LAYER"):
        deploy.to_brian2(trained, np.zeros((500, 8, 8)))
    with pytest.raises(ValueError, match="n_in=8"):
        deploy.to_brian2(trained, np.zeros((2, 8, 3)))
    with pytest.raises(ValueError, match="chunk_size"):
        deploy.simulate(trained, x, chunk_size=0)


def test_simulate_saved_writes_results(trained_two_layer, tmp_path):
    trained, x = trained_two_layer
    trained.save(tmp_path / "net")
    labels = trained.predict(x[:6])
    np.savez(tmp_path / "inputs.npz", x=x[:6], y=labels)
    summary = deploy.simulate_saved(
        str(tmp_path / "net"), str(tmp_path / "inputs.npz"), str(tmp_path / "out"), target="numpy"
    )
    assert summary["accuracy"] == 1.0  # labels are the float64 JAX predictions
    reference = trained.run(x[:6])
    assert summary["spike_counts"] == [int(s.sum()) for s in reference["spikes"]]
    assert_array_equal(np.load(tmp_path / "out" / "predictions.npy"), labels)
    with np.load(tmp_path / "out" / "spikes.npz") as spikes:
        assert_array_equal(spikes["layer_1"], reference["spikes"][1])
    with pytest.raises(ValueError, match="does not exist"):
        deploy.simulate_saved(str(tmp_path / "net"), str(tmp_path / "none.npy"), str(tmp_path))


def test_cuda_project_is_generated(trained_two_layer, tmp_path):
    pytest.importorskip("brian2cuda")
    trained, x = trained_two_layer
    simulation, holder = deploy.build_project(
        trained, x[:4], str(tmp_path / "cuda"), device="cuda_standalone", compile=False
    )
    try:
        assert (tmp_path / "cuda" / "makefile").is_file()
        sources = " ".join(p.name for p in (tmp_path / "cuda" / "code_objects").iterdir())
        assert "srnn_layer_0" in sources and "srnn_readout" in sources
        assert holder["deployed"].n_samples == 4
    finally:
        simulation.close()
    with pytest.raises(ValueError, match="device must be"):
        deploy.build_project(trained, x[:4], str(tmp_path / "rt"), device="runtime")


def test_command_line_runs_and_builds_a_trained_network(trained_two_layer, tmp_path, capsys):
    from neurosrnn.cli import main

    trained, x = trained_two_layer
    trained.save(tmp_path / "net")
    labels = trained.predict(x[:5])
    np.savez(tmp_path / "inputs.npz", x=x[:5], y=labels)
    stem, inputs = str(tmp_path / "net"), str(tmp_path / "inputs.npz")
    code = main(
        ["run", "--trained", stem, "--inputs", inputs, "--device", "runtime",
         "--target", "numpy", "--out", str(tmp_path / "out")]
    )  # fmt: skip
    assert code == 0
    assert "accuracy 1.0000" in capsys.readouterr().out
    assert_array_equal(np.load(tmp_path / "out" / "predictions.npy"), labels)
    code = main(
        ["build", "--trained", stem, "--inputs", inputs, "--device", "cpp_standalone",
         "--no-compile", "--out", str(tmp_path / "project")]
    )  # fmt: skip
    assert code == 0
    assert (tmp_path / "project" / "main.cpp").is_file()
    # Bad combinations exit 2 with one line, before any work.
    for argv in (
        ["run", "--trained", stem, "--device", "runtime", "--out", str(tmp_path / "x")],
        ["run", "lif", "--trained", stem, "--inputs", inputs, "--device", "runtime",
         "--out", str(tmp_path / "x")],
        ["run", "--device", "runtime", "--out", str(tmp_path / "x")],
    ):  # fmt: skip
        assert main(argv) == 2
        assert capsys.readouterr().err.count("\n") == 1
