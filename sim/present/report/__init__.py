"""``mvsched report DIR``: one page that describes a results folder, so a comparison, run,
emulation or sweep can be read, archived or sent without the folder beside it.

The page is built as a list of blocks (headings, text, tables, figures, code) and rendered
as Markdown (figures as links relative to the page) or as one self-contained HTML file
(figures as base64 data URIs). Everything above the last section is reproducible from the
folder; versions and wall-clock decision times go to that last, machine-dependent section.
"""

from sim.present.report.blocks import (
    EXPECTED,
    FORMATS,
    Block,
    Code,
    Figure,
    Heading,
    Items,
    ReportError,
    Table,
    Text,
)
from sim.present.report.render import render, write_report
from sim.present.report.sections import build_page, folder_kind, versions

__all__ = ["EXPECTED", "FORMATS", "Block", "Code", "Figure", "Heading", "Items", "ReportError",
           "Table", "Text", "build_page", "folder_kind", "render", "versions", "write_report"]
