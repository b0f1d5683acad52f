"""The parameter table of every registered scheduler, for scenarios/README.md: type and
default from the signature, the allowed values from ``param_constraints``, the meaning from
``param_docs``.

Kept apart from :mod:`sim.schedulers.params` because it reads the registry, whose
``create_scheduler`` checks parameters with that module. Regenerate the README table
(between ``<!-- scheduler-params:start -->`` and ``<!-- scheduler-params:end -->``) with
``python -m sim.schedulers.param_table``.
"""

from __future__ import annotations

from sim.schedulers.params import describe
from sim.schedulers.registry import get_scheduler, list_schedulers

__all__ = ["markdown_table"]


def markdown_table() -> str:
    """The parameter table of every registered scheduler, for scenarios/README.md."""
    lines = ["| scheduler | parameter | type | default | allowed | meaning |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name in list_schedulers():
        params = describe(get_scheduler(name))
        if not params:
            lines.append(f"| `{name}` | (none) | | | | |")
        for p in params:
            default = "null" if p.default is None else (
                str(p.default).lower() if isinstance(p.default, bool) else repr(p.default))
            typ = p.type.replace("|", "or")
            lines.append(f"| `{name}` | `{p.name}` | {typ} | `{default}` | {p.allowed} | "
                         f"{p.doc} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
