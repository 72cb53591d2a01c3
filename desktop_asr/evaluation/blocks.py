"""A report as a list of simple blocks, rendered to Markdown (with PNG files) and to HTML.

Both formats come from the same blocks, so the numbers in ``report.md`` and ``report.html``
cannot drift apart.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from typing import Sequence, Union

from desktop_asr.evaluation.alignment import (DELETE, EQUAL, INSERT, MARKS, SUBSTITUTE,
                                             AlignedWord, cell_width, text_rows, wrap_columns)


@dataclass(frozen=True)
class Heading:
    """A section title."""

    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    """Plain text (no markup)."""

    text: str


@dataclass(frozen=True)
class Bullets:
    """A list of plain-text items."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """Rows of plain-text cells; ``numeric`` columns are right-aligned."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()


@dataclass(frozen=True)
class Image:
    """A PNG: ``name`` is its file next to report.md; HTML embeds the bytes."""

    name: str
    alt: str
    data: bytes


@dataclass(frozen=True)
class Alignment:
    """A reference/hypothesis alignment with its errors highlighted."""

    title: str
    columns: tuple[AlignedWord, ...]


Block = Union[Heading, Paragraph, Bullets, Table, Image, Alignment]

_WRAP = 100


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_alignment_rows(columns: Sequence[AlignedWord]) -> list[str]:
    lines = []
    for ref, hyp, mark in text_rows(columns, _WRAP):
        lines += [f"REF: {ref}", f"HYP: {hyp}", f"     {mark}".rstrip(), ""]
    return lines[:-1]


def to_markdown(blocks: Sequence[Block]) -> str:
    """The blocks as GitHub-flavoured Markdown; images are referenced by file name."""
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Paragraph):
            out += [b.text, ""]
        elif isinstance(b, Bullets):
            out += [f"- {item}" for item in b.items] + [""]
        elif isinstance(b, Table):
            numeric = b.numeric or (False,) * len(b.headers)
            out.append("| " + " | ".join(_md_cell(h) for h in b.headers) + " |")
            out.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
            out.append("")
        elif isinstance(b, Image):
            out += [f"![{b.alt}]({b.name})", ""]
        elif isinstance(b, Alignment):
            out += [f"*{b.title}* (S substitution, D deletion, I insertion; `*` marks the "
                    "missing side)", "", "```", *_md_alignment_rows(b.columns), "```", ""]
    return "\n".join(out).rstrip() + "\n"


_CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 13px; color: #1b1b1b;
       margin: 18px; max-width: 1200px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 22px; } h3 { font-size: 15px; }
table { border-collapse: collapse; margin: 6px 0 12px 0; }
th, td { border: 1px solid #c8c8c8; padding: 3px 7px; }
th { background-color: #eef1f5; white-space: nowrap; }
td.num { text-align: right; }
pre.align { font-family: 'DejaVu Sans Mono', monospace; font-size: 12px;
            background-color: #f7f7f7; padding: 6px; border: 1px solid #ddd; }
span.sub { background-color: #ffe0a3; color: #6b3d00; }
span.del { background-color: #ffc9c9; color: #8b0000; }
span.ins { background-color: #c8f0c8; color: #0b5d0b; }
p.legend { font-size: 12px; color: #444; }
img { margin: 4px 0 10px 0; }
"""

_SPAN = {SUBSTITUTE: "sub", DELETE: "del", INSERT: "ins"}


def _html_alignment(columns: Sequence[AlignedWord]) -> str:
    lines: list[str] = []
    for line in wrap_columns(columns, _WRAP):
        ref, hyp, mark = [], [], []
        for col in line:
            width = cell_width(col)
            r = html.escape((col.ref or "*" * width).ljust(width))
            h = html.escape((col.hyp or "*" * width).ljust(width))
            if col.op != EQUAL:
                cls = _SPAN[col.op]
                r, h = f'<span class="{cls}">{r}</span>', f'<span class="{cls}">{h}</span>'
            ref.append(r)
            hyp.append(h)
            mark.append(MARKS[col.op].ljust(width))
        lines += ["REF: " + " ".join(ref), "HYP: " + " ".join(hyp),
                  ("     " + " ".join(mark)).rstrip(), ""]
    return '<pre class="align">' + "\n".join(lines).rstrip() + "</pre>"


def to_html(blocks: Sequence[Block], title: str) -> str:
    """The blocks as one self-contained HTML page (images embedded as base64 data URLs)."""
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{html.escape(title)}</title>", f"<style>{_CSS}</style></head><body>"]
    for b in blocks:
        if isinstance(b, Heading):
            level = min(max(b.level, 1), 6)
            out.append(f"<h{level}>{html.escape(b.text)}</h{level}>")
        elif isinstance(b, Paragraph):
            out.append(f"<p>{html.escape(b.text)}</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in b.items)
                       + "</ul>")
        elif isinstance(b, Table):
            numeric = b.numeric or (False,) * len(b.headers)
            head = "".join(f"<th>{html.escape(h)}</th>" for h in b.headers)
            body = "".join(
                "<tr>" + "".join(f'<td class="num" align="right">{html.escape(c)}</td>' if n
                                 else f"<td>{html.escape(c)}</td>"
                                 for c, n in zip(row, numeric)) + "</tr>"
                for row in b.rows)
            out.append('<table border="1" cellspacing="0" cellpadding="3">'
                       f"<tr>{head}</tr>{body}</table>")
        elif isinstance(b, Image):
            data = base64.b64encode(b.data).decode("ascii")
            out.append(f'<p><img src="data:image/png;base64,{data}" '
                       f'alt="{html.escape(b.alt)}" title="{html.escape(b.alt)}"></p>')
        elif isinstance(b, Alignment):
            out.append(f'<p class="legend"><b>{html.escape(b.title)}</b> — '
                       '<span class="sub">substitution</span> '
                       '<span class="del">deletion</span> '
                       '<span class="ins">insertion</span>; * marks the missing side</p>')
            out.append(_html_alignment(b.columns))
    out.append("</body></html>")
    return "\n".join(out) + "\n"
