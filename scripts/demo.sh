#!/usr/bin/env bash
# The demo: build the host and the shipped plugins, start `simian run` on a throwaway data
# directory (embedded SQLite default), drop the example rule into its plugins directory while
# it runs, and audit sample security groups through the running host.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/simian-target}"
rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

echo "== building simian and the shipped plugins"
cargo build -q -p simian
cargo plugins -q
SIMIAN="$CARGO_TARGET_DIR/debug/simian"

WORK="$(mktemp -d -t simian-demo.XXXXXX)"
cleanup() { [ -n "${HOST_PID:-}" ] && kill "$HOST_PID" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
mkdir -p "$WORK/plugins"
cat > "$WORK/simian.toml" <<TOML
data_dir = "data"

[plugins]
dir = "plugins"

[[accounts]]
id = "123456789012"
name = "demo-prod"

[[networks]]
name = "corp"
cidr = "10.0.0.0/8"
TOML

echo "== starting simian run (log: $WORK/host.log)"
"$SIMIAN" run --config "$WORK/simian.toml" 2> "$WORK/host.log" &
HOST_PID=$!
for _ in $(seq 1 200); do [ -S "$WORK/data/simian.sock" ] && break; sleep 0.05; done

echo "== deploying the example rule into the running host's plugins directory"
mkdir -p "$WORK/plugins/sg-internet-accessible"
cp "$CARGO_TARGET_DIR/wasm32-wasip2/plugin/simian_plugin_sg_internet_accessible.wasm" \
   "$WORK/plugins/sg-internet-accessible/.tmp.wasm"
mv "$WORK/plugins/sg-internet-accessible/.tmp.wasm" \
   "$WORK/plugins/sg-internet-accessible/sg-internet-accessible.wasm"
cp plugins/sg-internet-accessible/plugin.toml "$WORK/plugins/sg-internet-accessible/plugin.toml"
for _ in $(seq 1 100); do
  "$SIMIAN" plugins --config "$WORK/simian.toml" --format json | grep -q '"generation": 1' && break
  sleep 0.1
done

echo
echo "== simian plugins"
"$SIMIAN" plugins --config "$WORK/simian.toml"
echo
echo "== simian audit --item examples/security-groups.json"
"$SIMIAN" audit --config "$WORK/simian.toml" --item examples/security-groups.json || true
echo
echo "== host log"
sed 's/^/  /' "$WORK/host.log"
