# The two commands of the README: `make demo` and `make test`.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
UV_VERSION := 0.13.9

.PHONY: demo setup test lint typecheck benchmarks clean

.venv/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	uv sync --frozen --all-extras --python python3.11
	@touch $@

setup: .venv/.synced

demo: setup
	.venv/bin/observatory demo

test: setup
	bash scripts/test.sh

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

typecheck: setup
	.venv/bin/mypy observatory tests $$(find benchmarks -name "*.py")

benchmarks: setup
	for script in benchmarks/*.py; do .venv/bin/python $$script || exit 1; done

clean:
	rm -rf .venv var/test-* .mypy_cache .ruff_cache .pytest_cache
