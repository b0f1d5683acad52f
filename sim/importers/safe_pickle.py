"""Reading a published Python pickle without running anything it names.

A pickle is a program: unpickling calls whatever callables the file names (``os.system``
among them). Some published measurements exist only as pickles of plain containers holding
numpy scalars or tensor shapes, so :func:`load_pickle` reads them with an unpickler that
resolves these names and no other:

- ``numpy.core.multiarray.scalar`` / ``numpy._core.multiarray.scalar`` (how numpy pickles a
  scalar: a dtype and its raw bytes),
- ``numpy.dtype`` (the dtype of such a scalar), and
- ``torch.Size`` (a tensor shape: a tuple of sizes).

Each is mapped to a small function of this module, never to numpy's or torch's (neither is
imported): a scalar is decoded from its bytes with :mod:`struct` into a plain ``int``,
``float`` or ``bool`` (numeric dtypes of 1 to 8 bytes only), a shape becomes a tuple of
non-negative ints. Every other global, persistent id or extension code is refused with an
:class:`~sim.importers.source.ImportDataError` naming the file, before anything is called.
The result must be plain data (dicts, lists, tuples, strings, numbers, None).
"""

from __future__ import annotations

import io
import math
import pickle
import struct
from pathlib import Path
from typing import Any

from sim.common.input_files import SOURCE_MAX_BYTES, InputFileError, read_input_bytes
from sim.common.messages import clip, excerpt
from sim.importers.source import ImportDataError

__all__ = ["ALLOWED_GLOBALS", "load_pickle", "loads_restricted"]

_FORMATS = {  # numpy dtype kind + item size -> struct format
    ("f", 2): "e", ("f", 4): "f", ("f", 8): "d",
    ("i", 1): "b", ("i", 2): "h", ("i", 4): "i", ("i", 8): "q",
    ("u", 1): "B", ("u", 2): "H", ("u", 4): "I", ("u", 8): "Q",
    ("b", 1): "?",
}
_MAX_DEPTH = 64


class _Dtype:
    """What ``numpy.dtype(spec, align, copy)`` stands for in a pickle: a numeric type name
    (``'f8'``, ``'i4'``, ...) and, once the pickle sets its state, its byte order."""

    __slots__ = ("kind", "size", "order")

    def __init__(self, spec: object, align: object = False, copy: object = False) -> None:
        if not isinstance(spec, str) or len(spec) < 2 or not spec[1:].isdigit():
            raise pickle.UnpicklingError(f"numpy.dtype({excerpt(repr(spec))}): not a plain "
                                         "numeric type")
        self.kind, self.size = spec[0], int(spec[1:])
        if (self.kind, self.size) not in _FORMATS:
            raise pickle.UnpicklingError(f"numpy.dtype({spec!r}): not a numeric type of 1 to "
                                         "8 bytes")
        self.order = "<" if self.size > 1 else "|"

    def __setstate__(self, state: object) -> None:
        # numpy's state: (version, byte order, subarray, names, fields, elsize, alignment,
        # flags[, metadata]); only a plain scalar type (no fields, no subarray) is accepted
        if (not isinstance(state, tuple) or len(state) < 8 or state[1] not in ("<", ">", "|", "=")
                or any(x is not None for x in state[2:5])):
            raise pickle.UnpicklingError("numpy.dtype state: not a plain numeric type")
        self.order = "<" if state[1] in ("|", "=") else state[1]


def _scalar(dtype: object, data: object) -> int | float | bool:
    """``numpy.core.multiarray.scalar(dtype, bytes)`` as a plain Python number."""
    if not isinstance(dtype, _Dtype) or not isinstance(data, bytes):
        raise pickle.UnpicklingError("numpy scalar: expected a dtype and its bytes")
    if len(data) != dtype.size:
        raise pickle.UnpicklingError(f"numpy scalar: {len(data)} bytes for a "
                                     f"{dtype.kind}{dtype.size} value")
    order = dtype.order if dtype.order in ("<", ">") else "<"
    value = struct.unpack(order + _FORMATS[(dtype.kind, dtype.size)], data)[0]
    if isinstance(value, float) and not math.isfinite(value):
        raise pickle.UnpicklingError("numpy scalar: not a finite number")
    return value


def _shape(dims: object = ()) -> tuple[int, ...]:
    """``torch.Size(dims)`` as a plain tuple of sizes."""
    if (not isinstance(dims, (tuple, list)) or len(dims) > 32
            or any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 2**62
                   for d in dims)):
        raise pickle.UnpicklingError("torch.Size: expected a short list of sizes >= 0")
    return tuple(dims)


ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy._core.multiarray", "scalar"): _scalar,
    ("numpy", "dtype"): _Dtype,
    ("torch", "Size"): _shape,
}
"""(module, name) -> the function of this module that stands for it; nothing else loads."""


class _Refused(pickle.UnpicklingError):
    """A global the file names that is not allowed (never resolved, never called)."""


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        found = ALLOWED_GLOBALS.get((module, name))
        if found is None:
            raise _Refused(f"it names {excerpt(f'{module}.{name}')}, which a published data "
                           "file has no reason to call (only numpy scalars and dtypes and "
                           "tensor shapes are read); refused, nothing was run")
        return found

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused("it holds a persistent id; refused, nothing was run")


def _plain(value: Any, depth: int = 0) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_plain(k, depth + 1) and _plain(v, depth + 1) for k, v in value.items())
    return False


def loads_restricted(data: bytes, where: str) -> Any:
    """The plain data pickled in ``data``; ImportDataError naming ``where`` otherwise."""
    try:
        value = _RestrictedUnpickler(io.BytesIO(data)).load()
    except _Refused as exc:
        raise ImportDataError(f"{where}: not loaded: {exc}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, struct.error, OverflowError, MemoryError,
            RecursionError) as exc:
        reason = clip(str(exc), 80) if str(exc) else type(exc).__name__
        raise ImportDataError(f"{where}: not a readable pickle of plain data ({reason})"
                              ) from None
    if not _plain(value):
        raise ImportDataError(f"{where}: expected plain data (dicts, lists, numbers, strings) "
                              "in the pickle")
    return value


def load_pickle(path: Path) -> Any:
    """The plain data of the pickle file ``path`` (a regular file of at most
    :data:`sim.common.input_files.SOURCE_MAX_BYTES`), read with the restricted unpickler."""
    try:
        data = read_input_bytes(Path(path), "published source", SOURCE_MAX_BYTES)
    except InputFileError as exc:
        if exc.reason == "file not found":
            raise ImportDataError(f"{path}: file not found (expected a published source file "
                                  "here)") from None
        raise ImportDataError(str(exc)) from None
    return loads_restricted(data, str(path))
