"""The README's quick start runs as written and reports a plausible network."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_quick_start_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 1
    namespace = {}
    exec(compile(blocks[0], "README quick start", "exec"), namespace)  # noqa: S102
    network = namespace["network"]
    counts = network.spikes()[0].size
    # The printed summary must report the mean rate of the recorded spikes.
    assert counts > 0
    printed = capsys.readouterr().out
    rate = float(re.search(r"mean rate \(Hz\)=([0-9.]+)", printed).group(1))
    assert abs(rate - counts / 1000 / 1.0) < 0.05 * rate
