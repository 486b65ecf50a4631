# Two commands on a fresh machine:
#   make demo   set up .venv, write the demo client's data, run its batch
#   make test   set up .venv, run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: setup demo test lab bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,cluster]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: setup
	$(BIN)/python -m kit demo

test: setup
	@sh scripts/ensure_postgres.sh
	@sh scripts/ensure_chromium.sh
	@sh scripts/ensure_poppler.sh
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lab: setup
	$(BIN)/python -m kit demo --data-only
	$(BIN)/jupyter lab notebooks/

bench: setup
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) reports _site data .pytest_cache
