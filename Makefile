# Two commands on a fresh machine: `make demo` and `make test`. Both start with `make install`.
PY_SYSTEM ?= /usr/bin/python3
VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed

.PHONY: install demo test test-unit test-live lint bench fuzz clean

install: $(STAMP)
	@./scripts/install-system.sh

$(STAMP): pyproject.toml scripts/install-system.sh scripts/link-bcc.py
	@./scripts/install-system.sh
	@test -x $(PY) || $(PY_SYSTEM) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[test,export]'
	@$(PY) scripts/link-bcc.py
	@touch $(STAMP)

demo: install
	$(VENV)/bin/httptap demo

test: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q tests

test-unit: install
	$(PY) -m pytest -q tests/unit

test-live: install
	$(PY) -m pytest -q tests/live

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/run.py

fuzz: install
	$(PY) tests/fuzz/run.py --scale 20

clean:
	rm -rf $(VENV) build *.egg-info
