"""Profile format: round trip, shipped schema in step with the model, precise errors, and the
README's hand-written example."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sim.profile import (
    Profile,
    ProfileError,
    load_profile,
    profile_json_schema,
    save_profile,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "data" / "profiles"
PHONE = FIXTURES / "handwritten-phone.json"
README = ROOT / "profiles" / "README.md"
SCHEMA = ROOT / "profiles" / "schema.json"


def _phone() -> dict[str, Any]:
    return json.loads(PHONE.read_text())


def _readme_example() -> dict[str, Any]:
    blocks = re.findall(r"```json\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 1, "profiles/README.md must hold exactly one ```json example"
    return json.loads(blocks[0])


def test_round_trip_is_equal(tmp_path: Path) -> None:
    original = load_profile(PHONE)
    path = save_profile(original, tmp_path / "example-phone" / "mobilenet-nested.json")
    assert load_profile(path) == original
    assert not list(path.parent.glob("*.tmp")), "atomic save left a temp file behind"


def test_save_is_deterministic(tmp_path: Path) -> None:
    profile = load_profile(PHONE)
    a = save_profile(profile, tmp_path / "a.json").read_text()
    b = save_profile(Profile.model_validate(json.loads(a)), tmp_path / "b.json").read_text()
    assert a == b


def test_shipped_schema_matches_model() -> None:
    assert json.loads(SCHEMA.read_text()) == profile_json_schema(), (
        "profiles/schema.json is stale: python -m sim.profile --schema > profiles/schema.json"
    )


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.name)
def test_fixtures_validate_against_shipped_schema(path: Path) -> None:
    jsonschema.validate(json.loads(path.read_text()), json.loads(SCHEMA.read_text()))
    load_profile(path)


def test_schema_rejects_what_the_model_rejects() -> None:
    bad = _phone()
    bad["variants"][0]["top1"] = 1.5
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, json.loads(SCHEMA.read_text()))


def test_readme_example_is_the_fixture_and_loads(tmp_path: Path) -> None:
    example = _readme_example()
    assert example == _phone()
    path = tmp_path / "readme-example.json"
    path.write_text(json.dumps(example))
    profile = load_profile(path)
    assert profile.kind == "multi_capacity" and len(profile.variants) == 3
    assert profile.is_ancestor("small", "full")


def test_readme_documents_every_field() -> None:
    text = README.read_text()
    schema = profile_json_schema()
    names = set(schema["properties"])
    for definition in schema["$defs"].values():
        names |= set(definition.get("properties", {}))
    undocumented = sorted(n for n in names if f"`{n}`" not in text and f".{n}`" not in text)
    assert not undocumented, f"profiles/README.md does not document {undocumented}"


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node: Any = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


_DELETE = object()

# (case id, field path to change, new value, text the error must contain besides the file)
BROKEN = [
    ("missing-field", "task", _DELETE, "task: Field required"),
    ("missing-nested-field", "variants.1.weight_bytes", _DELETE, "variants[1].weight_bytes"),
    ("wrong-type", "task.classes", "many", "task.classes"),
    ("wrong-kind", "kind", "pruned", "kind"),
    ("unknown-key", "device.cores", 8, "device.cores"),
    ("negative-bytes", "variants.0.weight_bytes", -1, "variants[0].weight_bytes"),
    ("duplicate-ids", "variants.1.id", "small", "duplicate variant ids: ['small']"),
    ("unknown-parent", "variants.1.parent", "tiny", "variants[1].parent: 'tiny' is not a variant id"),
    ("top1-above-1", "variants.2.top1", 1.2, "variants[2].top1"),
    ("p10-above-median", "variants.0.latency_ms.p10", 7.0, "variants[0].latency_ms"),
    ("p90-below-median", "variants.0.latency_ms.p90", 6.0, "variants[0].latency_ms"),
    ("shared-above-weight", "variants.1.shared_bytes", 99999999, "variants[1].shared_bytes: exceeds"),
    ("outcomes-misaligned", "outcomes.correct.small", "101", "outcomes"),
    ("outcomes-unknown-variant", "outcomes.correct.huge", "1111111111", "unknown variants"),
    ("progressive-without-section", "kind", "progressive", "'progressive' section"),
    ("provenance-type", "provenance.type", "guessed", "provenance"),
]


@pytest.mark.parametrize(("path", "value", "expected"), [b[1:] for b in BROKEN],
                         ids=[b[0] for b in BROKEN])
def test_broken_profile_names_file_and_field(tmp_path: Path, path: str, value: Any,
                                             expected: str) -> None:
    doc = copy.deepcopy(_phone())
    _set(doc, path, value)
    target = tmp_path / "broken.json"
    target.write_text(json.dumps(doc))
    with pytest.raises(ProfileError) as info:
        load_profile(target)
    message = str(info.value)
    assert message.startswith(f"{target}: "), message
    assert expected in message, message
    assert "\n" not in message


def test_not_json_names_file_and_line(tmp_path: Path) -> None:
    target = tmp_path / "garbled.json"
    target.write_text('{"family": "x",\n  oops}')
    with pytest.raises(ProfileError, match=rf"^{re.escape(str(target))}: not valid JSON \(line 2"):
        load_profile(target)


def test_missing_file_names_file(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "x.json"
    with pytest.raises(ProfileError, match=rf"^{re.escape(str(target))}: file not found$"):
        load_profile(target)
