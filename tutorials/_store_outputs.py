"""Execute the tutorial notebooks and store their outputs in the ``.ipynb`` files.

The notebooks are committed *with* their outputs, so a reader sees the figures and the
printed numbers on GitHub or on the documentation site (which renders them without
executing anything). After editing a notebook, or when a change to the package changes
what a notebook prints, re-run::

    .venv/bin/python tutorials/_store_outputs.py            # every notebook
    .venv/bin/python tutorials/_store_outputs.py 03 05      # only those whose name starts so

Each notebook is executed exactly as ``tests/test_tutorials.py`` executes it (this module's
`execute_notebook`: the ``python3`` kernel of the virtual environment, Jupyter's inline
figure backend (no window opens), a fresh temporary working directory), then cleaned
(`clean_outputs`): standard-error streams (warnings, progress bars) and widget views are
dropped, consecutive stream outputs are merged, execution timestamps are removed, and the
result is checked for absolute paths and the machine's name before it is written.

``tests/test_tutorials.py`` compares the outputs of its own execution with the stored ones
(`compare_outputs`): same number and kind of outputs in every code cell, and the same text
once every number is rounded to three significant figures (`normalize_text`). Images are
not compared. A code cell whose printed numbers depend on the machine (wall-clock times,
compile times, file sizes) carries the cell tag ``varying-numbers``: its numbers are masked
before the comparison, its words are still compared. A cell whose text depends on the machine
(the CUDA cell of tutorial 02 prints something else where CUDA is missing) carries
``varying-output``: only the number and kind of its outputs are compared.
"""

import argparse
import os
import re
import socket
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

TUTORIALS_DIRECTORY = Path(__file__).resolve().parent
REPOSITORY_ROOT = TUTORIALS_DIRECTORY.parent
KERNEL_NAME = "python3"
#: Figures go to the cell outputs, as in Jupyter, whatever MPLBACKEND says outside.
MATPLOTLIB_BACKEND = "module://matplotlib_inline.backend_inline"
CELL_TIMEOUT_SECONDS = 900
#: Cell tag: the numbers this cell prints depend on the machine and are not compared.
VARYING_NUMBERS_TAG = "varying-numbers"
#: Cell tag: what this cell prints depends on the machine (e.g. whether CUDA is installed);
#: only the number and kind of its outputs are compared.
VARYING_OUTPUT_TAG = "varying-output"
#: Mime types whose content is compared (images and HTML are not).
COMPARED_MIME_TYPES = ("text/plain",)
#: Absolute values below this are rounding noise (e.g. an error of 1e-16) and compare as 0.
NOISE_LEVEL = 1e-8
SIGNIFICANT_DIGITS = 3
#: Relative tolerance of the stored-output comparison: numbers agree when they differ by
#: less than this fraction (no flips at rounding boundaries, unlike equal rounding).
RELATIVE_TOLERANCE = 5e-3
STORE_COMMAND = "run `python tutorials/_store_outputs.py`"

_WIDGET_MIME_TYPES = (
    "application/vnd.jupyter.widget-view+json",
    "application/vnd.jupyter.widget-state+json",
)
# A number not glued to a word or to another number: "0.25", "-3e-05", "1,000" gives two.
# Digits inside names (run_000, sm_90, b_1) and version strings (2.10.1) are left alone.
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?!\d|\.\d)")
_MEMORY_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]+\b")


def tutorial_paths(prefixes=()):
    """The tutorial notebooks, sorted; only those whose name starts with a prefix if given."""
    paths = sorted(TUTORIALS_DIRECTORY.glob("*.ipynb"))
    if prefixes:
        paths = [path for path in paths if path.name.startswith(tuple(prefixes))]
    return paths


def execute_notebook(notebook, working_directory):
    """Execute `notebook` in place with the test suite's settings and return it.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        Read with ``nbformat.read(path, as_version=4)``.
    working_directory : str or os.PathLike
        The kernel's working directory (files the notebook writes land there).
    """
    backend_backup = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = MATPLOTLIB_BACKEND
    try:
        client = NotebookClient(
            notebook,
            timeout=CELL_TIMEOUT_SECONDS,
            kernel_name=KERNEL_NAME,
            resources={"metadata": {"path": str(working_directory)}},
        )
        client.execute()
    finally:
        if backend_backup is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = backend_backup
    return notebook


def _merged_streams(outputs):
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] += output["text"]
        else:
            merged.append(output)
    return merged


