# MUTT: two commands. `make run` brings the whole stack up; `make test` passes the tests.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.requirements.stamp

.PHONY: run test test-fast venv lint bench bench-ingest bench-classify bench-rules bench-forward stop clean
.PHONY: bench-dashboard

run: venv
	bash scripts/run.sh

test: venv
	bash scripts/test.sh $(PYTEST_ARGS)

# A developer's loop: every test that starts no Celery worker, server stack or browser
# (not marked integration), on the same per-worker PostgreSQL and Redis. CI runs `make test`.
test-fast: venv
	bash scripts/test.sh -m "not integration" $(PYTEST_ARGS)

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

# The front door alone against the running stack (`make run`, workers stopped for the published figures).
bench-ingest: venv
	@[ -f .run/env ] && . ./.run/env; $(VENV)/bin/python bench/ingest.py $(BENCH_ARGS)

# The rule engine alone (pure); classification end to end needs services.env sourced.
bench-rules: venv
	$(VENV)/bin/python bench/rule_engine.py

bench-classify: venv
	$(VENV)/bin/python bench/classify.py

# Forwarding drain and worker CPU at a rate limit (needs services.env sourced; uses its own database).
bench-forward: venv
	$(VENV)/bin/python bench/forward.py $(BENCH_ARGS)

# ---- issue 11: dashboard and status API over 10 million audit rows (needs services.env sourced) ----
bench-dashboard: venv
	$(VENV)/bin/python bench/dashboard.py $(BENCH_ARGS)

stop:
	bash scripts/services.sh stop .run/data

clean: stop
	bash scripts/services.sh stop .run/test
	rm -rf .run

# --- issue 8: bytes per audit row, raw_payload before/after (needs services.env sourced and a migrated database) ---
.PHONY: bench-storage
bench-storage: venv
	$(VENV)/bin/python bench/storage.py $(BENCH_ARGS)
# --- issue 9: operator API on 10M audit rows (needs services.env sourced; builds its own database once, ~5 min)
.PHONY: bench-api
bench-api: venv
	$(VENV)/bin/python bench/api.py $(BENCH_ARGS)
# --- end issue 9
# --- production runtime (issue 12) ---
RUN_DIR := $(or $(MUTT_RUN_DIR),.run)
.PHONY: status logs

# What `make run` supervises and the state of each process.
status: venv
	@if [ -S $(RUN_DIR)/supervisor.sock ] && $(VENV)/bin/supervisorctl -c $(RUN_DIR)/supervisord.conf pid >/dev/null 2>&1; then \
	  $(VENV)/bin/supervisorctl -c $(RUN_DIR)/supervisord.conf status; \
	else echo "MUTT is not running (make run)"; exit 1; fi

# Follow every process's log (.run/logs/).
logs:
	tail -n 50 -F $(RUN_DIR)/logs/*.log
# --- end production runtime ---
# --- issue 13: the reliability suite (own stack, ports and data dir; docs/reliability.md) ---
.PHONY: chaos
chaos: venv
	$(VENV)/bin/python -m chaos.run $(if $(SCENARIO),--scenario $(SCENARIO)) $(CHAOS_ARGS)
# --- end issue 13
