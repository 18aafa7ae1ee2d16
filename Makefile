# The two commands a newcomer needs:
#   make demo   set everything up and run the pipeline on a real clip
#   make test   set everything up and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The development tools (and TensorFlow, via the metrabs extra) only for test/lint:
# the demo's environment is the lean runtime one (about 1 GB instead of 3+ GB).
DEV_STAMP = $(STAMP)-dev

.PHONY: demo test lint typecheck check benchmarks clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

demo: $(STAMP)
	$(VENV)/bin/neuropose demo

# pytest's exit code 5 means no test ran: that is a failure, said explicitly.
test: $(DEV_STAMP)
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks
	$(PY) -m mypy
	@$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5); failing" >&2; exit 1; fi; \
	exit $$rc

lint: $(DEV_STAMP)
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks

typecheck: $(DEV_STAMP)
	$(PY) -m mypy

# Each benchmark prints its ratios; docs/benchmarks.md records them.
benchmarks: $(DEV_STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; PYTHONPATH=. $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist demo-output
