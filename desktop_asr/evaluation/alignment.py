"""Word alignments of a hypothesis to its reference (jiwer aligns) and the errors they hold."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import jiwer

EQUAL, SUBSTITUTE, DELETE, INSERT = "equal", "substitute", "delete", "insert"
OPS = (EQUAL, SUBSTITUTE, DELETE, INSERT)
MARKS = {EQUAL: " ", SUBSTITUTE: "S", DELETE: "D", INSERT: "I"}


@dataclass(frozen=True)
class AlignedWord:
    """One column of an alignment: a reference word, a hypothesis word, or both."""

    op: str
    ref: str = ""
    hyp: str = ""

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown alignment op {self.op!r}")
        if (self.op in (EQUAL, SUBSTITUTE, DELETE)) != bool(self.ref):
            raise ValueError(f"{self.op} needs a reference word exactly when it has one")
        if (self.op in (EQUAL, SUBSTITUTE, INSERT)) != bool(self.hyp):
            raise ValueError(f"{self.op} needs a hypothesis word exactly when it has one")


def _columns(ref: Sequence[str], hyp: Sequence[str],
             chunks: Iterable[jiwer.AlignmentChunk]) -> tuple[AlignedWord, ...]:
    out: list[AlignedWord] = []
    for c in chunks:
        r, h = ref[c.ref_start_idx:c.ref_end_idx], hyp[c.hyp_start_idx:c.hyp_end_idx]
        if c.type in (EQUAL, SUBSTITUTE):
            out.extend(AlignedWord(c.type, a, b) for a, b in zip(r, h))
        elif c.type == DELETE:
            out.extend(AlignedWord(DELETE, ref=a) for a in r)
        else:
            out.extend(AlignedWord(INSERT, hyp=b) for b in h)
    return tuple(out)


def align_many(references: Sequence[str], hypotheses: Sequence[str]
               ) -> list[tuple[AlignedWord, ...]]:
    """Align each normalised hypothesis with its reference (one jiwer call for all pairs)."""
    if not references:
        return []
    out = jiwer.process_words(list(references), list(hypotheses))
    return [_columns(r, h, a) for r, h, a in zip(out.references, out.hypotheses, out.alignments)]


def align(reference: str, hypothesis: str) -> tuple[AlignedWord, ...]:
    """Align one normalised hypothesis with its reference."""
    return align_many([reference], [hypothesis])[0]


@dataclass(frozen=True)
class ErrorTally:
    """How often each substitution (ref, hyp), deletion and insertion occurred."""

    substitutions: tuple[tuple[tuple[str, str], int], ...]
    deletions: tuple[tuple[str, int], ...]
    insertions: tuple[tuple[str, int], ...]


def tally_errors(alignments: Iterable[Sequence[AlignedWord]]) -> ErrorTally:
    """Count every error kind over many alignments, most frequent first (ties alphabetical)."""
    subs: Counter[tuple[str, str]] = Counter()
    dels: Counter[str] = Counter()
    ins: Counter[str] = Counter()
    for columns in alignments:
        for col in columns:
            if col.op == SUBSTITUTE:
                subs[(col.ref, col.hyp)] += 1
            elif col.op == DELETE:
                dels[col.ref] += 1
            elif col.op == INSERT:
                ins[col.hyp] += 1

    def ranked(counter: Counter) -> tuple:
        return tuple(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))

    return ErrorTally(ranked(subs), ranked(dels), ranked(ins))


def cell_width(col: AlignedWord) -> int:
    """Characters a column needs so its reference and hypothesis words line up."""
    return max(len(col.ref), len(col.hyp), 1)


def wrap_columns(columns: Sequence[AlignedWord], width: int = 96
                 ) -> list[list[AlignedWord]]:
    """Split an alignment into lines of at most ``width`` characters (a long word gets its own)."""
    lines: list[list[AlignedWord]] = []
    used = 0
    for col in columns:
        cell = cell_width(col)
        if not lines or (used and used + cell + 1 > width):
            lines.append([])
            used = 0
        lines[-1].append(col)
        used += cell + 1
    return lines


def text_rows(columns: Sequence[AlignedWord], width: int = 96) -> list[tuple[str, str, str]]:
    """REF / HYP / marker lines of a plain-text alignment, wrapped at ``width`` characters."""
    rows = []
    for line in wrap_columns(columns, width):
        ref = " ".join((c.ref or "*" * cell_width(c)).ljust(cell_width(c)) for c in line)
        hyp = " ".join((c.hyp or "*" * cell_width(c)).ljust(cell_width(c)) for c in line)
        mark = " ".join(MARKS[c.op].ljust(cell_width(c)) for c in line)
        rows.append((ref.rstrip(), hyp.rstrip(), mark.rstrip()))
    return rows


def word_error_flags(words: Sequence[str], columns: Sequence[AlignedWord],
                     normalizer: Callable[[str], str]) -> list[bool] | None:
    """Which hypothesis words (as the engine wrote them) took part in an error.

    Each word is normalised on its own and matched, token by token, to the hypothesis side of
    the alignment; None when the tokens do not line up (the normaliser merged or split words
    across word boundaries), so callers can draw the words without colours.
    """
    hyp_ops = [c.op for c in columns if c.op != DELETE]
    flags: list[bool] = []
    at = 0
    for word in words:
        n = len(normalizer(word).split())
        taken = hyp_ops[at:at + n]
        if len(taken) != n:
            return None
        flags.append(any(op != EQUAL for op in taken))
        at += n
    return flags if at == len(hyp_ops) else None
