# Deep Trance: `make run` opens the app, `make test` runs everything CI runs.
# Both set up .venv on first use and are quick no-ops for set-up afterwards.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_PIN := torch==2.13.0
# Band dream synthesiser; --no-deps skips pyaudio (live playback only, no Linux wheel).
TSF_PIN := tinysoundfont==0.3.7
# Debian/Ubuntu packages: PortAudio for sounddevice, the Qt xcb platform libraries, Xvfb for screenshots.
SYSTEM_PACKAGES := libportaudio2 libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 \
	libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 \
	libdbus-1-3 xvfb xauth
export PYTHONUNBUFFERED := 1

.PHONY: run test check lint typecheck contracts pytest bench screenshot package sysdeps venv clean help

help:
	@echo "make run      open Deep Trance with the demo clip"
	@echo "make test     ruff, mypy, import-linter, the bundle and the whole test suite (headless)"
	@echo "make check    the same without building the bundle (quick)"
	@echo "make bench    benchmarks (ratios against baselines measured in the same run)"
	@echo "make package  PyInstaller one-folder bundle in dist/DeepTrance"

venv: $(STAMP)

# CPU torch first: an unpinned torch resolves to the multi-GB CUDA build.
$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory sysdeps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_PIN)
	$(BIN)/python -m pip install -q --no-deps $(TSF_PIN)
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

# Installs what is missing when root; otherwise prints the exact command and carries on
# (the app runs muted without PortAudio; tests skip what needs it and say why).
sysdeps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
		echo "note: not a Debian/Ubuntu system; install PortAudio, the Qt xcb libraries and Xvfb yourself"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "installing system packages:$$missing"; \
		(apt-get install -y -q --no-install-recommends $$missing >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $$missing >/dev/null)) \
		 || echo "warning: could not install:$$missing"; \
	else \
		echo "missing system packages; run:"; \
		echo "  sudo apt-get install -y$$missing"; \
	fi

run: $(STAMP)
	$(BIN)/python -m deeptrance_gui $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check deeptrance_gui tests bench tools packaging

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

# Everything CI runs: static checks, the bundle, then the whole suite (bundle test included).
test: lint typecheck contracts package
	QT_QPA_PLATFORM=offscreen DEEPTRANCE_REQUIRE_BUNDLE=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

# The quick loop while developing: no bundle (its test is skipped).
check: lint typecheck contracts pytest

bench: $(STAMP)
	@for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

screenshot: $(STAMP)
	$(BIN)/python tools/screenshot.py docs/screenshot.png
	$(BIN)/python tools/screenshot.py docs/screenshot-band.png --band

package: $(STAMP)
	$(BIN)/pyinstaller --noconfirm --distpath dist --workpath build packaging/deeptrance.spec
	$(BIN)/python packaging/archive.py

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