def _kept_output(output):
    """The output without widget views, or None if nothing would be left to show."""
    if output.get("output_type") == "stream":
        return None if output.get("name") == "stderr" else output
    if output.get("output_type") in ("display_data", "execute_result"):
        data = output.get("data", {})
        for mime_type in _WIDGET_MIME_TYPES:
            data.pop(mime_type, None)
        if not data:
            return None
    return output


def clean_outputs(notebook):
    """Drop stderr, widgets and execution metadata; merge consecutive streams (in place).

    Returns the notebook. Applied to the stored notebooks and, in the test, to a fresh
    execution before the comparison, so both sides are cleaned the same way.
    """
    notebook.metadata.pop("widgets", None)
    notebook.metadata["language_info"] = {"name": "python"}
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        kept = [_kept_output(output) for output in cell.get("outputs", [])]
        cell.outputs = _merged_streams([output for output in kept if output is not None])
        for output in cell.outputs:
            if output.get("output_type") == "stream":
                output["text"] = output["text"].replace("\r\n", "\n")
    return notebook


def _output_texts(notebook):
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                yield index, output["text"]
            elif output.get("output_type") == "error":
                yield index, "\n".join(output.get("traceback", []))
            else:
                for content in output.get("data", {}).values():
                    if isinstance(content, str) and len(content) < 100_000:
                        yield index, content


def private_strings(working_directory=None):
    """Strings that must not appear in stored outputs: local absolute paths, host name."""
    strings = {
        str(REPOSITORY_ROOT),
        str(Path.home()),
        str(Path(tempfile.gettempdir()).resolve()) + os.sep,
        tempfile.gettempdir() + os.sep,
        sys.prefix,
    }
    if working_directory is not None:
        strings.add(str(working_directory))
    hostname = socket.gethostname()
    if len(hostname) >= 4:  # a short name such as "box" could match ordinary words
        strings.add(hostname)
    return sorted(string for string in strings if string and string != os.sep)


def find_private_strings(notebook, working_directory=None):
    """``(cell index, line)`` for every output line showing an absolute path or the host name."""
    strings = private_strings(working_directory)
    return [
        (index, line.strip())
        for index, text in _output_texts(notebook)
        for line in text.splitlines()
        if any(string in line for string in strings)
    ]


def _normalized_number(match):
    value = float(match.group(0))
    if abs(value) < NOISE_LEVEL:
        return "0"
    return format(value, f".{SIGNIFICANT_DIGITS}g")


