"""Reading a user's input file (scenario, sweep, profile, trace, importer source) safely.

Only regular files are read, up to a stated size: a path to ``/dev/zero`` (or a symlink to
it) would be read without end, a FIFO would block for ever, and a file far larger than any
real input exhausts memory before a parser could object. The file's kind is checked with
``os.stat`` (after symlinks) *before* it is opened, and again on the open file; a refusal is
one line naming the file and the limit. Every size limit is stated in the docs
(scenarios/README.md and profiles/README.md, "Input limits").

A message that quotes the content of such a file quotes a short, escaped excerpt
(:func:`sim.common.messages.excerpt`), never a whole line: a path given by mistake must not print
what the file holds.

Every read goes through :func:`read_input_bytes`, so a sweep can ship a run's files with it:
:func:`recording_inputs` collects what a block reads (absolute path -> bytes), and
:func:`input_overlay` makes such a collection the only source of the reads in a block, so a
worker on another machine reads the shipped bytes, never its own disk (there is no shared
filesystem to rely on). :func:`input_exists` and :func:`input_stems` answer from the same source.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from sim.common.messages import clip

__all__ = [
    "MB",
    "PROFILE_MAX_BYTES",
    "SOURCE_MAX_BYTES",
    "TRACE_MAX_BYTES",
    "YAML_MAX_BYTES",
    "InputFileError",
    "check_input_file",
    "input_exists",
    "input_key",
    "input_overlay",
    "input_stems",
    "long_number_problem",
    "read_input_bytes",
    "read_input_text",
    "recording_inputs",
]

MB = 1_000_000
YAML_MAX_BYTES = 10 * MB
"""Largest scenario or sweep YAML file (the shipped ones are under 10 kB)."""
PROFILE_MAX_BYTES = 200 * MB
"""Largest profile JSON file (the largest shipped one is under 150 kB; per-sample outcomes
of a large evaluation stay far below)."""
TRACE_MAX_BYTES = 200 * MB
"""Largest trace file (a trace holds at most 2,000,000 data rows, ~60 MB as text)."""
SOURCE_MAX_BYTES = 50 * MB
"""Largest source file an importer reads (the published ones are under 400 kB)."""

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_CHUNK = 1 << 20

_OVERLAY: ContextVar[Mapping[str, bytes] | None] = ContextVar("input_overlay", default=None)
_RECORDERS: ContextVar[tuple[dict[str, bytes], ...]] = ContextVar("input_recorders", default=())


class InputFileError(ValueError):
    """An input file that is refused before parsing; ``str()`` is ``"PATH: reason"``, and
    ``reason`` the part after the path."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def _limit(limit: int) -> str:
    return f"{limit / MB:g} MB" if limit >= MB else f"{limit:,} bytes"


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def _refuse_mode(path: Path, mode: int, what: str) -> None:
    if stat.S_ISDIR(mode):
        raise InputFileError(path, f"is a folder, expected a {what} file")
    if not stat.S_ISREG(mode):
        raise InputFileError(path, f"is {_kind(mode)}, not a regular file; expected a {what} "
                                   "file (only regular files are read)")


def _too_big(path: Path, size: int | None, what: str, limit: int) -> InputFileError:
    how = f"{size:,} bytes" if size is not None else "larger than that"
    return InputFileError(path, f"{how}, over the {_limit(limit)} limit of a {what} file")


def _os_problem(path: Path, exc: OSError) -> InputFileError:
    if isinstance(exc, FileNotFoundError):
        return InputFileError(path, "file not found")
    return InputFileError(path, f"cannot be read ({exc.strerror or type(exc).__name__})")


def input_key(path: str | os.PathLike[str]) -> str:
    """The name a file has in a recording or an overlay: its absolute, normalised path."""
    return os.path.abspath(os.fspath(path))


@contextmanager
def input_overlay(files: Mapping[str, bytes]) -> Iterator[None]:
    """Within the block, input files are read from ``files`` (:func:`input_key` -> content)
    and nowhere else: a file that is not there is not found, whatever the disk holds."""
    token = _OVERLAY.set(files)
    try:
        yield
    finally:
        _OVERLAY.reset(token)


@contextmanager
def recording_inputs() -> Iterator[dict[str, bytes]]:
    """Collect every input file read within the block (:func:`input_key` -> content). A file
    read again inside the block (or an enclosing recording) is served from the first read, so
    every check of the block sees one version of it."""
    seen: dict[str, bytes] = {}
    token = _RECORDERS.set((*_RECORDERS.get(), seen))
    try:
        yield seen
    finally:
        _RECORDERS.reset(token)


