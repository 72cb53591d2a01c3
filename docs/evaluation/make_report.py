"""Regenerate docs/evaluation/: the evaluation report of the bundled tiny.en on the shared speech.

Runs the real ``desktop-asr evaluate`` on ``../shared/testdata/speech/manifest.jsonl``, copies
``report.md`` and its PNGs here, and renders ``report.html`` into PNG pages
(``report-page-N.png``) with Qt's HTML renderer, the one the app's Evaluate page shows it with.
Run from anywhere (the machine is shared, so timings are taken under the benchmark lock)::

    flock /tmp/desktop-asr-bench.lock env QT_QPA_PLATFORM=offscreen \\
        .venv/bin/python docs/evaluation/make_report.py
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MANIFEST = Path("..") / "shared" / "testdata" / "speech" / "manifest.jsonl"  # from REPO
PAGE_WIDTH, PAGE_HEIGHT = 1100, 1500
log = logging.getLogger("make_report")


def _shrink(path: Path) -> None:
    # A 256-colour palette keeps text and plots crisp at a fraction of the size.
    from PIL import Image

    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, format="PNG", optimize=True)


def render_pages(html: str, out: Path, prefix: str = "report-page") -> list[Path]:
    """Lay the HTML out on pages of PAGE_WIDTH x PAGE_HEIGHT pixels and save each as a PNG."""
    from PySide6.QtCore import QRectF, QSizeF
    from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QTextDocument

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    doc = QTextDocument()
    doc.setDocumentMargin(24)
    doc.setHtml(html)
    doc.setPageSize(QSizeF(PAGE_WIDTH, PAGE_HEIGHT))  # paginates at block boundaries
    pages = []
    for old in out.glob(f"{prefix}-*.png"):
        old.unlink()
    for index in range(doc.pageCount()):
        image = QImage(PAGE_WIDTH, PAGE_HEIGHT, QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.translate(0, -index * PAGE_HEIGHT)
        doc.drawContents(painter, QRectF(0, index * PAGE_HEIGHT, PAGE_WIDTH, PAGE_HEIGHT))
        painter.end()
        path = out / f"{prefix}-{index + 1}.png"
        image.save(str(path), "PNG")
        _shrink(path)
        pages.append(path)
    del app
    return pages


def main() -> int:
    """Evaluate, copy the Markdown report and its figures, render the HTML pages."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not (REPO / MANIFEST).is_file():
        log.error("real speech not found at %s", (REPO / MANIFEST).resolve())
        return 1
    env = dict(os.environ, DESKTOP_ASR_HOME=tempfile.mkdtemp(prefix="desktop-asr-eval-doc-"))
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, "-m", "desktop_asr", "evaluate", "--manifest",
                               str(MANIFEST), "--out", tmp, "--device", "cpu", "--threads", "2",
                               "-q"], cwd=REPO, env=env, text=True, capture_output=True)
        print(proc.stdout, end="")
        print(proc.stderr, end="", file=sys.stderr)
        if proc.returncode not in (0, 1):
            return proc.returncode
        for old in HERE.glob("*.png"):
            if not old.name.startswith("report-page-"):
                old.unlink()
        for src in Path(tmp).iterdir():
            if src.suffix == ".png" or src.name == "report.md":
                shutil.copy2(src, HERE / src.name)
        pages = render_pages((Path(tmp) / "report.html").read_text(encoding="utf-8"), HERE)
    log.info("wrote %s, its figures and %d page(s)", HERE / "report.md", len(pages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
