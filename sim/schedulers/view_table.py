"""The fields a scheduler reads (:class:`SystemView`, :class:`AppView`) and writes
(:class:`Plan`, :class:`AppPlan`), as a table for README.md ("Your own scheduler").

Names and types come from the dataclass fields, each meaning from the attribute docstring
under the field in ``sim/schedulers/base.py`` (a field without one is an error here, so a new
field cannot go undocumented). Regenerate the README table (between
``<!-- view-fields:start -->`` and ``<!-- view-fields:end -->``) with
``python -m sim.schedulers.view_table``.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import textwrap

from sim.schedulers.base import AppPlan, AppView, Plan, SystemView

__all__ = ["CLASSES", "field_docs", "markdown_table"]

CLASSES: tuple[type, ...] = (SystemView, AppView, Plan, AppPlan)
"""the classes of the table, in its order"""


def field_docs(cls: type) -> dict[str, str]:
    """Field name -> its attribute docstring on one line, for a dataclass of ``cls``'s
    module; ValueError naming the field when one has none."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = next(n for n in tree.body if isinstance(n, ast.ClassDef)).body
    docs: dict[str, str] = {}
    for node, after in zip(body, [*body[1:], None]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)):
            docs[node.target.id] = " ".join(after.value.value.split())
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in docs]
    if missing:
        raise ValueError(f"{cls.__name__}: field(s) {', '.join(missing)} lack an attribute "
                         "docstring (a string on the line after the field)")
    return docs


def _markdown(text: str) -> str:
    """reST inline markup as Markdown, and no ``|`` to split a table cell."""
    text = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text).replace("``", "`")
    return text.replace("|", "or")


def markdown_table() -> str:
    """Every field of the classes in :data:`CLASSES`: class, field, type, meaning."""
    lines = ["| class | field | type | meaning |", "| --- | --- | --- | --- |"]
    for cls in CLASSES:
        docs = field_docs(cls)
        for f in dataclasses.fields(cls):
            typ = str(f.type).replace(" | ", " or ")
            lines.append(f"| `{cls.__name__}` | `{f.name}` | {typ} | {_markdown(docs[f.name])} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
