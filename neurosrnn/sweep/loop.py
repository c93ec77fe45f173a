"""The run loop of a sweep: every (point, seed) once, through the results store.

Each run goes through `neurosrnn.sweep.store.ResultStore`: a run whose file is present
and verified is not recomputed; a missing, truncated or altered file is (re)computed
and written atomically. The analysis function is applied to the stored result on the
worker, and one row per run is gathered into a `pandas.DataFrame`.

Execution
---------
``run_sweep(..., scheduler=None)`` starts a `distributed.LocalCluster` with
`n_workers` single-threaded worker processes; ``scheduler="tcp://host:8786"``
connects to a running scheduler; a `distributed.Client` may be passed as well;
``scheduler="serial"`` runs everything in the calling process, one run after the
other (no Dask). If a worker dies mid-run, Dask reschedules its task on another
worker; since each run writes only its own file through a rename, the store ends up
with every run exactly once.

Several sweeps (or processes) may share one store: a run is claimed through its lock
file (`ResultStore.claim`) before it is computed, so each run is computed once; a
process that waited for the claim loads the result the other one wrote.
"""

from __future__ import annotations

import time

import numpy as np

from neurosrnn.progress import progress_bar
from neurosrnn.sweep.analysis import firing_statistics
from neurosrnn.sweep.store import ResultStore, run_key, to_jsonable
from neurosrnn.units import is_quantity
from neurosrnn.validation import check_output_folder

__all__ = ["run_one", "run_sweep"]


def _point_record(point):
    """Point as a JSON-able dict (quantities in SI units) for metadata and tables."""
    return {name: to_jsonable(value) for name, value in point.items()}


def _si_value(value):
    if is_quantity(value):
        return float(np.asarray(value)) if np.ndim(value) == 0 else np.asarray(value)
    return value


def _runner_identity(runner):
    identity = getattr(runner, "identity", None)
    if callable(identity):
        return identity()
    return {"runner": getattr(runner, "__qualname__", repr(runner))}


def run_one(runner, point, seed, store, analysis=firing_statistics, key=None):
    """Run (or load) one point and return its table row; used by every executor.

    The stored file is verified first: if complete, the run is skipped; if corrupt
    (truncated, altered or holding another run) it is deleted and recomputed. A run
    to compute is claimed first (`ResultStore.claim`): if another process computed it
    meanwhile, its result is loaded (status ``skipped``). A file of another format
    version is never overwritten: `UnsupportedFormatError` is raised. The analysis is
    always applied to the verified stored result, so a fresh run and a skipped one
    give identical rows.

    Parameters
    ----------
    runner : callable
        ``runner(point, seed) -> result`` (see `neurosrnn.sweep.runners`).
    point : dict
        Parameter point.
    seed : int
        Run seed.
    store : str, pathlib.Path or ResultStore
        Results store (a path on Dask workers).
    analysis : callable or None
        ``analysis(stored_result) -> dict`` of scalars.
    key : str, optional
        Run key (default: from the runner's identity, the point and the seed).

    Returns
    -------
    dict
        ``key``, ``seed``, ``status`` (``computed``, ``skipped`` or ``recomputed``),
        the parameter values (SI units), ``wall_time_s`` and the analysis columns.
    """
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    if key is None:
        key = run_key({"runner": _runner_identity(runner), "point": point, "seed": seed})
    status = "skipped"
    if store.status(key) != "complete":
        with store.claim(key):
            state = store.status(key)  # another process may have written it meanwhile
            if state == "unsupported":
                store.load(key)  # raises UnsupportedFormatError naming the versions
            if state != "complete":
                if state == "corrupt":
                    store.discard(key)
                start = time.perf_counter()
                result = runner(point, seed)
                wall_time = time.perf_counter() - start
                info = result.pop("info", {})
                store.save(
                    key,
                    result,
                    parameters=_point_record(point),
                    seed=seed,
                    device=getattr(runner, "device", type(runner).__name__),
                    wall_time=wall_time,
                    extra_metadata={"info": info, "runner": _runner_identity(runner)},
                )
                status = "recomputed" if state == "corrupt" else "computed"
    stored = store.load(key)
    row = {"key": key, "seed": seed, "status": status}
    row.update({name: _si_value(value) for name, value in point.items()})
    row["wall_time_s"] = stored["metadata"]["wall_time_s"]
    if analysis is not None:
        row.update(analysis(stored))
    return row


def _failure_message(key, point, seed, error):
    return (
        f"sweep run {key} failed (point {_point_record(point)}, seed {seed}): "
        f"{type(error).__name__}: {error}"
    )


def _open_client(scheduler, n_workers):
    """``(client, owned_objects)`` for a scheduler argument of `run_sweep`."""
    import logging

    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        return scheduler, []
    if isinstance(scheduler, str):
        client = Client(scheduler)
        return client, [client]
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    return client, [client, cluster]


