"""PORTEND's exit counts -> an exit table (``outcomes.exit_table``), and a check of that
reading against the cascades the authors measured.

What the published counts mean. ``accuracy_exitrate/<model>_<dataset>_test.pkl`` holds, for
the exit after each block k and each threshold t, ``[count, correct]``: of the N evaluation
samples, ``count`` have a normalised entropy (entropy of the softmax / log(classes)) of at
most t *at exit k*, and ``correct`` of those are right there. Each exit is counted on its
own, not in a cascade: at t = 1 every exit counts (nearly) all N samples, and ``correct`` is
then that exit's own accuracy (700 / 25,000 for EfficientNet-B0's first exit, 18,499 for its
last), which a cascade (where every sample leaves at the first exit at t = 1) could not give.
The last exit counts every sample at every threshold (it always answers).

The reading (all of it derived, stated in each profile's ``extra.derived``):

- thresholds: PORTEND lets a frame leave when its normalised entropy is <= t; the table
  uses the confidence ``1 - normalised entropy`` and threshold ``1 - t`` (a frame leaves
  when its confidence is >= the threshold), so a higher threshold lets fewer frames go, as
  for every other profile.
- left_by: the fraction that has left by exit k is ``max_{j <= k} count_j(t) / N``. The
  authors' estimator (``estimate_exitrate_partitionwise_profiled``) reads ``count_k / N``,
  which assumes a sample confident at one exit is confident at every later one; the running
  maximum equals it wherever counts do not fall from one exit to the next, and where they do
  (a few places: EfficientNet-B7, the ResNets) it avoids the negative exit rate theirs gives.
- accuracy of the frames leaving at exit k (not the last): ``correct_k(t) / count_k(t)``, the
  exit's accuracy on the samples confident enough to leave there. (The authors' estimator
  uses each exit's accuracy over all samples, the t = 1 row, whatever the threshold.)
- final_accuracy of exit k (what the server's final exit answers for a frame that would
  have left at k): ``max(accuracy_k, A)``, A = the last exit's accuracy over all samples.
- accuracy of the frames that reach the last exit: what is left of the last exit's right
  answers, ``(A - sum_k leaving_k * final_accuracy_k) / remaining``, clamped to [0, 1].

``<model>_<dataset>_test_exp.pkl`` holds cascades the authors ran (two partitions, exits at
their ends); :func:`cascade_check` predicts each with the reading above (and with the
authors' estimator) and reports the errors in the profile's ``extra.exit_table_check``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.importers.portend_sources import CascadeRun, ExitCounts
from sim.profile import ExitTable

__all__ = ["CONFIDENCE", "cascade_check", "exit_table", "exit_top1"]

CONFIDENCE = ("1 - normalised entropy (entropy of the softmax / log(classes)); the source's "
              "entropy threshold t is 1 - threshold")


def _theta(t: float) -> float:
    return round(1.0 - t, 10)


def _row(ec: ExitCounts, t: float, exits: Sequence[int]) -> tuple[list[float], list[float | None], list[float | None]]:
    """(left_by, accuracy, final_accuracy) at source threshold ``t`` for a cascade with
    exits after the given blocks (0-based; the last is the last block)."""
    n = ec.samples
    last = ec.counts[exits[-1]]
    a_last = last[1.0][1] / n
    left_by: list[float] = []
    acc: list[float | None] = []
    fin: list[float | None] = []
    cum = 0
    used = 0.0  # sum of leaving * final accuracy over the early exits
    for k in exits[:-1]:
        count, correct = ec.counts[k][t]
        leaving = max(count, cum) - cum
        cum = max(count, cum)
        left_by.append(cum / n)
        own = correct / count if count else None
        acc.append(own)
        fin.append(max(own, a_last) if own is not None else None)
        if own is not None and leaving:  # frames leave only where the exit counted some
            used += leaving / n * max(own, a_last)
    remaining = (n - cum) / n
    at_last = min(1.0, max(0.0, (a_last - used) / remaining)) if remaining > 0 else None
    left_by.append(1.0)
    acc.append(at_last)
    fin.append(at_last)
    return left_by, acc, fin


def exit_table(ec: ExitCounts, names: Sequence[str]) -> ExitTable:
    """The exit table of every exit (``names``, one per block, the final exit last)."""
    exits = list(range(len(ec.counts)))
    rows = [(_theta(t), *_row(ec, t, exits)) for t in sorted(ec.thresholds, reverse=True)]
    return ExitTable(confidence=CONFIDENCE, exits=tuple(names),
                     thresholds=tuple(r[0] for r in rows),
                     left_by=tuple(tuple(r[1]) for r in rows),
                     accuracy=tuple(tuple(r[2]) for r in rows),
                     final_accuracy=tuple(tuple(r[3]) for r in rows))


def exit_top1(ec: ExitCounts, k: int) -> float | None:
    """Exit k's accuracy at threshold 1 (every sample it counted), None if it counted none."""
    count, correct = ec.counts[k][1.0]
    return correct / count if count else None


def cascade_check(ec: ExitCounts, runs: Sequence[CascadeRun]) -> dict[str, float | int]:
    """How well the exit-table reading (and the authors' estimator) predicts the measured
    cascades: accuracy errors in percentage points, exit-fraction errors as fractions."""
    ours: list[float] = []
    theirs: list[float] = []
    left_err: list[float] = []
    n = ec.samples
    for run in runs:
        if run.threshold not in ec.thresholds:
            continue
        exits = [e - 1 for e in run.ends]
        left_by, acc, _ = _row(ec, run.threshold, exits)
        prev = 0.0
        predicted = authors = 0.0
        prev_authors = 0.0
        for i, k in enumerate(exits):
            leaving = left_by[i] - prev
            prev = left_by[i]
            predicted += leaving * (acc[i] or 0.0)
            share = 1.0 - prev_authors if i == len(exits) - 1 else (
                ec.counts[k][run.threshold][0] / n - prev_authors)
            prev_authors += share
            count, correct = ec.counts[k][1.0]
            authors += share * (correct / count if count else 0.0)
            left_err.append(abs(leaving - run.left[i] / n))
        measured = run.correct / n
        ours.append(abs(predicted - measured) * 100.0)
        theirs.append(abs(authors - measured) * 100.0)
    if not ours:
        return {"runs": 0}
    return {
        "runs": len(ours),
        "accuracy_mae_pp": round(sum(ours) / len(ours), 3),
        "accuracy_max_error_pp": round(max(ours), 3),
        "authors_estimator_accuracy_mae_pp": round(sum(theirs) / len(theirs), 3),
        "authors_estimator_accuracy_max_error_pp": round(max(theirs), 3),
        "exit_fraction_max_error": round(max(left_err), 6),
    }
