"""Tests of neurosrnn.progress: one progress convention (tqdm) for the whole package."""

import io

import pytest

from neurosrnn.progress import progress_bar, progress_enabled


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_automatic_mode_draws_only_on_a_terminal():
    assert progress_enabled(None, _Terminal()) is True
    assert progress_enabled(None, io.StringIO()) is False
    assert progress_enabled(True, io.StringIO()) is True
    assert progress_enabled(False, _Terminal()) is False


def test_forced_bar_has_the_house_format():
    stream = io.StringIO()
    with progress_bar(
        total=10, label="SparseProp", progress=True, unit="spikes", stream=stream
    ) as bar:
        bar.update(10)
    text = stream.getvalue()
    assert "SparseProp [" in text and "10/10 spikes" in text


def test_disabled_bar_writes_nothing():
    stream = io.StringIO()
    for _ in progress_bar(range(5), label="x", progress=False, stream=stream):
        pass
    assert stream.getvalue() == ""


@pytest.mark.parametrize("bad", [1, "yes", 0.5])
def test_progress_must_be_bool_or_none(bad):
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        progress_enabled(bad)
