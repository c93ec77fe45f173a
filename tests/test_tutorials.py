"""Execute every tutorial notebook; any error in a cell fails the test.

The notebooks are committed with their outputs (``tutorials/_store_outputs.py`` writes
them). The execution test also compares what it just computed with what is stored, so
the outputs a reader sees stay those the current code produces.
"""

import doctest
import importlib.util
from pathlib import Path

import nbformat
import pytest

TUTORIALS_DIRECTORY = Path(__file__).resolve().parent.parent / "tutorials"
_SPEC = importlib.util.spec_from_file_location(
    "_store_outputs", TUTORIALS_DIRECTORY / "_store_outputs.py"
)
store = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(store)

TUTORIALS = store.tutorial_paths()
MAX_NOTEBOOK_BYTES = 1_500_000


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_executes_without_error(path, tmp_path):
    stored = store.clean_outputs(nbformat.read(path, as_version=4))
    notebook = store.execute_notebook(nbformat.read(path, as_version=4), tmp_path)
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, errors
    # The same execution, compared with the stored outputs (no second run).
    differences = store.compare_outputs(stored, store.clean_outputs(notebook), path.name)
    assert not differences, (
        "\n\n".join(differences) + f"\n\nThe stored outputs are stale: {store.STORE_COMMAND}."
    )


def test_every_tutorial_is_numbered_and_collected():
    assert TUTORIALS, "tutorials/ holds no notebook"
    for path in TUTORIALS:
        assert path.name[:2].isdigit(), f"{path.name} must start with a two-digit number"


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_stored_outputs_are_present_small_and_private(path):
    notebook = nbformat.read(path, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert any(cell.outputs for cell in code_cells), (
        f"{path.name} has no stored outputs: {store.STORE_COMMAND}"
    )
    assert path.stat().st_size < MAX_NOTEBOOK_BYTES, (
        f"{path.name} is {path.stat().st_size} bytes; lower the figure dpi"
    )
    for cell in code_cells:
        assert "execution" not in cell.metadata, f"{path.name}: execution timestamps stored"
        for output in cell.outputs:
            assert not (output.output_type == "stream" and output.name == "stderr"), (
                f"{path.name}: stderr stored"
            )
            assert output.output_type != "error", f"{path.name}: an error is stored"
    assert store.find_private_strings(notebook) == []


def test_exercises_end_every_tutorial_with_asserted_solutions():
    for path in TUTORIALS:
        notebook = nbformat.read(path, as_version=4)
        headings = [
            index
            for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "markdown" and cell.source.lstrip().startswith("## Exercises")
        ]
        assert len(headings) == 1, f"{path.name}: one '## Exercises' section expected"
        after = notebook.cells[headings[0] :]
        solutions = [
            index
            for index, cell in enumerate(after)
            if cell.cell_type == "markdown" and "### Solution" in cell.source
        ]
        assert 2 <= len(solutions) <= 3, f"{path.name}: {len(solutions)} solutions"
        for index in solutions:
            code = next(cell for cell in after[index:] if cell.cell_type == "code")
            assert "assert" in code.source, f"{path.name}: a solution asserts nothing"


def test_normalize_text_rounds_to_three_significant_figures():
    assert store.normalize_text("lambda 0.90612 1/s") == store.normalize_text("lambda 0.90648 1/s")
    assert store.normalize_text("lambda 0.906 1/s") != store.normalize_text("lambda 0.907 1/s")
    assert store.normalize_text("1234 spikes") == "1.23e+03 spikes"
    # rounding noise and memory addresses differ between machines
    assert store.normalize_text("sum = -2.2e-16") == store.normalize_text("sum = 4.4e-16")
    assert store.normalize_text("<A at 0x7f3a>") == store.normalize_text("<A at 0x55d1>")
    # names and versions are text, not numbers
    assert store.normalize_text("run_000 sm_90 brian2 2.10.1 b_3") == (
        "run_000 sm_90 brian2 2.10.1 b_3"
    )
    assert store.normalize_text("rate 12.3456.") == "rate 12.3."
    assert store.normalize_text("in 1.7 s", mask_numbers=True) == "in # s"


def _notebook(outputs, tags=()):
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(rate)")
    cell.metadata["tags"] = list(tags)
    cell.outputs = outputs
    notebook.cells = [nbformat.v4.new_markdown_cell("# title"), cell]
    return notebook


def _stdout(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def test_compare_outputs_names_notebook_cell_and_ignores_stderr_and_noise():
    stored = store.clean_outputs(_notebook([_stdout("rate 12.31 Hz\n")]))
    same = store.clean_outputs(
        _notebook(
            [
                _stdout("rate "),
                nbformat.v4.new_output("stream", name="stderr", text="UserWarning: x\n"),
                _stdout("12.3149 Hz\n"),
            ]
        )
    )
    assert store.compare_outputs(stored, same, "demo.ipynb") == []

    changed = store.clean_outputs(_notebook([_stdout("rate 12.5 Hz\n")]))
    (message,) = store.compare_outputs(stored, changed, "demo.ipynb")
    assert "demo.ipynb, code cell 1" in message and "12.5" in message

    extra = store.clean_outputs(
        _notebook([_stdout("rate 12.31 Hz\n"), nbformat.v4.new_output("display_data", data={})])
    )
    assert store.compare_outputs(stored, extra, "demo.ipynb") == []  # empty display dropped
    figure = nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"}
    )
    with_figure = store.clean_outputs(_notebook([_stdout("rate 12.31 Hz\n"), figure]))
    (message,) = store.compare_outputs(stored, with_figure, "demo.ipynb")
    assert "stored outputs" in message

    timed = store.clean_outputs(
        _notebook([_stdout("trained in 3 s\n")], [store.VARYING_NUMBERS_TAG])
    )
    slower = store.clean_outputs(
        _notebook([_stdout("trained in 41 s\n")], [store.VARYING_NUMBERS_TAG])
    )
    assert store.compare_outputs(timed, slower, "demo.ipynb") == []
    assert "run `python tutorials/_store_outputs.py`" in store.STORE_COMMAND


def test_compare_outputs_uses_a_relative_tolerance_without_rounding_boundaries():
    """0.90649 and 0.90651 round to different 3-figure values but agree to 2e-5."""
    stored = store.clean_outputs(_notebook([_stdout("lambda_1 = 0.90649 1/s\n")]))
    across = store.clean_outputs(_notebook([_stdout("lambda_1 = 0.90651 1/s\n")]))
    assert store.normalize_text("0.90649") != store.normalize_text("0.90651")
    assert store.compare_outputs(stored, across, "demo.ipynb") == []
    off = store.clean_outputs(_notebook([_stdout("lambda_1 = 0.92 1/s\n")]))
    assert len(store.compare_outputs(stored, off, "demo.ipynb")) == 1
    reworded = store.clean_outputs(_notebook([_stdout("lambda_2 = 0.90649 1/s\n")]))
    assert len(store.compare_outputs(stored, reworded, "demo.ipynb")) == 1


def test_store_outputs_docstring_examples():
    failures, attempted = doctest.testmod(store)
    assert attempted > 0 and failures == 0
