# b2binvoice — the README's two commands are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres test-live bench check venv clean

run:
	@PYTHON=$(PYTHON) VENV=$(VENV) PORT=$(PORT) bash scripts/run.sh

test:
	@PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/test.sh

test-sqlite:
	@PYTHON=$(PYTHON) VENV=$(VENV) ONLY=sqlite bash scripts/test.sh

test-postgres:
	@PYTHON=$(PYTHON) VENV=$(VENV) ONLY=postgres bash scripts/test.sh

# The client's contract tests against a real B2Brouter (B2BROUTER_LIVE_API_KEY, _ACCOUNT_ID,
# optional _BASE_URL); without credentials it prints one line and succeeds.
test-live:
	@PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/test-live.sh

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
