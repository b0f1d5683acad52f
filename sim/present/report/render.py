"""A report page rendered as Markdown (figures linked) or as one self-contained HTML file
(figures inlined), written atomically."""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from sim.common.atomic import remove_leftovers, write_text_atomic
from sim.present.report.blocks import (
    CSS,
    FORMATS,
    Block,
    Figure,
    Heading,
    Items,
    ReportError,
    Table,
    Text,
)
from sim.present.report.sections import build_page, relative_path


# -- rendering ----------------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "\n") \
        .replace("\r", "\n").replace("\n", "<br>")


def _md_inline(text: str) -> str:
    return " ".join(text.split())


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _md_block(block: Block, base: Path) -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + _md_inline(block.text)
    if isinstance(block, Text):
        return _md_inline(block.text)
    if isinstance(block, Items):
        return "\n".join(f"- {_md_inline(i)}" for i in block.items)
    if isinstance(block, Table):
        lines = [block.header, tuple("---" for _ in block.header), *block.rows]
        return "\n".join("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in lines)
    if isinstance(block, Figure):
        alt = re.sub(r"([\[\]\\])", r"\\\1", _md_inline(block.alt))
        return f"![{alt}]({quote(relative_path(block.path, base))})"
    fence = _fence(block.text)
    return f"{fence}{block.lang}\n{block.text.rstrip()}\n{fence}"


def _data_uri(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"{path}: cannot embed: {exc}") from None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _html_block(block: Block) -> str:
    e = html.escape
    if isinstance(block, Heading):
        return f"<h{block.level}>{e(block.text)}</h{block.level}>"
    if isinstance(block, Text):
        return f"<p>{e(block.text)}</p>"
    if isinstance(block, Items):
        return "<ul>" + "".join(f"<li>{e(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Table):
        head = "".join(f"<th>{e(c)}</th>" for c in block.header)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                       for row in block.rows)
        return (f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{body}'
                f"</tbody></table></div>")
    if isinstance(block, Figure):
        return (f'<figure><img alt="{e(block.alt)}" src="{_data_uri(block.path)}">'
                f"<figcaption>{e(block.alt)}</figcaption></figure>")
    return f'<pre><code class="language-{e(block.lang)}">{e(block.text)}</code></pre>'


def render(blocks: Iterable[Block], fmt: str = "md", base: str | os.PathLike[str] = ".") -> str:
    """The page as Markdown (figure links relative to ``base``, the page's folder) or as
    HTML with every figure embedded."""
    blocks = list(blocks)
    if fmt == "md":
        return "\n\n".join(_md_block(b, Path(base)) for b in blocks) + "\n"
    if fmt != "html":
        raise ReportError(f"format {fmt!r}: choose from {list(FORMATS)}")
    title = next((b.text for b in blocks if isinstance(b, Heading)), "mvsched report")
    body = "\n".join(_html_block(b) for b in blocks)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"{body}\n</body>\n</html>\n")


def write_report(folder: str | os.PathLike[str], fmt: str = "md",
                 out: str | os.PathLike[str] | None = None) -> Path:
    """Write the report of ``folder`` (default ``<folder>/report.<fmt>``) atomically; its
    figures go to ``<folder>/plots/`` only (:func:`sim.present.plots.draw`), and a link at the
    page's place is replaced, not followed."""
    if fmt not in FORMATS:
        raise ReportError(f"format {fmt!r}: choose from {list(FORMATS)}")
    target = Path(out) if out is not None else Path(folder) / f"report.{fmt}"
    if target.is_dir() and not target.is_symlink():
        raise ReportError(f"{target}: is a folder; give the page's file name")
    page = build_page(folder)
    remove_leftovers(target.parent, target.name)
    try:
        return write_text_atomic(target, render(page, fmt, target.parent))
    except OSError as exc:
        raise ReportError(f"{target.parent}: cannot write ({exc.strerror or exc})") from None
