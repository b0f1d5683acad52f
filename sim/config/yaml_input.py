"""Reading a YAML input file (scenario, sweep) into plain data, every failure one line.

The operating system and PyYAML fail in many ways (missing file, folder, a device or FIFO, a
file over the size limit, bytes that are not UTF-8, absurd nesting, bad syntax, a number
over Python's digit limit); each becomes the caller's own error class naming the file.
Only regular files are read (:mod:`sim.common.input_files`); a message quotes at most a short,
escaped excerpt of the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from sim.common.input_files import (
    YAML_MAX_BYTES,
    InputFileError,
    long_number_problem,
    read_input_text,
)
from sim.common.messages import EXCERPT_CHARS, clip

__all__ = ["read_yaml", "yaml_problem"]


_QUOTED = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"")


def _short_quote(m: re.Match[str]) -> str:
    inner = m.group(1) if m.group(1) is not None else m.group(2)
    if len(inner) <= EXCERPT_CHARS:
        return m.group(0)
    q = m.group(0)[0]
    return f"{q}{inner[:EXCERPT_CHARS]}{q}..."


def yaml_problem(exc: yaml.YAMLError) -> tuple[int | None, str]:
    """(line, problem) of a PyYAML error: the line when known; the problem with what it
    quotes of the file (an alias, a tag, a character) cut to 40 characters, and at most
    120 characters in all."""
    mark = getattr(exc, "problem_mark", None)
    problem = _QUOTED.sub(_short_quote, str(getattr(exc, "problem", None) or "invalid YAML"))
    return (mark.line + 1 if mark is not None else None), clip(problem, 120)


def read_yaml(path: Path, what: str, error: type[ValueError]) -> Any:
    """The parsed content of ``path``, a ``what`` file ('scenario', 'sweep'); ``error`` with
    the file, the line when known, and the cause otherwise."""
    path = Path(path)
    try:
        text = read_input_text(path, f"{what} YAML", YAML_MAX_BYTES)
    except InputFileError as exc:
        raise error(str(exc)) from None
    try:
        return yaml.safe_load(text)
    except RecursionError:
        raise error(f"{path}: nested too deeply to be a {what}") from None
    except yaml.YAMLError as exc:
        line, problem = yaml_problem(exc)
        at = f" line {line}:" if line is not None else ""
        raise error(f"{path}:{at} not valid YAML ({problem})") from None
    except ValueError as exc:  # a number over the digit limit of int(), raised by the loader
        raise error(f"{path}: {long_number_problem(text, exc)}") from None

