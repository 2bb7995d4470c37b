# b2binvoice — the README's two commands are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres bench check venv clean

run:
	@PYTHON=$(PYTHON) VENV=$(VENV) PORT=$(PORT) bash scripts/run.sh

test:
	@PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/test.sh

test-sqlite:
	@PYTHON=$(PYTHON) VENV=$(VENV) ONLY=sqlite bash scripts/test.sh

test-postgres:
	@PYTHON=$(PYTHON) VENV=$(VENV) ONLY=postgres bash scripts/test.sh

bench:
	@PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/bench.sh

check:
	@PYTHON=$(PYTHON) VENV=$(VENV) EXTRAS=test bash scripts/venv.sh
	$(VENV)/bin/python -m mypy
	$(VENV)/bin/python -m b2binvoice check
	$(VENV)/bin/python -m b2binvoice makemigrations --check --dry-run

venv:
	@PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/venv.sh

clean:
	rm -rf $(VENV) build *.egg-info test-results
