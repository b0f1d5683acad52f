"""Reading, writing and describing profile files: one-line errors naming the file and field,
atomic compact writes, the JSON schema."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import (
    ValidationError,
)

from sim.common.atomic import write_text_atomic
from sim.common.input_files import (
    PROFILE_MAX_BYTES,
    InputFileError,
    long_number_problem,
    read_input_text,
)
from sim.common.messages import field_path, one_line
from sim.profile.base import ProfileError
from sim.profile.model import Profile


def first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = field_path(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    return one_line(f"{loc}: {msg}" if loc else msg)


def load_profile(path: str | os.PathLike[str]) -> Profile:
    """Read and validate a profile file; ProfileError with file and field on any problem.
    Only a regular file of at most :data:`sim.common.input_files.PROFILE_MAX_BYTES` is read."""
    p = Path(path)
    try:
        text = read_input_text(p, "profile JSON", PROFILE_MAX_BYTES)
        raw = json.loads(text)
    except InputFileError as exc:
        raise ProfileError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{p}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except ValueError as exc:  # a number over the digit limit of int()
        raise ProfileError(f"{p}: {long_number_problem(text, exc)}") from None
    except RecursionError:
        raise ProfileError(f"{p}: nested too deeply to be a profile") from None
    try:
        return Profile.model_validate(raw)
    except ValidationError as exc:
        raise ProfileError(f"{p}: {first_error(exc)}") from None


def save_profile(profile: Profile, path: str | os.PathLike[str]) -> Path:
    """Write atomically (temp file + rename) so an interrupted run leaves no half file.

    Per-sample arrays are packed (sim.profile.packing) and lists of plain numbers stay on one line."""
    return write_text_atomic(path, dumps_compact(profile.model_dump(mode="json", exclude_none=True)) + "\n")


def dumps_compact(doc: Any, indent: int = 1, level: int = 0) -> str:
    """JSON with nested objects indented and lists of scalars on one line."""
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(doc, dict) and doc:
        items = [f"{inner}{json.dumps(k)}: {dumps_compact(v, indent, level + 1)}"
                 for k, v in doc.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(doc, list | tuple) and doc and any(isinstance(v, dict | list) for v in doc):
        items = [inner + dumps_compact(v, indent, level + 1) for v in doc]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(doc)


def profile_json_schema() -> dict[str, Any]:
    """JSON Schema of the profile format (shipped as profiles/schema.json)."""
    schema = Profile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mvsched profile"
    return schema


