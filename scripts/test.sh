#!/usr/bin/env bash
# The whole suite: lint, types, then pytest on SQLite and on a private PostgreSQL started on 127.0.0.1.
# Installs what the tests need from Debian (postgresql, chromium) when missing; stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

ensure_debian_packages
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy observatory tests $(find benchmarks -name "*.py" 2>/dev/null)

start_private_postgres
trap stop_private_postgres EXIT

export OBSERVATORY_VAR_DIR="$PWD/var/test-run"
mkdir -p "$OBSERVATORY_VAR_DIR"
PYTEST_ARGS=(-q -p no:cacheprovider -n 2 --dist loadfile)

echo "== pytest on SQLite"
env -u DATABASE_URL .venv/bin/pytest "${PYTEST_ARGS[@]}" "$@"

echo "== pytest on PostgreSQL"
DATABASE_URL="$POSTGRES_URL" .venv/bin/pytest "${PYTEST_ARGS[@]}" "$@"
