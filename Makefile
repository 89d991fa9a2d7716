# lockstep: `make demo` runs the suites against the embedded demo stack; `make test` runs the self-tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
FAULTS ?=
ARGS   ?=

.PHONY: install demo unit test report bench zoo clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP)

demo: install  ## the suites against the embedded demo stack; FAULTS=status-rewrite to seed a cutover mistake
	$(PY) -m pytest suites $(if $(FAULTS),--demo-faults=$(FAULTS)) $(ARGS)

unit: install  ## the inner loop: unit tests and plugin tests, no servers (about a minute)
	$(PY) -m pytest tests/unit tests/plugin -m "not e2e and not servers and not browser" $(ARGS)

test: install  ## the self-tests (unit, demo stack, end to end, the fault zoo)
	$(PY) -m pytest tests $(ARGS)

report:  ## render reports/allure-results as HTML with Allure 3 (npm package `allure`, no Java)
	npx --yes allure@3 generate reports/allure-results --output reports/allure-report
	@echo "open reports/allure-report/index.html"

bench: install  ## speed and memory figures -> reports/bench.json
	$(PY) bench/run.py $(ARGS)

zoo: install  ## which flow catches each demo fault
	../shared/tools/zoo-matrix.sh

clean:
	rm -rf reports/* .pytest_cache .hypothesis
	@touch reports/.gitkeep
