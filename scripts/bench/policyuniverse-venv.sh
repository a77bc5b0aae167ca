#!/usr/bin/env bash
# Create (once) the Python venv holding policyuniverse, the policy library Security Monkey used,
# for the policy benchmark (`cargo bench -p simian --bench policy`), and print its python path.
# Idempotent and quiet on the second run.
#
# policyuniverse is pinned to its latest release, 1.5.1.20231109 (pure Python; it brings no
# other packages).
set -euo pipefail
POLICYUNIVERSE_VERSION="1.5.1.20231109"
VENV="${SIMIAN_POLICYUNIVERSE_VENV:-$HOME/.cache/simian-policyuniverse-venv}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import sys
from importlib.metadata import version
sys.exit(version('policyuniverse') != '$POLICYUNIVERSE_VERSION')" 2>/dev/null; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "policyuniverse==$POLICYUNIVERSE_VERSION" >&2
fi
echo "$VENV/bin/python"
