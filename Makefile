# Two commands on a fresh machine: `make demo` and `make test`.
#   make install  what httptap needs to run (bcc, kernel headers, the venv with httptap)
#   make demo     install + the demo's extras (grpcio), then the demo service, attached
#   make test     install + the test peers (nginx, curl, node, …) and test extras, then the suite
PY_SYSTEM ?= /usr/bin/python3
VENV      := .venv
PY        := $(VENV)/bin/python
PIP       := $(PY) -m pip install -q --disable-pip-version-check
STAMP     := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-demo install-test demo test test-unit test-live lint bench fuzz clean

install: $(STAMP)
	@./scripts/install-system.sh

$(STAMP): pyproject.toml scripts/install-system.sh scripts/link-bcc.py
	@./scripts/install-system.sh
	@test -x $(PY) || $(PY_SYSTEM) -m venv $(VENV)
	@$(PIP) -e '.[export]'
	@$(PY) scripts/link-bcc.py
	@touch $(STAMP)

install-demo: install $(DEMO_STAMP)

$(DEMO_STAMP): $(STAMP)
	@$(PIP) -e '.[demo]'
	@touch $(DEMO_STAMP)

install-test: install $(TEST_STAMP)
	@./scripts/install-system.sh --test-peers

$(TEST_STAMP): $(STAMP)
	@./scripts/install-system.sh --test-peers
	@$(PIP) -e '.[demo,test]'
	@touch $(TEST_STAMP)

demo: install-demo
	$(VENV)/bin/httptap demo

test: install-test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q tests

test-unit: install-test
	$(PY) -m pytest -q tests/unit

test-live: install-test
	$(PY) -m pytest -q tests/live

lint: install-test
	$(VENV)/bin/ruff check .

bench: install-test
	$(PY) bench/run.py

fuzz: install-test
	$(PY) tests/fuzz/run.py --scale 20

clean:
	rm -rf $(VENV) build *.egg-info
