# Two commands on a fresh machine:
#   make demo   set up .venv, write the demo client's data, run its batch
#   make test   set up .venv, run the test suite
# and the manual: make docs renders docs/ (with the reference generated from the code) into build/docs/site/
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
SUM    := $(shell cksum pyproject.toml | cut -d' ' -f1)
RUN    := $(VENV)/.installed-run-$(SUM)
STAMP  := $(VENV)/.installed-dev-$(SUM)

.PHONY: setup demo test lab bench docs clean

setup: $(STAMP)

# the kit and what it runs with (enough for the demo and the lab)
$(RUN): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	rm -f $(VENV)/.installed-*
	touch $@

# plus the test and cluster extras
$(STAMP): $(RUN)
	$(BIN)/python -m pip install --quiet -e '.[dev,cluster]'
	touch $@

demo: $(RUN)
	$(BIN)/python -m kit demo --jobs 2

test: setup
	@sh scripts/ensure_postgres.sh
	@sh scripts/ensure_chromium.sh
	@sh scripts/ensure_poppler.sh
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lab: $(RUN)
	$(BIN)/python -m kit demo --data-only
	$(BIN)/jupyter lab notebooks/

bench: setup
	$(BIN)/python -m benchmarks.run

# the manual (scripts/manual.py): needs Quarto, as the client sites do
docs: $(RUN)
	$(BIN)/python scripts/manual.py

clean:
	rm -rf $(VENV) reports _site data build/docs .pytest_cache
