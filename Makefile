# The two set-up commands: `make run` and `make test`. Everything else here serves them.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PGPORT ?= 55432
export NEOCLOUD_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:$(PGPORT)/neocloud

.PHONY: run test venv system-deps lint typecheck imports unit pg-up pg-down slurm-up slurm-down clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

run: venv
	$(VENV)/bin/neocloud demo

# Debian packages the integration tests use (apt-get install never starts services: pg-up does).
system-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi
	@if ! command -v slurmctld >/dev/null || ! command -v slurmdbd >/dev/null || ! command -v mariadbd >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm slurmdbd mariadb-server munge >/dev/null; fi
	@if ! [ -x /usr/bin/chromium ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi  # the console's browser tests (never a Playwright download)

pg-up: system-deps
	PGPORT=$(PGPORT) scripts/postgres-up.sh

pg-down:
	scripts/postgres-down.sh

# A throwaway Slurm 22.05 (munge, MariaDB + slurmdbd, slurmctld, 4 fake-GPU slurmd) from neocloud's own
# generated configuration of tests/slurm/fleet.yaml (docs/slurm.md).
slurm-up: system-deps venv
	NEOCLOUD=$(VENV)/bin/neocloud PY=$(PY) scripts/slurm-up.sh

slurm-down:
	scripts/slurm-down.sh

lint: venv
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

typecheck: venv
	$(VENV)/bin/mypy

imports: venv
	$(VENV)/bin/lint-imports

test: venv system-deps
	$(MAKE) lint typecheck imports
	$(MAKE) pg-up
	$(MAKE) slurm-up || { $(MAKE) slurm-down pg-down; exit 1; }
	set -o pipefail; NEOCLOUD_REQUIRE_POSTGRES=1 NEOCLOUD_REQUIRE_SLURM=1 SLURM_CONF=/tmp/neocloud-slurm/slurm.conf \
	  $(VENV)/bin/pytest tests; status=$$?; $(MAKE) slurm-down; $(MAKE) pg-down; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