def normalize_text(text, mask_numbers=False):
    """Text with every number rounded to three significant figures.

    Numbers below `NOISE_LEVEL` in magnitude become ``0`` (rounding noise such as
    ``-2.2e-16`` differs between machines), memory addresses become ``0x…``, trailing
    whitespace is dropped. With ``mask_numbers=True`` every number becomes ``#``.

    Examples
    --------
    >>> normalize_text("rate 12.3456 Hz, error -2.2e-16, 1500 spikes")
    'rate 12.3 Hz, error 0, 1.5e+03 spikes'
    >>> normalize_text("run_000 on sm_90 with brian2 2.10.1")
    'run_000 on sm_90 with brian2 2.10.1'
    >>> normalize_text("trained in 12 s", mask_numbers=True)
    'trained in # s'
    """
    text = _MEMORY_ADDRESS.sub("0x…", text)
    text = _NUMBER.sub("#" if mask_numbers else _normalized_number, text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _numbers(text):
    """The numbers of `text` (memory addresses excluded), as floats."""
    return [float(value) for value in _NUMBER.findall(_MEMORY_ADDRESS.sub("0x", text))]


def texts_agree(stored, fresh):
    """Whether two output texts agree: the same words, numbers within the tolerance.

    Numbers agree when both are below `NOISE_LEVEL` in magnitude or when they differ
    by at most `RELATIVE_TOLERANCE` of the larger.

    Examples
    --------
    >>> texts_agree("rate 0.90649 Hz", "rate 0.90651 Hz")  # across a rounding boundary
    True
    >>> texts_agree("rate 12.31 Hz", "rate 12.5 Hz")
    False
    >>> texts_agree("rate 12.31 Hz", "rate 12.31 s")
    False
    """
    if normalize_text(stored, mask_numbers=True) != normalize_text(fresh, mask_numbers=True):
        return False
    return all(
        max(abs(a), abs(b)) < NOISE_LEVEL or abs(a - b) <= RELATIVE_TOLERANCE * max(abs(a), abs(b))
        for a, b in zip(_numbers(stored), _numbers(fresh), strict=True)
    )


def _comparable(output, mask_numbers):
    """``(kind, text)`` of one cleaned output: what the comparison looks at."""
    output_type = output.get("output_type")
    if output_type == "stream":
        return f"stream:{output.get('name')}", _raw_text(output["text"], mask_numbers)
    if output_type == "error":
        return f"error:{output.get('ename')}", ""
    data = output.get("data", {})
    kind = f"{output_type}:{','.join(sorted(data))}"
    texts = [data[mime] for mime in COMPARED_MIME_TYPES if mime in data]
    text = "\n".join(content if isinstance(content, str) else "".join(content) for content in texts)
    return kind, _raw_text(text, mask_numbers)


def _raw_text(text, mask_numbers):
    """The text compared: as printed, or with every number masked (`mask_numbers`)."""
    return normalize_text(text, mask_numbers=True) if mask_numbers else text


def compare_outputs(stored, fresh, name):
    """Differences between two cleaned notebooks' outputs, as messages (empty if none).

    Parameters
    ----------
    stored, fresh : nbformat.NotebookNode
        The notebook as committed and as just executed, both passed through
        `clean_outputs`.
    name : str
        The notebook's file name, used in the messages.
    """
    stored_code = [cell for cell in stored.cells if cell.cell_type == "code"]
    fresh_code = [cell for cell in fresh.cells if cell.cell_type == "code"]
    if len(stored_code) != len(fresh_code):
        return [f"{name}: {len(stored_code)} stored code cells, {len(fresh_code)} executed"]
    messages = []
    for number, (stored_cell, fresh_cell) in enumerate(
        zip(stored_code, fresh_code, strict=True), start=1
    ):
        where = f"{name}, code cell {number} (starting {fresh_cell.source.splitlines()[:1]})"
        mask_numbers = VARYING_NUMBERS_TAG in fresh_cell.metadata.get("tags", [])
        stored_outputs = [_comparable(output, mask_numbers) for output in stored_cell.outputs]
        fresh_outputs = [_comparable(output, mask_numbers) for output in fresh_cell.outputs]
        stored_kinds = [kind for kind, _ in stored_outputs]
        fresh_kinds = [kind for kind, _ in fresh_outputs]
        if stored_kinds != fresh_kinds:
            messages.append(f"{where}: stored outputs {stored_kinds}, executed {fresh_kinds}")
            continue
        if VARYING_OUTPUT_TAG in fresh_cell.metadata.get("tags", []):
            continue
        for (kind, stored_text), (_, fresh_text) in zip(stored_outputs, fresh_outputs, strict=True):
            if not texts_agree(stored_text, fresh_text):
                messages.append(
                    f"{where}: {kind} differs (words, or numbers by more than "
                    f"{RELATIVE_TOLERANCE:.1%}):\n"
                    f"--- stored\n{normalize_text(stored_text)}\n"
                    f"--- executed\n{normalize_text(fresh_text)}"
                )
    return messages


def store_outputs(path):
    """Execute the notebook at `path`, clean its outputs and write it back.

    Raises RuntimeError, writing nothing, if a cell fails or an output holds an absolute
    path or the host name.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="neurosrnn-tutorial-") as working_directory:
        execute_notebook(notebook, working_directory)
        clean_outputs(notebook)
        private = find_private_strings(notebook, working_directory)
    errors = [
        index
        for index, cell in enumerate(notebook.cells)
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    if errors:
        raise RuntimeError(f"{path.name}: cells {errors} raised; nothing written")
    if private:
        raise RuntimeError(
            f"{path.name}: outputs show local paths or the host name {private}; "
            "print relative names instead. Nothing written."
        )
    nbformat.validate(notebook)
    temporary = path.with_name(f".{path.name}.tmp")
    nbformat.write(notebook, temporary)
    os.replace(temporary, path)
    return notebook


def _format_size(path):
    return f"{path.stat().st_size / 1024:.0f} KiB"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "prefixes", nargs="*", help="only notebooks whose file name starts with one of these"
    )
    arguments = parser.parse_args(argv)
    paths = tutorial_paths(arguments.prefixes)
    if not paths:
        parser.error(f"no tutorial notebook starts with {arguments.prefixes}")
    for path in paths:
        print(f"executing {path.name} ...", flush=True)
        store_outputs(path)
        print(f"  stored, {_format_size(path)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
