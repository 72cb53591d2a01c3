"""Regenerate docs/screenshots/app-train.png: the Train page after a real, short fine-tune.

A dataset is imported from real read speech in ``../shared/testdata/speech`` (LibriVox and CMU
ARCTIC readers, JFK and a LibriSpeech utterance) with the real ``python -m training dataset
import``; five clips are pinned as held-out (two dev, three test) so the before/after is scored
on speech the model never trained on, and two other clips make the general reference set. The
page then runs the real fine-tune from its own Start button (tiny.en, decoder only, 5 epochs:
about a minute on two CPU cores), and the shot shows its progress bar, loss and dev-WER curves
and before/after lines exactly as the job reported them. Needs a display, e.g.::

    Xvfb :99 -screen 0 1280x800x24 &  XVFB=$!
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python docs/screenshots/make_train.py
    kill $XVFB
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path

from demo_home import use_demo_home

HERE = Path(__file__).resolve().parent
SPEECH = HERE.parents[2] / "shared" / "testdata" / "speech"
OUT = HERE / "app-train.png"
DATASET = "read-speech"
# Held out of training: scored before and after, never trained on.
DEV = ("librivox_sense_and_sensibility_0890.wav", "cmu_arctic_us_axb_a0005.wav")
TEST = ("librivox_sense_and_sensibility_0930.wav", "cmu_arctic_us_aew_a0002.wav",
        "cmu_arctic_us_axb_a0006.wav")
# General speech, also unseen: checks that nothing else was forgotten.
REFERENCE = ("OSR_us_000_0034_8k.wav", "pyannote_sample.wav")
log = logging.getLogger("make_train")


def _manifests(home: Path) -> tuple[Path, Path]:
    """The import list (English, one speaker, under 15 s) and the reference manifest."""
    rows = [json.loads(line) for line in (SPEECH / "manifest.jsonl").read_text().splitlines()
            if line.strip()]
    train = home / "import.jsonl"
    with train.open("w", encoding="utf-8") as out:
        for row in rows:
            if (row["language"] == "en" and row["speakers"] == 1 and row["text"]
                    and row["duration_s"] < 15):
                split = ("dev" if row["audio"] in DEV else "test" if row["audio"] in TEST
                         else "train")
                out.write(json.dumps({"audio": str(SPEECH / row["audio"]), "text": row["text"],
                                      "split": split}) + "\n")
    (home / "Documents").mkdir(exist_ok=True)
    reference = home / "Documents" / "general-speech.jsonl"
    with reference.open("w", encoding="utf-8") as out:
        for row in rows:
            if row["audio"] in REFERENCE:
                out.write(json.dumps({"audio": str(SPEECH / row["audio"]),
                                      "text": row["text"], "language": "en"}) + "\n")
    return train, reference


def main() -> int:
    """Import the dataset, run the fine-tune on the Train page, save the shot when it is done."""
    logging.basicConfig(level=logging.INFO)
    if not (SPEECH / "manifest.jsonl").is_file():
        log.error("real speech not found at %s", SPEECH)
        return 1
    home = use_demo_home()
    try:
        from desktop_asr.ui import dataset_store as store
        from desktop_asr.ui.progress import short_path

        imports, reference = _manifests(home)
        folder = store.datasets_root() / DATASET
        done = subprocess.run([sys.executable, "-m", "training", "dataset", "import",
                               str(imports), "--to", str(folder)],
                              check=True, capture_output=True, text=True)
        log.info("%s", done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "")

        from PySide6.QtCore import QTimer

        from desktop_asr.engines import EngineConfig
        from desktop_asr.ui import MainWindow
        from desktop_asr.ui.app import application

        app = application(sys.argv[:1])
        window = MainWindow(EngineConfig(device="cpu", cpu_threads=2))
        window.resize(1240, 740)
        window.show()
        window.pages.setCurrentWidget(window.training)
        page = window.training
        page.tabs.setCurrentWidget(page.train)
        panel = page.train
        panel.reload()
        panel.select_dataset(folder)
        panel.method.setCurrentIndex(panel.method.findData("freeze-encoder"))
        panel.epochs.setValue(5)
        panel.reference.setText(short_path(reference))
        started = time.monotonic()
        finished: list[dict] = []
        panel.job.finished.connect(finished.append)

        def snap() -> None:
            window.grab().save(str(OUT))
            log.info("saved %s", OUT)
            window.shutdown()
            window.close()

        def wait() -> None:
            if panel.job.running and time.monotonic() - started < 600:
                QTimer.singleShot(300, wait)
                return
            event = finished[0] if finished else {}
            if event.get("event") != "done":
                log.error("the fine-tune did not finish: %s", event or "timed out")
                window.shutdown()
                window.close()
                app.exit(1)
                return
            log.info("fine-tuned in %.0f s, %s step(s), best dev WER at step %s: %s",
                     time.monotonic() - started, event.get("steps"), event.get("best_step"),
                     panel.results.text().replace("\n", "; "))
            QTimer.singleShot(800, snap)

        QTimer.singleShot(500, panel.start)
        QTimer.singleShot(1500, wait)
        return int(app.exec())
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
