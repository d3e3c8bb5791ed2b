# territoires — two commands on a fresh machine with Python 3.11+:
#   make report   build the warehouse from the embedded data and write the dashboards
#   make test     run the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.installed
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: install report build test lab bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ requis (trouvé %s)" % sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installation des dépendances dans $(VENV) …"
	@$(PIP) install --upgrade pip
	@$(PIP) install -e '.[dev]'
	@$(PY) -m ipykernel install --sys-prefix --name territoires --display-name "Python (territoires)" >/dev/null
	@touch $(STAMP)

install: $(STAMP)

build: $(STAMP)
	@$(VENV)/bin/territoires build

report: build
	@$(VENV)/bin/territoires report --scope all --jobs $(JOBS)

test: $(STAMP)
	@$(PY) -m pytest -q -n $(JOBS) --dist loadfile

lab: $(STAMP)
	@$(PIP) install -e '.[lab,dev]'
	@$(VENV)/bin/jupyter lab --notebook-dir=notebooks

bench: $(STAMP)
	@$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) data/processed/*.duckdb* data/processed/registres-valides reports/* audit/
