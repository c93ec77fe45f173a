"""Command line of sweeps: ``neurosrnn sweep FILE`` and ``python -m neurosrnn.sweep FILE``.

The sweep file (`neurosrnn.sweep.spec`) and the output locations (the store and the
``--table`` file) are checked first; errors in them end the command with status 2 and
one message on stderr, before anything runs or is written. A failed run ends it with
status 1 (one message, no traceback); completed runs stay in the store and output
folders the command created are removed if empty. The table of the sweep (one row per
run) is written atomically as CSV.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from neurosrnn.atomic import atomic_write
from neurosrnn.sweep.loop import run_sweep
from neurosrnn.sweep.spec import load_sweep_file
from neurosrnn.sweep.store import ResultStore
from neurosrnn.validation import check_output_folder

__all__ = ["add_sweep_subcommand", "main", "sweep_command"]


def add_sweep_subcommand(subparsers):
    """Register ``neurosrnn sweep FILE`` on an `argparse` subparsers object."""
    parser = subparsers.add_parser(
        "sweep",
        help="run a parameter sweep described by a TOML sweep file",
        description=(
            "Run a grid or random parameter sweep described by a TOML sweep file "
            "(see neurosrnn.sweep.spec for the format) on a Dask LocalCluster or an "
            "existing scheduler. Runs already complete in the store are skipped; "
            "corrupt ones are recomputed. Writes one CSV table with a row per run."
        ),
    )
    parser.add_argument("sweep_file", type=Path, help="TOML sweep file")
    parser.add_argument(
        "--store", type=Path, default=None, help="results store directory (overrides the file)"
    )
    parser.add_argument(
        "--table", type=Path, default=None, help="CSV table to write (default: STORE/table.csv)"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="LocalCluster workers (overrides the file)"
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        help="address of a running Dask scheduler, or 'serial' to run in this process",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="validate the file and list the runs only"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=sweep_command)
    return parser


def _error(message):
    """Print one error line on stderr; the exit status of a bad invocation (2)."""
    print(f"neurosrnn sweep: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


def _missing_folders(path):
    """`path` and its ancestors that do not exist yet, deepest first."""
    missing = []
    path = os.path.abspath(path)
    while not os.path.lexists(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return missing


def _remove_empty_folders(folders, store):
    """After a failed sweep: remove the `folders` it created if nothing of value is in them.

    Stale lock and temporary files of the store (left by workers stopped with the
    cluster) go first, through `ResultStore.remove_temporary_files`, which never touches
    a write in flight elsewhere; then each folder is removed only if it is empty, so
    completed runs (kept to resume) and anything of another process stay.
    """
    if os.path.isdir(store) and os.path.abspath(store) in folders:
        with contextlib.suppress(OSError):
            ResultStore(store).remove_temporary_files()
    for folder in folders:  # deepest first
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def _checked_outputs(arguments, spec):
    """``(store, table_path, workers)``, checked before anything runs or is written."""
    store = arguments.store if arguments.store is not None else spec.store
    workers = spec.workers if arguments.workers is None else arguments.workers
    if workers <= 0:
        raise ValueError(f"--workers must be > 0, got {workers}")
    store = check_output_folder(store, "store")
    table_path = Path(arguments.table if arguments.table is not None else Path(store, "table.csv"))
    if table_path.is_dir():
        raise ValueError(f"--table {str(table_path)!r} is a folder; give a file name (.csv)")
    check_output_folder(table_path.parent, "--table folder")
    return store, table_path, workers


def sweep_command(arguments, out=None):
    """Handler of ``neurosrnn sweep``; returns the process exit status.

    Exit status 2: an invalid sweep file or option, or an output location (store,
    ``--table``) that cannot be written (a path under a file, a folder without write
    permission); these are found before anything runs or is written. Exit status 1: a
    run failed; the runs completed before are kept in the store (rerunning the same
    command resumes), and output folders the command created are removed if empty.
    `out` is the stream for normal output (default: stdout); errors go to stderr, one
    line each, without a traceback.
    """
    out = out or sys.stdout
    try:
        spec = load_sweep_file(arguments.sweep_file)
        store, table_path, workers = _checked_outputs(arguments, spec)
    except FileNotFoundError as error:
        if error.filename is not None and Path(error.filename) == Path(arguments.sweep_file):
            return _error(f"sweep file {str(arguments.sweep_file)!r} does not exist")
        return _error(error)
    except (ValueError, OSError) as error:
        return _error(error)
    except Exception as error:  # DimensionMismatchError and friends
        if type(error).__name__ == "DimensionMismatchError":
            return _error(error)
        raise
    scheduler = arguments.scheduler or spec.scheduler
    n_runs = len(spec.points) * len(spec.seeds)
    if arguments.dry_run:
        print(f"{spec!r}\n{n_runs} run(s) into {store}", file=out)
        return 0
    created = sorted(
        set(_missing_folders(store)) | set(_missing_folders(table_path.parent)),
        key=lambda folder: folder.count(os.sep),
        reverse=True,
    )
    try:
        table = run_sweep(
            spec.runner,
            spec.points,
            seeds=spec.seeds,
            store=store,
            scheduler=scheduler,
            n_workers=workers,
            progress=False if arguments.quiet else None,
        )
        with atomic_write(table_path, "w") as handle:
            table.to_csv(handle, index=False)
    except BaseException as error:
        _remove_empty_folders(created, store)
        if isinstance(error, RuntimeError | OSError):
            print(
                f"neurosrnn sweep: error: {' '.join(str(error).split())} (completed runs are "
                f"kept in {store}; rerun the same command to resume)",
                file=sys.stderr,
            )
            return 1
        raise
    counts = table["status"].value_counts().to_dict()
    print(f"{len(table)} run(s): {counts}; table written to {table_path}", file=out)
    return 0


def main(argv=None):
    """``python -m neurosrnn.sweep FILE ...`` (same options as ``neurosrnn sweep``).

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 for an invalid sweep file, option or output
        location (nothing has run), 1 when a run failed (see `sweep_command`).
    """
    parser = argparse.ArgumentParser(prog="neurosrnn")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_sweep_subcommand(subparsers)
    arguments = parser.parse_args(["sweep", *(argv if argv is not None else sys.argv[1:])])
    return arguments.handler(arguments)
