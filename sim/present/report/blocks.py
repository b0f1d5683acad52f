"""What a report page is made of: headings, text, lists, tables, figures and code blocks,
and the folder kinds a report describes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.common.messages import OneLineError

FORMATS = ("md", "html")
EXPECTED = {
    "comparison": "a comparison folder (comparison.csv from mvsched compare, or one run "
                  "folder per scheduler from mvsched run)",
    "sweep": "a sweep folder (sweep.csv)",
    "emulation": "an emulation folder (fidelity.csv and emulation.json)",
    "run": "a run folder (metrics.json)",
}
PACKAGES = ("mvsched", "numpy", "simpy", "scipy", "matplotlib")
TIMING = "decision_ms"
"""columns starting with it are wall-clock times: machine-dependent, kept out of the tables"""
LABELS = ("scheduler", "app")
CSS = ("body{font-family:sans-serif;max-width:75em;margin:2em auto;padding:0 1em}"
       "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
       "th,td{border:1px solid #ccc;padding:0.2em 0.5em;text-align:right}"
       "th:first-child,td:first-child{text-align:left}img{max-width:100%}"
       "pre{background:#f6f6f6;padding:1em;overflow:auto}"
       ".wide{overflow-x:auto;max-width:100%}th{position:sticky;top:0;background:#fff}")
"""a table wider than the page scrolls inside its own box instead of being cut off"""


class ReportError(OneLineError):
    """A folder the report cannot describe; the message names it and what was expected."""


@dataclass(frozen=True)
class Heading:
    """A section title; level 1 is the page's."""

    text: str
    level: int = 2


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Items:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """Cells already formatted; the renderer only escapes them."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Figure:
    """A PNG on disk: linked from Markdown, embedded in HTML."""

    alt: str
    path: Path


@dataclass(frozen=True)
class Code:
    text: str
    lang: str = "yaml"


Block = Heading | Text | Items | Table | Figure | Code


