#!/usr/bin/env bash
# The whole test suite. Works on a fresh machine: installs what it needs (the wasm32-wasip2
# target, PostgreSQL, Chromium, the AWS emulator's venv, pytest's venv; the Python and JS
# plugin toolchains on first use), then format-checks, lints, builds the plugins and runs every
# test, the store's on SQLite and PostgreSQL, then the Python and JS SDKs' own tests. `.ci/run`
# calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Reuse one target dir outside the clone so a second run rebuilds only what changed.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/simian-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Two cores: one rustc at a time per crate graph is already parallel enough.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
# The shared target directory outlives every run: incremental caches grew it past 40 GB and
# filled the disk. Whole-crate rebuilds of the workspace cost less than that.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "toolchain"
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

step "format"
cargo fmt --all -- --check

step "plugins (wasm32-wasip2)"
cargo plugins

step "lint"
cargo clippy --workspace --all-targets -- -D warnings

step "postgresql"
# The store tests run on SQLite and on PostgreSQL; with CI set both are mandatory. An exported
# SIMIAN_TEST_POSTGRES_URL (an external server) is used as is; otherwise a local PostgreSQL 15
# is installed if missing, started, and given the test role and database.
if [ -z "${SIMIAN_TEST_POSTGRES_URL:-}" ]; then
  as_postgres() {
    # From / so psql does not complain about a working directory it cannot read.
    if [ "$(id -u)" -eq 0 ]; then
      (cd / && runuser -u postgres -- "$@")
    else
      (cd / && sudo -n -u postgres "$@")
    fi
  }
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends postgresql-15
  fi
  # Some images install the server without creating the default cluster.
  if ! pg_lsclusters -h 2>/dev/null | grep -q '^15 \+main '; then
    pg_createcluster 15 main
  fi
  # Exit status 2 means "already running".
  pg_ctlcluster 15 main start || [ $? -eq 2 ]
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
  done
  pg_isready -h 127.0.0.1 -p 5432
  if ! as_postgres psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname = 'simian'" | grep -q 1; then
    as_postgres psql -v ON_ERROR_STOP=1 -qc "CREATE ROLE simian"
  fi
  # Always (re)set, so a role left over with another password still works.
  as_postgres psql -v ON_ERROR_STOP=1 -qc "ALTER ROLE simian LOGIN PASSWORD 'simian' CREATEDB"
  if ! as_postgres psql -qtAc "SELECT 1 FROM pg_database WHERE datname = 'simian_test'" | grep -q 1; then
    as_postgres psql -v ON_ERROR_STOP=1 -qc "CREATE DATABASE simian_test OWNER simian"
  fi
  export SIMIAN_TEST_POSTGRES_URL=postgres://simian:simian@127.0.0.1:5432/simian_test
fi

step "browser"
# The console's browser test drives Debian's Chromium through its ChromeDriver.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends chromium chromium-driver
fi
/usr/bin/chromium --version

step "plugin languages"
# Python and JavaScript plugins: pytest in a venv (pinned; see the script), Node.js for the JS
# SDK and componentize-js (rolldown needs 20.19 or later). The componentizers themselves are
# installed by the first `simian plugin build` (tests/languages.rs).
PYTEST_PYTHON="$(scripts/pytest-venv.sh)"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
  || { echo "Node.js 20.19 or later is needed for JavaScript plugins (found $(node --version))" >&2; exit 1; }

step "aws emulator"
# The watcher tests start moto server (pinned; see the script) from this venv.
scripts/moto-venv.sh

step "tests"
cargo test --workspace --no-fail-fast

step "python and javascript SDKs"
# After the Rust tests: tests/languages.rs installed the JS toolchain the build checks use.
(cd sdk/python && "$PYTEST_PYTHON" -m pytest -q -p no:cacheprovider)
(cd plugins/sg-internet-accessible-py && "$PYTEST_PYTHON" -m pytest -q -p no:cacheprovider)
CI=true node --test sdk/js/test/ plugins/sg-internet-accessible-js/
