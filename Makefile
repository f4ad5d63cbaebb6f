# Two commands matter: `make demo` and `make test`. Everything runs from a local .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest faketime bench clean

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

## test: lint, type-check and run the whole suite
test: $(STAMP) faketime lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Each example is its own program (every one has a __main__.py), so each is checked on its own.
typecheck: $(STAMP)
	$(BIN)/mypy
	@for example in examples/*/; do \
		echo "mypy $$example"; \
		(cd $$example && ../../$(BIN)/mypy --config-file ../../pyproject.toml *.py) || exit 1; \
	done

pytest: $(STAMP)
	$(BIN)/python -m pytest

# libfaketime moves the provider process's clock in the schedule tests; without it (no root or
# no apt) those tests are skipped and say why.
faketime:
	@if $(BIN)/python -c 'from pulumi_metal_reset.testing.faketime import find_libfaketime as f; raise SystemExit(0 if f() else 1)'; then \
		echo "libfaketime: found"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "libfaketime: installing Debian's faketime package"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null) \
			|| echo "libfaketime: install failed; the schedule end-to-end tests will be skipped"; \
	else \
		echo "libfaketime: not installed and cannot install it here; the schedule end-to-end tests will be skipped"; \
	fi

## bench: issue 12's figures side by side (bare http.client, equinix-metal SDK, ours), not a test
# py-spy samples the provider and the test engine for the diagnosis; the SDK variant builds its
# own venv (benchmarks/.venv-sdk) on first use. BENCH_ARGS='--plan quick' for a shorter run.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet 'py-spy>=0.4'
	$(BIN)/python benchmarks/run.py --json benchmarks/results.json $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .demo
