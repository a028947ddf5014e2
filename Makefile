# GridOps front door. The README's commands are these targets.
SHELL := /bin/bash
PY_SYS := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DATA ?= data/demo

.PHONY: help demo serve test lint typecheck pytest bench system-deps venv clean qgis-plugin qgis-plugin-ts

help:
	@echo "make demo   - start the hub with the demo district on http://$(HOST):$(PORT)"
	@echo "make test   - install what is missing, then ruff, mypy and pytest"
	@echo "make bench  - run the benchmarks, write bench/results.json"
	@echo "make qgis-plugin - build dist/gridops-qgis-plugin-<version>.zip (Plugins > Install from ZIP)"

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

pytest: venv
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: venv
	$(PY) -m bench

# The version comes from qgis_plugin/metadata.txt; the script prints the zip it wrote.
qgis-plugin: system-deps
	$(PY_SYS) packaging/build_qgis_plugin.py --dist dist

# Refresh qgis_plugin/i18n/*.ts from the source strings (translations already made are kept).
qgis-plugin-ts: system-deps
	$(PY_SYS) packaging/build_qgis_plugin.py --update-ts

clean:
	rm -rf $(VENV) build dist *.egg-info
