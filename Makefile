# Two commands matter: `make demo` and `make test`. Everything runs from a local .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The floor lane: every runtime dependency at exactly the floor pyproject.toml declares.
FLOORS_VENV  := .venv-floors
FLOORS_BIN   := $(FLOORS_VENV)/bin
FLOORS_STAMP := $(FLOORS_VENV)/.installed
# The newest-Python lane: the newest CPython release installed here, the newest releases of all.
NEWEST_VENV  := .venv-newest
NEWEST_BIN   := $(NEWEST_VENV)/bin
NEWEST_STAMP := $(NEWEST_VENV)/.installed

.PHONY: demo demo-deliver test lint typecheck pytest test-floors test-newest-python system-tools faketime bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed; set PYTHON=/path/to/python3.x")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

## demo: run the quickstart stack against the local emulator (preview, up, rotate)
demo: $(STAMP)
	$(BIN)/python examples/demo.py

## demo-deliver: the same, with write-only delivery to a throw-away `pass` store (needs pass, gpg)
demo-deliver: $(STAMP) system-tools
	$(BIN)/python examples/demo.py --deliver

## test: lint, type-check and run the whole suite
test: $(STAMP) system-tools lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Each example is its own program (every one has a __main__.py), so each is checked on its own;
# so is the policy pack in policy/ (its __main__.py would clash with theirs in one mypy run).
typecheck: $(STAMP)
	$(BIN)/mypy
	@for example in examples/*/; do \
		echo "mypy $$example"; \
		(cd $$example && ../../$(BIN)/mypy --config-file ../../pyproject.toml *.py) || exit 1; \
	done
	@echo "mypy policy/"
	@cd policy && ../$(BIN)/mypy --config-file ../pyproject.toml __main__.py

pytest: $(STAMP)
	$(BIN)/python -m pytest

## test-floors: the whole suite again, with every runtime dependency at exactly its floor
test-floors: $(FLOORS_STAMP) system-tools
	METAL_RESET_FLOOR_LANE=1 $(FLOORS_BIN)/python -m pytest -p no:cacheprovider

# A fresh venv whenever pyproject.toml or the pin script changes. tools/floors.py derives the pins
# from pyproject.toml; one resolve installs them with the package and its extras, so a dev tool
# that needs a newer runtime dependency fails here instead of lifting it. pip warns, but installs,
# a yanked release pinned exactly: a floor must never name one. Python is a floor too: the venv
# is made with the oldest Python requires-python admits (FLOORS_PYTHON, else `-m tools.floors
# --python` finds one), and the lane fails, with what to do, where there is none.
$(FLOORS_STAMP): pyproject.toml tools/floors.py tools/pythons.py | $(STAMP)
	rm -rf $(FLOORS_VENV)
	@floor_python="$${FLOORS_PYTHON:-$$($(BIN)/python -m tools.floors --python)}" \
		&& echo "$$floor_python -m venv $(FLOORS_VENV)" && "$$floor_python" -m venv $(FLOORS_VENV)
	$(FLOORS_BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m tools.floors > $(FLOORS_VENV)/floors.txt
	@cat $(FLOORS_VENV)/floors.txt
	@$(FLOORS_BIN)/python -m pip install --quiet -r $(FLOORS_VENV)/floors.txt \
		-e ".[$$($(BIN)/python -m tools.floors --extras)]" > $(FLOORS_VENV)/pip.log 2>&1 \
		|| { grep -v 'is ignored: it is neither a file nor a directory' $(FLOORS_VENV)/pip.log; exit 1; }
	@if grep -A1 'yanked version' $(FLOORS_VENV)/pip.log; then \
		echo "floors: a floor above is a yanked release; raise it to the next release pip would pick."; \
		exit 1; \
	fi
	@touch $@

## test-newest-python: the whole suite again, on the newest Python installed here
test-newest-python: $(NEWEST_STAMP) system-tools
	METAL_RESET_NEWEST_PYTHON_LANE=1 $(NEWEST_BIN)/python -m pytest -p no:cacheprovider

# requires-python has no upper bound, so every newer Python is a promise too. Lint and types are
# checked once, in `make test`; this lane runs the suite. NEWEST_PYTHON names the interpreter,
# else `-m tools.pythons --newest` finds the newest CPython release on PATH or under pyenv.
$(NEWEST_STAMP): pyproject.toml tools/pythons.py | $(STAMP)
	rm -rf $(NEWEST_VENV)
	@newest_python="$${NEWEST_PYTHON:-$$($(BIN)/python -m tools.pythons --newest)}" \
		&& echo "$$newest_python -m venv $(NEWEST_VENV)" && "$$newest_python" -m venv $(NEWEST_VENV)
	$(NEWEST_BIN)/python -m pip install --quiet --upgrade pip
	$(NEWEST_BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# Debian packages the tests need (libfaketime, pass, gnupg, jq, openssl): installed as root when missing,
# otherwise their tests are skipped with the reason, or fail where CI requires them.
system-tools: $(STAMP)
	@sh tools/system-tools.sh $(BIN)/python

# The older name of system-tools.
faketime: system-tools

## bench: issue 12's figures side by side (bare http.client, equinix-metal SDK, ours), not a test
# py-spy samples the provider and the test engine for the diagnosis; the SDK variant builds its
# own venv (benchmarks/.venv-sdk) on first use. BENCH_ARGS='--plan quick' for a shorter run.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet 'py-spy>=0.4'
	$(BIN)/python benchmarks/run.py --json benchmarks/results.json $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(FLOORS_VENV) $(NEWEST_VENV) .pytest_cache .mypy_cache .ruff_cache .demo
