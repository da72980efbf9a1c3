# Two commands: `make run` (set up, then serve the app) and `make test` (set up, then the tests);
# `make bench` runs the performance benchmark.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_VERSION := 2.13.0
# On machines without a local CPU wheel, e.g.: make run TORCH_INDEX="--index-url https://download.pytorch.org/whl/cpu"
TORCH_INDEX ?=
PORT ?= 8501

.PHONY: run test test-faults setup bench clean-venv

# The stamp is rebuilt when the pinned requirements (both files) or the package metadata change.
$(VENV)/.installed: requirements.txt requirements-embedded.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==$(TORCH_VERSION) $(TORCH_INDEX)
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-embedded.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

setup: $(VENV)/.installed

# The warm-up process simulates the World map's default view into the disk cache while the server starts.
run: setup
	$(BIN)/python -m survey_sim.warmup &
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true

test: setup
	$(BIN)/python -m pytest -q

# The fault-injection suite alone (issue #15): bad input, kill -9, corruption, concurrent writers.
# `make test` runs these too; this target reruns just them, e.g. after a change to a write path.
test-faults: setup
	$(BIN)/python -m pytest -q -m fault

# Several minutes; writes benchmarks/results/<host>-<date>.json and latest.json (see benchmarks/README.md).
bench: setup
	$(BIN)/python -m benchmarks.bench

clean-venv:
	rm -rf $(VENV)
