"""Reading trace files (CSV with a header, or whitespace-separated columns) row by row, each
row checked as it is read, so a bad line is named with its file and line number."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path

from sim.common.input_files import TRACE_MAX_BYTES, InputFileError, read_input_text
from sim.common.messages import excerpt
from sim.traces.limits import MAX_POINTS, MAX_VALUE, TOO_BIG, TraceError, row_problem


def data_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, stripped text) of non-blank, non-comment lines; I/O errors name the file.
    Only a regular file of at most :data:`sim.common.input_files.TRACE_MAX_BYTES` is read (a FIFO
    or a device is refused before it is opened)."""
    try:
        content = read_input_text(path, "trace", TRACE_MAX_BYTES, encoding="utf-8-sig")
    except InputFileError as exc:
        raise TraceError(f"{path}: cannot read trace file: {exc.reason}") from None
    for lineno, raw in enumerate(content.split("\n"), start=1):
        text = raw.strip()
        if text and not text.startswith("#"):
            yield lineno, text


def checked_rows(
    path: Path, rows: Iterable[tuple[int, float, float]], *, nonneg_start: bool
) -> Iterator[tuple[float, float]]:
    """Validate (line, t, v) rows against the Trace contract, naming file and line."""
    prev: float | None = None
    for n, (lineno, t, v) in enumerate(rows):
        if n >= MAX_POINTS:
            raise TraceError(f"{path} line {lineno}: over {MAX_POINTS:,} data rows")
        reason = row_problem(prev, t, v)
        if reason is None and prev is None and nonneg_start and t < 0:
            reason = f"time must be >= 0, got {t:g}"
        if reason is None and v > MAX_VALUE:
            reason = f"value {TOO_BIG}, got {v:g}"
        if reason is not None:
            raise TraceError(f"{path} line {lineno}: {reason}")
        prev = t
        yield t, v
    if prev is None:
        raise TraceError(f"{path}: no data rows")


def csv_fields(path: Path, lineno: int, text: str) -> list[str]:
    """The fields of one CSV line; a line the csv module refuses (a field over its size
    limit) is a TraceError naming the line."""
    try:
        return next(csv.reader([text]))
    except csv.Error as exc:
        raise TraceError(f"{path} line {lineno}: not a CSV line ({exc})") from None


def read_csv(path: Path, column: str) -> Iterator[tuple[float, float]]:
    lines = data_lines(path)
    expected_header = f"a header naming columns 't_s' and '{column}'"
    try:
        header_line, header_text = next(lines)
    except StopIteration:
        raise TraceError(f"{path}: empty file, expected {expected_header}") from None
    header = [h.strip() for h in csv_fields(path, header_line, header_text)]
    if "t_s" not in header or column not in header:
        raise TraceError(
            f"{path} line {header_line}: expected {expected_header}, got {excerpt(header_text)}"
        )
    it, iv = header.index("t_s"), header.index(column)
    what = (
        "two numbers 't_s,value'"
        if header == ["t_s", column]
        else f"{len(header)} fields {excerpt(','.join(header))} with numbers in 't_s' and "
             f"{excerpt(column)}"
    )

    def rows() -> Iterator[tuple[int, float, float]]:
        for lineno, text in lines:
            fields = csv_fields(path, lineno, text)
            try:
                if len(fields) != len(header):
                    raise ValueError
                yield lineno, float(fields[it]), float(fields[iv])
            except ValueError:
                raise TraceError(f"{path} line {lineno}: expected {what}, got "
                                 f"{excerpt(text)}") from None

    yield from checked_rows(path, rows(), nonneg_start=True)


def read_whitespace(path: Path) -> Iterator[tuple[float, float]]:
    def rows() -> Iterator[tuple[int, float, float]]:
        for lineno, text in data_lines(path):
            fields = text.split()
            try:
                if len(fields) != 2:
                    raise ValueError
                yield lineno, float(fields[0]), float(fields[1])
            except ValueError:
                raise TraceError(
                    f"{path} line {lineno}: expected two numbers 'seconds value', got "
                    f"{excerpt(text)}"
                ) from None

    yield from checked_rows(path, rows(), nonneg_start=False)  # shifted to 0 by the caller


