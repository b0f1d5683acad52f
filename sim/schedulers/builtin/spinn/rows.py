"""The rows of SPINN's configuration table, one per threshold, for the device alone, one split
point, or cloud only: what :func:`sim.profile.routes.build_route` gives for each, summed over
the samples (None where it refuses). Without a threshold every sample does the same;
with one, :mod:`.sums` works out every threshold of a split at once."""

from __future__ import annotations

from collections.abc import Sequence

from sim.profile import ExitPoint, Profile
from sim.profile.routes import _split_map
from sim.schedulers.builtin.spinn.samples import ProfileSamples, SplitBytes
from sim.schedulers.builtin.spinn.sums import threshold_sums

__all__ = ["Row", "cloud_row", "device_rows", "split_rows"]

Row = tuple[float, float, float, float, float, float]
"""(mean device work s, fraction offloaded, mean bytes sent, server work s, accuracy, steady)"""


def _runnable(src: ProfileSamples,
              thresholds: Sequence[float | None]) -> list[tuple[int, float]]:
    """(index, threshold) of the thresholds (not None) build_route takes before it looks
    at exits."""
    if src.prog is None or src.n == 0:
        return []
    return [(i, th) for i, th in enumerate(thresholds) if th is not None and 0.0 <= th <= 1.0]


def _threshold_rows(src: ProfileSamples, rows: list[Row | None],
                    thresholds: Sequence[float | None], exits: list[ExitPoint],
                    ms: list[float], nbytes: SplitBytes | None, server_work: float,
                    after: Sequence[ExitPoint] = ()) -> None:
    """Fill ``rows`` at the runnable thresholds from :func:`.sums.threshold_sums` (refused
    where the fallback through the exits ``after`` the split cannot run)."""
    runnable = _runnable(src, thresholds)
    if not runnable:
        return
    ths = [th for _, th in runnable]
    sums = threshold_sums(src, exits, ms, nbytes, ths)
    refused = src.fallback_refused(after, ths)
    for j, (i, _) in enumerate(runnable):
        if sums.ok[j] and not refused[j]:
            rows[i] = (float(sums.work[j]), float(sums.offload[j]), float(sums.sent[j]),
                       server_work, float(sums.accuracy[j]), float(sums.steady[j]))


def _constant(src: ProfileSamples, work_s: float, offload: bool, sent: SplitBytes | float,
              server_work: float) -> Row:
    """A configuration without exits: every sample does the same work and goes the same way
    (``sent``: the bytes of a split, or the one value every sample sends)."""
    work = src.constant_sum(work_s) / src.size  # np.full(size, work_s).mean()
    if isinstance(sent, SplitBytes):
        sent_mean, sent_flat = sent.mean, sent.flat
    else:  # np.full(size, sent): its ptp is sent - sent
        sent_mean, sent_flat = src.constant_sum(sent) / src.size, sent - sent == 0
    steady = work_s - work_s == 0 and sent_flat
    accuracy = src.correct_count(src.v.id) / src.n if src.n else src.v.top1
    return (work, float(offload), sent_mean, server_work, accuracy, float(steady))


def device_rows(src: ProfileSamples, thresholds: Sequence[float | None]) -> list[Row | None]:
    """Device only: the whole variant without a threshold, else the exits then the final."""
    whole = _constant(src, src.full_ms / 1000.0, False, 0.0, 0.0)
    rows: list[Row | None] = [whole if th is None else None for th in thresholds]
    ms = [e.device_ms for e in src.early] + [src.final_ms]
    _threshold_rows(src, rows, thresholds, src.early, ms, None, 0.0)
    return rows


def split_rows(src: ProfileSamples, split: str, server: Profile,
                thresholds: Sequence[float | None]) -> list[Row | None]:
    """Split at ``split``: without a threshold no exit head runs (the prefix less the heads),
    else the exits before the split, then the rest is offloaded; refused where the server
    has no time for the split or the fallback through the later exits cannot run."""
    prog = src.prog
    assert prog is not None
    sp = _split_map(src.profile)[split]
    srv = _split_map(server).get(split)
    if srv is None or srv.server_ms is None:
        return [None] * len(thresholds)
    enc = sp.encode_ms if sp.encode_ms is not None else prog.codec_encode_ms
    dec = (srv.decode_ms if srv.decode_ms is not None
           else server.progressive.codec_decode_ms)  # type: ignore[union-attr]
    server_work = (dec + srv.server_ms) / 1000.0
    nbytes = src.split_bytes(split)
    before = [e for e in src.early if e.flops_fraction <= sp.flops_fraction]
    after = [e for e in src.early if e.flops_fraction > sp.flops_fraction]
    rows: list[Row | None] = [None] * len(thresholds)
    if None in thresholds:
        prefix = max(0.0, sp.device_ms - sum(e.head_ms or 0.0 for e in before))
        whole = _constant(src, (prefix + enc) / 1000.0, True, nbytes, server_work)
        rows = [whole if th is None else None for th in thresholds]
    ms = [e.device_ms for e in before] + [sp.device_ms + enc]
    _threshold_rows(src, rows, thresholds, before, ms, nbytes, server_work,
                    after=after)
    return rows


def cloud_row(src: ProfileSamples, server: Profile, upload_bytes: float | None) -> Row | None:
    """Cloud only: the camera frame sent, the whole variant on the server."""
    assert src.prog is not None
    nbytes = upload_bytes if upload_bytes is not None else src.prog.input_bytes
    try:
        srv_ms = server.variant(src.variant).latency_ms.median
    except KeyError:
        return None
    return _constant(src, 0.0, True, float(nbytes), srv_ms / 1000.0)
