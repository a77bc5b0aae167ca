#!/usr/bin/env bash
# Create (once) the Python venv that runs the Python SDK's and the Python plugins' tests with
# pytest, and print its python path. Idempotent and quiet on the second run.
set -euo pipefail
PYTEST_VERSION="8.3.4"
VENV="${SIMIAN_PYTEST_VENV:-$HOME/.cache/simian-pytest-venv}"
if ! "$VENV/bin/python" -c "import pytest,sys; sys.exit(pytest.__version__ != '$PYTEST_VERSION')" 2>/dev/null; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "pytest==$PYTEST_VERSION" >&2
fi
echo "$VENV/bin/python"
