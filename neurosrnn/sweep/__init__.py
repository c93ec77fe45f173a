"""Parameter sweeps on dask.distributed, with a verified results store.

A sweep is a list of parameter points (a grid or a random sample), each run for one
or more seeds by a *runner*: any picklable callable ``runner(point, seed) -> result``
returning the spikes (and optionally monitored states) of one simulation. Each run goes
through a results store: a run whose file is present and verified is not recomputed; a
missing, truncated or altered file is (re)computed and written atomically. One row per
run is gathered into a `pandas.DataFrame`.

One module per concern; imports run one way, from the top of this list down:

- `neurosrnn.sweep.cli`: ``neurosrnn sweep FILE`` and ``python -m neurosrnn.sweep``;
- `neurosrnn.sweep.spec`: TOML sweep files, validated before anything runs;
- `neurosrnn.sweep.loop`: `run_sweep` and `run_one` (serial or on Dask);
- `neurosrnn.sweep.checkpoint`: checkpoint and resume of long event-driven runs;
- `neurosrnn.sweep.runners`: `Brian2NetworkRunner` (runtime or ``cpp_standalone`` with
  one build per worker) and `SparsePropRunner` (exact event-driven engine);
- `neurosrnn.sweep.points`: `grid_points`, `random_points`;
- `neurosrnn.sweep.analysis`: `firing_statistics`, the default table columns;
- `neurosrnn.sweep.store`: `ResultStore`, one checksummed NPZ file per run.

Slurm
-----
With ``dask-jobqueue`` (``pip install dask-jobqueue``)::

    from dask_jobqueue import SLURMCluster
    from distributed import Client
    cluster = SLURMCluster(cores=1, processes=1, memory="4GB", walltime="02:00:00",
                           job_extra_directives=["--partition=compute"])
    cluster.scale(jobs=32)          # 32 single-core Slurm jobs, one Dask worker each
    client = Client(cluster)
    table = run_sweep(runner, points, store="/shared/fs/results", scheduler=client)

The store directory must be on a file system every worker sees (rename is atomic
within one file system). Workers need the same Python environment (``pip install
neurosrnn[sweep]``). On the command line, start the scheduler and workers
(``dask scheduler``, ``srun dask worker ADDRESS --nthreads 1``) and pass
``--scheduler ADDRESS`` to ``neurosrnn sweep``.
"""

from neurosrnn.sweep.analysis import firing_statistics
from neurosrnn.sweep.checkpoint import (
    CheckpointDirectory,
    load_checkpointed_spikes,
    run_with_checkpoints,
    sparseprop_checkpointed_run,
)
from neurosrnn.sweep.cli import add_sweep_subcommand, sweep_command
from neurosrnn.sweep.loop import run_one, run_sweep
from neurosrnn.sweep.points import grid_points, random_points
from neurosrnn.sweep.runners import Brian2NetworkRunner, SparsePropRunner, clear_standalone_builds
from neurosrnn.sweep.spec import SweepSpecification, load_sweep_file
from neurosrnn.sweep.store import CorruptResultError, ResultStore, run_key

__all__ = [
    "grid_points",
    "random_points",
    "firing_statistics",
    "Brian2NetworkRunner",
    "SparsePropRunner",
    "clear_standalone_builds",
    "run_sweep",
    "run_one",
    "add_sweep_subcommand",
    "sweep_command",
    "ResultStore",
    "CorruptResultError",
    "run_key",
    "SweepSpecification",
    "load_sweep_file",
    "CheckpointDirectory",
    "run_with_checkpoints",
    "load_checkpointed_spikes",
    "sparseprop_checkpointed_run",
]