def _checked_arguments(runner, points, seeds, n_workers, validate, store):
    """``(points, seeds)`` as lists, after the checks that come before any run or write."""
    points = list(points)
    if not points:
        raise ValueError("the sweep has no parameter points")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must contain at least one seed")
    if not isinstance(n_workers, int | np.integer) or n_workers <= 0:
        raise ValueError(f"n_workers must be a positive integer, got {n_workers!r}")
    if validate and hasattr(runner, "validate_point"):
        for point in points:
            runner.validate_point(point)
    if not isinstance(store, ResultStore):
        check_output_folder(store, "store")
    return points, seeds


def _sweep_tasks(runner, points, seeds):
    """``[(key, point, seed), ...]`` in the order of `points` then `seeds`; keys unique."""
    identity = _runner_identity(runner)
    tasks = [
        (run_key({"runner": identity, "point": point, "seed": seed}), point, seed)
        for point in points
        for seed in seeds
    ]
    keys = [task[0] for task in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("the sweep has duplicate (point, seed) pairs; make points distinct")
    return tasks


def _run_serial(runner, tasks, store, analysis, bar):
    """Rows by key, every run in this process, one after the other."""
    rows = {}
    for key, point, seed in tasks:
        try:
            rows[key] = run_one(runner, point, seed, store, analysis, key)
        except Exception as error:
            raise RuntimeError(_failure_message(key, point, seed, error)) from error
        bar.update(1)
    return rows


def _run_on_dask(runner, tasks, store, analysis, scheduler, n_workers, bar):
    """Rows by key, every run a Dask task (retried twice if its worker dies)."""
    from distributed import as_completed

    rows = {}
    client, owned = _open_client(scheduler, n_workers)
    try:
        futures = [
            client.submit(
                run_one,
                runner,
                point,
                seed,
                str(store.directory),
                analysis,
                key,
                key=f"neurosrnn-sweep-{key}",
                pure=False,
                retries=2,
            )  # fmt: skip
            for key, point, seed in tasks
        ]
        by_future = {future.key: task for future, task in zip(futures, tasks, strict=True)}
        for future in as_completed(futures):
            try:
                row = future.result()
            except Exception as error:
                key, point, seed = by_future[future.key]
                raise RuntimeError(_failure_message(key, point, seed, error)) from error
            rows[row["key"]] = row
            bar.update(1)
    finally:
        for item in owned:
            item.close()
    return rows


def run_sweep(runner, points, *, store, seeds=(0,), analysis=firing_statistics, scheduler=None,
              n_workers=2, progress=None, validate=True):  # fmt: skip
    """Run every point for every seed and gather one row per run into a table.

    Parameters
    ----------
    runner : callable
        ``runner(point, seed) -> result`` (picklable for Dask). A ``validate_point``
        method, if present, checks each point before anything runs; an ``identity``
        method gives the configuration that goes into the run keys.
    points : list of dict
        Parameter points (e.g. from `grid_points` or `random_points`); must be
        distinct.
    store : str, pathlib.Path or ResultStore
        Results store directory (checked with
        `neurosrnn.validation.check_output_folder` before anything runs; may be
        shared with other sweeps running at the same time).
    seeds : sequence of int
        Each point runs once per seed.
    analysis : callable or None
        ``analysis(stored_result) -> dict`` of scalars, applied on the worker.
    scheduler : None, "serial", str or distributed.Client
        None: a LocalCluster of `n_workers` processes; "serial": in this process,
        no Dask; an address: an existing scheduler; a Client: use it.
    n_workers : int
        Workers of the LocalCluster.
    progress : bool or None
        Progress bar on stderr (`neurosrnn.progress.progress_bar`): None (default) on an
        interactive terminal only, True always, False never.
    validate : bool
        Call ``runner.validate_point`` on every point first.

    Returns
    -------
    pandas.DataFrame
        One row per (point, seed), in the order of `points` then `seeds`: ``key``,
        ``seed``, ``status`` (``computed``, ``skipped`` or ``recomputed``), the
        parameter values (SI units), ``wall_time_s`` and the analysis columns.
        ``table.attrs["store"]`` is the store directory.
    """
    import pandas as pd

    points, seeds = _checked_arguments(runner, points, seeds, n_workers, validate, store)
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    tasks = _sweep_tasks(runner, points, seeds)
    with progress_bar(total=len(tasks), label="sweep", unit="runs", progress=progress) as bar:
        if scheduler == "serial":
            rows = _run_serial(runner, tasks, store, analysis, bar)
        else:
            rows = _run_on_dask(runner, tasks, store, analysis, scheduler, n_workers, bar)
    keys = [key for key, _, _ in tasks]
    # Every run of this sweep finished: temporary files left by killed writers can go
    # (a write in flight elsewhere holds its run's lock and is left alone).
    store.remove_temporary_files(keys=keys)
    table = pd.DataFrame([rows[key] for key in keys])
    table.attrs["store"] = str(store.directory)
    return table
