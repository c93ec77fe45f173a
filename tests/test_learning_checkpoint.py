"""Exact checkpoints of SRNN training: resume is bit-identical, also after SIGKILL, and
a checkpoint written for another set-up is refused."""

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from numpy.testing import assert_array_equal

jax = pytest.importorskip("jax")
pytest.importorskip("optax")

from neurosrnn.learning import train  # noqa: E402

# One set-up for every test (one compilation); executed in the subprocess as well.
_SETUP = """
import numpy as np
from neurosrnn.learning import srnn, train

rng = np.random.default_rng(11)
X = rng.random((24, 10, 3)) * 2.0
Y = rng.integers(0, 2, 24)
CONFIG = srnn.SRNNConfig(
    n_in=3, hidden=(6,), n_out=2, tau_m_init=(4.0, 1.0), tau_adp_init=(10.0, 3.0),
    tau_out_init=(3.0, 1.0),
)
# device="cpu": the exactness CI can check (a GPU needs XLA_FLAGS, see train's docstring)
OPTIONS = dict(
    batch_size=8, lr=0.02, lr_step=(1, 0.7), clip_norm=1.0, seed=5, progress=False, device="cpu"
)
"""
_namespace = {}
exec(_SETUP, _namespace)
X, Y, CONFIG, OPTIONS = (_namespace[k] for k in ("X", "Y", "CONFIG", "OPTIONS"))
EPOCHS = 4


def _assert_same_params(a, b):
    leaves_a = jax.tree_util.tree_leaves(a.params)
    leaves_b = jax.tree_util.tree_leaves(b.params)
    assert len(leaves_a) == len(leaves_b) == 8
    for got, want in zip(leaves_a, leaves_b, strict=True):
        assert_array_equal(got, want)


@pytest.fixture(scope="module")
def uninterrupted():
    return train.train(CONFIG, X, Y, epochs=EPOCHS, **OPTIONS)


def test_two_epochs_and_a_resume_equal_four_epochs(tmp_path, uninterrupted):
    stem = str(tmp_path / "run")
    first = train.train(CONFIG, X, Y, epochs=2, checkpoint=stem, **OPTIONS)
    assert sorted(os.listdir(tmp_path)) == ["run.json", "run.npz", "run.state.npz"]
    resumed = train.train(CONFIG, X, Y, epochs=EPOCHS, checkpoint=stem, resume=True, **OPTIONS)
    assert resumed.metadata["resumed_from_epoch"] == 2
    _assert_same_params(resumed, uninterrupted)
    assert resumed.history["loss"] == uninterrupted.history["loss"]
    assert resumed.history["loss"][:2] == first.history["loss"]
    # the parameters did move after the resume (the comparison is not trivial)
    assert not np.array_equal(
        resumed.params["layers"][0]["w_in"], first.params["layers"][0]["w_in"]
    )
    # a finished checkpoint resumes to the same network without training
    again = train.train(CONFIG, X, Y, epochs=EPOCHS, checkpoint=stem, resume=True, **OPTIONS)
    _assert_same_params(again, uninterrupted)
    assert sorted(os.listdir(tmp_path)) == ["run.json", "run.npz", "run.state.npz"]


@pytest.mark.parametrize(
    "change, part",
    [
        ({"lr": 0.03}, "training options"),
        ({"seed": 6}, "training options"),
        ({"x": X * 1.01}, "data"),
        ({"config": dataclasses.replace(CONFIG, beta=1.5)}, "configuration"),
    ],
)
def test_resume_with_another_set_up_is_refused(tmp_path, change, part):
    stem = str(tmp_path / "run")
    train.train(CONFIG, X, Y, epochs=1, checkpoint=stem, **OPTIONS)
    before = open(stem + ".state.npz", "rb").read()
    options = {**OPTIONS, **{k: v for k, v in change.items() if k in OPTIONS}}
    with pytest.raises(ValueError, match=f"cannot resume .*different {part}"):
        train.train(
            change.get("config", CONFIG),
            change.get("x", X),
            Y,
            epochs=2,
            checkpoint=stem,
            resume=True,
            **options,
        )
    assert open(stem + ".state.npz", "rb").read() == before  # untouched


def test_resume_refuses_a_checkpoint_with_more_epochs(tmp_path):
    stem = str(tmp_path / "run")
    train.train(CONFIG, X, Y, epochs=2, checkpoint=stem, **OPTIONS)
    with pytest.raises(ValueError, match="holds 2 epochs, more than epochs=1"):
        train.train(CONFIG, X, Y, epochs=1, checkpoint=stem, resume=True, **OPTIONS)


def _epochs_in(path):
    try:
        with np.load(path) as arrays:
            return int(arrays["epochs_done"])
    except (OSError, ValueError, KeyError):
        return 0  # not written yet


def test_sigkilled_training_resumes_bit_identically(tmp_path, uninterrupted):
    stem = str(tmp_path / "killed")
    script = tmp_path / "child.py"
    script.write_text(
        _SETUP
        + textwrap.dedent(
            f"""
            import time

            def hold(epoch, history):
                # after epoch 2 the run waits here until it is killed, so the kill
                # always lands in an unfinished run (earlier kills are fine too)
                while epoch >= 2:
                    time.sleep(0.05)

            train.train(CONFIG, X, Y, epochs={EPOCHS}, checkpoint={stem!r},
                        on_epoch=hold, **OPTIONS)
            """
        )
    )
    with open(tmp_path / "child.log", "wb") as log:
        child = subprocess.Popen([sys.executable, str(script)], stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 120
            while _epochs_in(stem + ".state.npz") < 1:
                assert child.poll() is None, (tmp_path / "child.log").read_text()
                assert time.monotonic() < deadline, "no checkpoint within 120 s"
                time.sleep(0.02)
            os.kill(child.pid, signal.SIGKILL)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    done = _epochs_in(stem + ".state.npz")
    assert 1 <= done <= 2
    resumed = train.train(CONFIG, X, Y, epochs=EPOCHS, checkpoint=stem, resume=True, **OPTIONS)
    assert resumed.metadata["resumed_from_epoch"] == done
    _assert_same_params(resumed, uninterrupted)
    assert resumed.history["loss"] == uninterrupted.history["loss"]
