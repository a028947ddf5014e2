# GridOps front door. The README's commands are these targets.
SHELL := /bin/bash
PY_SYS := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DATA ?= data/demo
APP_FONT := field_app/fonts/NotoSansSC-GridOps.otf

.PHONY: help demo serve test lint typecheck pytest bench system-deps venv clean qgis-plugin qgis-plugin-ts apk app-font field-app

help:
	@echo "make demo   - start the hub with the demo district on http://$(HOST):$(PORT)"
	@echo "make test   - install what is missing, then ruff, mypy and pytest"
	@echo "make bench  - run the benchmarks, write bench/results.json"
	@echo "make qgis-plugin - build dist/gridops-qgis-plugin-<version>.zip (Plugins > Install from ZIP)"
	@echo "make test-qgis-lts - the QGIS plugin's tests on QGIS 3.40 LTR (a Debian 13 chroot)"
	@echo "make field-app - run the field app on the desktop against make demo's hub"
	@echo "make apk    - build the field app's debug APK into dist/ (buildozer; downloads the Android SDK/NDK)"

system-deps:
	@bash .ci/system-deps.sh

$(VENV)/.stamp: pyproject.toml .ci/constraints.txt
	@test -x $(PY) || $(PY_SYS) -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c .ci/constraints.txt -e '.[hub,app,test]'
	@touch $@

venv: system-deps $(VENV)/.stamp

demo: venv
	$(VENV)/bin/gridops demo --data $(DATA) --host $(HOST) --port $(PORT)

serve: venv
	$(VENV)/bin/gridops serve --data $(DATA) --host $(HOST) --port $(PORT)

CODE_DIRS := $(wildcard sync tests bench qgis_plugin field_app packaging tools)

lint: venv
	$(VENV)/bin/ruff check $(CODE_DIRS)
	$(VENV)/bin/ruff format --check $(CODE_DIRS)

typecheck: venv
	$(VENV)/bin/mypy

pytest: venv $(APP_FONT)
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: venv
	$(PY) -m bench

# The field app's font (tools/make_app_font.py: Noto Sans SC subset, ~13 MB, built not committed).
$(APP_FONT): tools/make_app_font.py
	$(PY) tools/make_app_font.py

app-font: venv $(APP_FONT)

# The field app on the desktop, against `make demo`'s hub (start that first).
field-app: venv $(APP_FONT)
	$(PY) -m field_app --server http://$(HOST):$(PORT) --size 720x1280

# The version comes from qgis_plugin/metadata.txt; the script prints the zip it wrote.
qgis-plugin: system-deps
	$(PY_SYS) packaging/build_qgis_plugin.py --dist dist

# The plugin's tests on QGIS 3.40 LTR and Python 3.13, in a Debian 13 root kept in
# $(GRIDOPS_LTS_ROOT) (default /var/tmp/gridops-trixie); needs root or sudo (chroot).
.PHONY: test-qgis-lts
test-qgis-lts:
	bash .ci/qgis-lts.sh $(PYTEST_ARGS)

# Refresh qgis_plugin/i18n/*.ts from the source strings (translations already made are kept).
qgis-plugin-ts: system-deps
	$(PY_SYS) packaging/build_qgis_plugin.py --update-ts

# The field app's debug APK (docs/field-app-android.md): the app font, Debian build packages, the
# staged sources (build/android/src), buildozer in its own venv, python-for-android
# $(P4A_VERSION) unpacked from PyPI's source archive, then `buildozer -v android debug` in
# packaging/ (it downloads the Android SDK and NDK into ~/.buildozer on its first run).
# The APK lands in dist/. As root, buildozer's "running as root" question is answered.
APK_VENV := build/android/venv
BUILDOZER_VERSION := 1.6.0
P4A_VERSION := 2026.5.9
P4A_DIR := build/android/python-for-android

apk: app-font
	bash packaging/android/build-deps.sh
	$(PY_SYS) packaging/android/stage.py
	test -x $(APK_VENV)/bin/python || $(PY_SYS) -m venv $(APK_VENV)
	$(APK_VENV)/bin/pip install -q --upgrade pip
	$(APK_VENV)/bin/pip install -q "buildozer==$(BUILDOZER_VERSION)"
	test -f $(P4A_DIR)/setup.py || { rm -rf build/android/p4a-dl $(P4A_DIR) && \
	  $(APK_VENV)/bin/pip download -q --no-deps --no-binary :all: \
	    "python-for-android==$(P4A_VERSION)" -d build/android/p4a-dl && \
	  mkdir -p $(P4A_DIR) && \
	  tar -xzf build/android/p4a-dl/python_for_android-$(P4A_VERSION).tar.gz \
	    -C $(P4A_DIR) --strip-components=1; }
	cd packaging && PATH="$(abspath $(APK_VENV))/bin:$$PATH" VIRTUAL_ENV="$(abspath $(APK_VENV))" \
	  BUILDOZER_WARN_ON_ROOT=$$( [ "$$(id -u)" = 0 ] && echo 0 || echo 1 ) \
	  ../$(APK_VENV)/bin/buildozer -v android debug

clean:
	rm -rf $(VENV) build dist *.egg-info
