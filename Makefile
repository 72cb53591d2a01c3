# Shortcuts for the README commands (the scripts work without make too).
.PHONY: run test screenshots bench

run:  ## set everything up, then open the app (or the headless demo) on the bundled model
	installer/run.sh

test:  ## set everything up, then run the whole test suite headless (what CI runs)
	installer/test.sh

screenshots:  ## regenerate docs/screenshots from the real window under Xvfb
	docs/screenshots/make_all.sh

bench:  ## the WER/RTF and live-caption benchmarks on ../shared/testdata/speech
	.venv/bin/python benchmarks/wer.py --manifest ../shared/testdata/speech/manifest.jsonl
	.venv/bin/python benchmarks/live.py --manifest ../shared/testdata/speech/manifest.jsonl
