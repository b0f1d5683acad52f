"""``mvsched sweep``: a scenario over a grid of field values, scheduler parameters and seeds,
run in parallel, resumable, and summarised as one ``sweep.csv`` row per point.

A sweep file (YAML) names a scenario (relative to the sweep file), the seeds (``n``: the
scenario's seed and the next ``n - 1``, or a list), optionally the scheduler labels to run
(default: all the scenario lists), a ``grid`` of dotted scenario paths (:mod:`sim.config.overrides`)
to lists of values (their full product, for every scheduler) and ``params``: per scheduler
label, parameter lists whose product varies only that scheduler's runs. One run is a grid
point, a scheduler, its parameter point and a seed. Every point is validated by the scenario
itself before anything runs, so a typo costs an error line, not a half-finished sweep.

Each finished run is written atomically to ``OUT/runs/<key>.json`` (the key hashes the run's
identity), so a re-run after a kill computes only the runs whose file is missing. Runs are
deterministic, so the results do not depend on the executor that ran them. Runs go to workers
several to a task (:mod:`sim.results.sweep.batches`), each task with the files its runs read
when the sweep was loaded, and come back as records written here: a Dask cluster needs no
shared filesystem (:mod:`sim.results.sweep.execute`). A run file also
records the content of every profile and trace file the run read and the mvsched version
(:mod:`sim.results.sweep.trust`): a re-run recomputes the runs whose inputs changed since, and
``sweep.csv`` is made only of runs computed from the current ones. One sweep at a time
writes to a folder (:mod:`sim.results.sweep.lock`); a killed local sweep leaves no worker behind
(:mod:`sim.results.sweep.procs`).
"""


from sim.results.sweep.aggregate import aggregate
from sim.results.sweep.errors import SweepError
from sim.results.sweep.execute import run_one, run_sweep
from sim.results.sweep.load import load_sweep
from sim.results.sweep.spec import RunTask, Sweep, SweepResult, SweepSpec, run_key

__all__ = [
    "RunTask", "Sweep", "SweepError", "SweepResult", "SweepSpec", "aggregate", "load_sweep",
    "run_key", "run_one", "run_sweep",
]
