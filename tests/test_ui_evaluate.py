"""The Evaluate page driven like a person would: real window, real tiny.en, espeak speech."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jiwer
import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QTextDocument

from desktop_asr.engines import EngineConfig
from desktop_asr.models import bundled_model_path
from desktop_asr.ui import MainWindow

CONFIG = EngineConfig(device="cpu", compute_type="int8", cpu_threads=2)
TIMEOUT_MS = 180_000
SENTENCES = ("Please send the quarterly report to Margaret before Friday afternoon.",
             "Kubernetes clusters scale automatically when traffic grows.",
             "Our garden needs rain after a long and very dry summer.",
             "The library opens early on Saturday and closes late on Sunday.",
             "Remember to water the plants and feed the cat while I am away.")


@pytest.fixture
def window(qtbot):
    """The real main window on the CPU; its worker threads are joined after the test."""
    win = MainWindow(CONFIG)
    win.show()
    qtbot.waitExposed(win)
    win.show_evaluate()
    yield win
    win.shutdown()
    win.close()
    assert not win.evaluate.runner.thread_running
    win.deleteLater()


def _manifest(tmp_path: Path, spoken, sentences, *, bad_line: bool = False) -> Path:
    lines = [json.dumps({"audio": str(spoken(s)), "text": s, "language": "en"})
             for s in sentences]
    if bad_line:
        lines.insert(1, json.dumps({"audio": str(tmp_path / "gone.wav"), "text": "lost words"}))
    path = tmp_path / "manifest.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


@pytest.mark.slow
def test_evaluate_page_runs_shows_and_exports_the_report(qtbot, window, spoken,
                                                          tmp_path) -> None:
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    page = window.evaluate
    manifest = _manifest(tmp_path, spoken, SENTENCES[:2], bad_line=True)
    assert not page.run_button.isEnabled()  # no manifest yet
    qtbot.keyClicks(page.manifest_edit, str(manifest))
    assert [s.model for s in page.selected_specs()] == ["tiny.en"]  # the bundled model
    # The same model once more, by its folder: two columns that must agree.
    folder = str(bundled_model_path())
    qtbot.keyClicks(page.model_edit, folder)
    _click(qtbot, page.add_button)
    assert [s.model for s in page.selected_specs()] == ["tiny.en", folder]
    window.show_sessions()
    window.show_evaluate()  # the list is reloaded on show; the ticks stay
    assert [s.model for s in page.selected_specs()] == ["tiny.en", folder]
    _click(qtbot, page.run_button)
    assert page.busy and page.cancel_button.isEnabled() and not page.run_button.isEnabled()
    qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT_MS)
    assert page.run_button.isEnabled() and page.export_button.isEnabled()
    assert page.status.text().startswith("Finished")

    result = page.last.result
    model, again = result.models
    assert [c.hypothesis for c in again.scored] == [c.hypothesis for c in model.scored]
    norm = EnglishTextNormalizer({})
    refs = [norm(c.entry.reference) for c in model.scored]
    hyps = [norm(c.hypothesis) for c in model.scored]
    assert len(refs) == 2
    shown = page.report.toPlainText()
    assert "Summary" in shown and "tiny.en" in shown
    wer = f"{100 * jiwer.wer(refs, hyps):.1f}"
    cer = f"{100 * jiwer.cer(refs, hyps):.1f}"
    summary = shown.split("Summary", 1)[1].split("WER, CER, MER", 1)[0]
    assert wer in summary and cer in summary, summary
    # The bad line is named, with its number, in the one error banner and in the report.
    assert re.search(rf"{re.escape(str(manifest))}:2: audio file not found", window.banner.text())
    assert "gone.wav" in shown.split("Problems", 1)[1]
    # The plots are rendered by the view itself from the embedded PNGs.
    sources = re.findall(r'<img src="(data:image/png;base64,[^"]+)"', page.last.html)
    assert sources
    image = page.report.document().resource(QTextDocument.ResourceType.ImageResource.value,
                                            QUrl(sources[0]))
    assert image is not None and not image.isNull() and image.width() > 500

    exported = page.export_to(tmp_path / "exported")
    names = {p.name for p in exported}
    assert {"report.html", "report.md", "results.json"} <= names
    assert any(n.endswith(".png") for n in names)
    for path in exported:
        assert path.read_bytes() == (page.last.files.html.parent / path.name).read_bytes()


@pytest.mark.slow
def test_cancel_stops_between_clips_and_a_missing_manifest_is_reported(qtbot, window, spoken,
                                                                      tmp_path) -> None:
    page = window.evaluate
    page.set_manifest(tmp_path / "nope.jsonl")
    _click(qtbot, page.run_button)
    assert not page.busy and "nope.jsonl" in window.banner.text()

    page.set_manifest(_manifest(tmp_path, spoken, SENTENCES))
    _click(qtbot, page.run_button)
    qtbot.waitUntil(lambda: page.progress.value() > 0, timeout=TIMEOUT_MS)  # a clip is done
    _click(qtbot, page.cancel_button)
    assert not page.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT_MS)
    result = page.last.result
    assert result.cancelled and page.status.text().startswith("Cancelled")
    assert 1 <= len(result.models[0].scored) < len(SENTENCES)
    assert "CANCELLED" in page.report.toPlainText()
    assert page.run_button.isEnabled()
