# MUTT: two commands. `make run` brings the whole stack up; `make test` passes the tests.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.requirements.stamp

.PHONY: run test venv lint bench bench-ingest bench-classify bench-rules stop clean

run: venv
	bash scripts/run.sh

test: venv
	bash scripts/test.sh $(PYTEST_ARGS)

venv: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "python venv missing: installing python3-venv"; apt-get update -qq && apt-get install -y -qq python3-venv; $(PYTHON) -m venv $(VENV); }
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	@touch $(STAMP)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: venv
	bash scripts/bench.sh

stop:
	bash scripts/services.sh stop .run/data

clean: stop
	rm -rf .run
