#!/usr/bin/env bash
# The whole test suite: set-up if needed, lint (ruff), types (mypy), import layers (import-linter), tests (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
.venv/bin/ruff check renderer tests scripts
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest "$@"
