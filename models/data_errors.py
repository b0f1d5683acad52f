"""The error of the data loaders (:mod:`models.data`, :mod:`models.data_readers`,
:mod:`models.data_wild`), in a module of its own so that the readers need not import the
loader that imports them. ``from models.data import DataError`` stays the public spelling."""

from __future__ import annotations

__all__ = ["DataError"]


class DataError(ValueError):
    """A data spec or data path that cannot be used; the message is one line."""
