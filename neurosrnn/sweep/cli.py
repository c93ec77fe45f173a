"""Command line of sweeps: ``neurosrnn sweep FILE`` and ``python -m neurosrnn.sweep FILE``.

The sweep file (`neurosrnn.sweep.spec`) is read and validated first; errors in it end
the command with status 2 and one message on stderr, before anything runs. The table
of the sweep (one row per run) is written atomically as CSV.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neurosrnn.atomic import atomic_write
from neurosrnn.sweep.loop import run_sweep
from neurosrnn.sweep.spec import load_sweep_file
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


def sweep_command(arguments, out=None):
    """Handler of ``neurosrnn sweep``; returns the process exit status.

    `out` is the stream for normal output (default: stdout); errors go to stderr.
    """
    out = out or sys.stdout
    try:
        spec = load_sweep_file(arguments.sweep_file)
    except (ValueError, OSError) as error:
        print(f"neurosrnn sweep: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # DimensionMismatchError and friends
        if type(error).__name__ == "DimensionMismatchError":
            print(f"neurosrnn sweep: error: {error}", file=sys.stderr)
            return 2
        raise
    store = arguments.store or spec.store
    workers = arguments.workers or spec.workers
    if workers <= 0:
        print("neurosrnn sweep: error: --workers must be > 0", file=sys.stderr)
        return 2
    table_path = Path(arguments.table or Path(store) / "table.csv")
    try:
        check_output_folder(store, "store")
        check_output_folder(table_path.parent, "--table folder")
    except (ValueError, OSError) as error:
        print(f"neurosrnn sweep: error: {error}", file=sys.stderr)
        return 2
    scheduler = arguments.scheduler or spec.scheduler
    n_runs = len(spec.points) * len(spec.seeds)
    if arguments.dry_run:
        print(f"{spec!r}\n{n_runs} run(s) into {store}", file=out)
        return 0
    table = run_sweep(
        spec.runner,
        spec.points,
        seeds=spec.seeds,
        store=store,
        scheduler=scheduler,
        n_workers=workers,
        progress=not arguments.quiet,
    )
    with atomic_write(table_path, "w") as handle:
        table.to_csv(handle, index=False)
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
        Exit status: 0 on success, 2 for an invalid sweep file or option.
    """
    parser = argparse.ArgumentParser(prog="neurosrnn")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_sweep_subcommand(subparsers)
    arguments = parser.parse_args(["sweep", *(argv if argv is not None else sys.argv[1:])])
    return arguments.handler(arguments)
