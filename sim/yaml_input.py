"""Reading a YAML input file (scenario, sweep) into plain data, every failure one line.

The operating system and PyYAML fail in many ways (missing file, folder, bytes that are not
UTF-8, absurd nesting, bad syntax); each becomes the caller's own error class naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["read_yaml"]


def read_yaml(path: Path, what: str, error: type[ValueError]) -> Any:
    """The parsed content of ``path``, a ``what`` file ('scenario', 'sweep'); ``error`` with
    the file, the line when known, and the cause otherwise."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, expected a {what} YAML file") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise error(f"{path}: nested too deeply to be a {what}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise error(f"{path}:{line}: not valid YAML ({problem})") from None