def _recorded(key: str) -> bytes | None:
    for seen in _RECORDERS.get():
        if key in seen:
            return seen[key]
    return None


def _shipped(path: Path, what: str, limit: int, files: Mapping[str, bytes]) -> bytes:
    """A file's content from an overlay, held to the limits of one on disk."""
    try:
        data = files[input_key(path)]
    except KeyError:
        raise InputFileError(path, "file not found") from None
    if len(data) > limit:
        raise _too_big(path, len(data), what, limit)
    return data


def input_exists(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` exists, as :func:`read_input_bytes` would see it (the overlay when one
    is installed)."""
    files = _OVERLAY.get()
    if files is not None:
        return input_key(path) in files
    return _recorded(input_key(path)) is not None or os.path.exists(path)


def input_stems(folder: Path, suffix: str) -> list[str]:
    """Sorted names without ``suffix`` of the files in ``folder`` that end in it (none when it
    is not a folder), as :func:`read_input_bytes` would see them; for hints in messages."""
    files = _OVERLAY.get()
    if files is None:
        return sorted(p.stem for p in folder.glob(f"*{suffix}")) if folder.is_dir() else []
    inside = input_key(folder)
    return sorted(Path(k).name.removesuffix(suffix) for k in files
                  if os.path.dirname(k) == inside and k.endswith(suffix))


def check_input_file(path: Path, what: str, limit: int) -> int:
    """The size of ``path`` when it is a regular file (after symlinks) of at most ``limit``
    bytes; else :class:`InputFileError` (``what``: "trace", "profile JSON", ...). Nothing
    is opened, so a FIFO never blocks. Under :func:`input_overlay`, the shipped file's size."""
    files = _OVERLAY.get()
    if files is not None:
        return len(_shipped(Path(path), what, limit, files))
    try:
        st = os.stat(path)
    except OSError as exc:
        raise _os_problem(path, exc) from None
    except ValueError:  # a NUL byte in the path
        raise InputFileError(path, "cannot be a file path (it holds a NUL byte)") from None
    _refuse_mode(path, st.st_mode, what)
    if st.st_size > limit:
        raise _too_big(path, st.st_size, what, limit)
    return st.st_size


def read_input_bytes(path: Path, what: str, limit: int) -> bytes:
    """The content of the regular file ``path``, at most ``limit`` bytes; see
    :func:`check_input_file`. Under :func:`input_overlay` the shipped bytes; within
    :func:`recording_inputs` a file already read there is not read again, and each read is
    recorded."""
    path = Path(path)
    files = _OVERLAY.get()
    key = input_key(path)
    if files is not None:
        data = _shipped(path, what, limit, files)
    else:
        known = _recorded(key)
        data = _read_disk(path, what, limit) if known is None else known
        if len(data) > limit:
            raise _too_big(path, len(data), what, limit)
    for seen in _RECORDERS.get():
        seen.setdefault(key, data)
    return data


def _read_disk(path: Path, what: str, limit: int) -> bytes:
    """The open file is checked again (a file swapped for a FIFO or a device between the two
    checks is refused) and read no further than the limit (a file that reports a size of 0,
    as /proc files do, cannot run on)."""
    check_input_file(path, what, limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _os_problem(path, exc) from None
    try:
        _refuse_mode(path, os.fstat(fd).st_mode, what)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise _os_problem(path, exc) from None
    finally:
        os.close(fd)
    if size > limit:
        raise _too_big(path, None, what, limit)
    return b"".join(chunks)


def read_input_text(path: Path, what: str, limit: int, encoding: str = "utf-8") -> str:
    """:func:`read_input_bytes` decoded like ``Path.read_text`` (universal newlines);
    bytes that are not UTF-8 are an :class:`InputFileError` naming the first bad byte."""
    data = read_input_bytes(path, what, limit)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputFileError(Path(path), f"not UTF-8 text (byte {exc.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


_DIGITS = re.compile(r"\d+")


def long_number_problem(text: str, exc: ValueError) -> str:
    """Why parsing ``text`` raised ``exc``, a plain ValueError (no parser error class): a
    number over Python's limit on digits of an integer (``line N: a number of D digits, ...``)
    when one is there, else the error's own words, clipped."""
    most = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
    if most:
        for m in _DIGITS.finditer(text):
            if m.end() - m.start() > most:
                line = text.count("\n", 0, m.start()) + 1
                return (f"line {line}: a number of {m.end() - m.start():,} digits; at most "
                        f"{most:,} digits are read")
    return clip(str(exc), 80)
