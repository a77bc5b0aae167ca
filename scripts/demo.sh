#!/usr/bin/env bash
# The demo, on a fresh machine: build simian and the shipped plugins, start a local AWS
# emulator (moto server) seeded with a realistic, partly risky estate, sweep it into the
# embedded SQLite store, show the recorded items and a history, then start `simian run`, drop
# the example rule into its plugins directory while it runs, and audit the stored security
# groups through it.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/simian-target}"
rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

echo "== building simian, the seeding tool and the shipped plugins"
cargo build -q -p simian -p simian-tests --bin simian --bin simian-seed
cargo plugins -q
SIMIAN="$CARGO_TARGET_DIR/debug/simian"
MOTO_SERVER="$(scripts/moto-venv.sh)"

WORK="$(mktemp -d -t simian-demo.XXXXXX)"
cleanup() {
  [ -n "${HOST_PID:-}" ] && kill "$HOST_PID" 2>/dev/null
  [ -n "${MOTO_PID:-}" ] && kill "$MOTO_PID" 2>/dev/null
  wait 2>/dev/null || true
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$MOTO_SERVER" -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
       AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
echo "== moto server on $AWS_ENDPOINT_URL; seeding the demo estate through the AWS SDK"
"$CARGO_TARGET_DIR/debug/simian-seed"

mkdir -p "$WORK/plugins"
cat > "$WORK/simian.toml" <<TOML
data_dir = "data"            # SQLite store: data/simian.db

[plugins]
dir = "plugins"

[[accounts]]
id = "123456789012"
name = "demo-prod"
regions = ["us-east-1"]

[[networks]]
name = "corp"
cidr = "10.0.0.0/8"
TOML

echo
echo "== simian sweep"
"$SIMIAN" sweep --config "$WORK/simian.toml"
echo
echo "== simian items"
"$SIMIAN" items --config "$WORK/simian.toml"
echo
echo "== simian history arn:aws:iam::123456789012:role/vendor-access"
"$SIMIAN" history --config "$WORK/simian.toml" arn:aws:iam::123456789012:role/vendor-access --format json \
  | python3 -c 'import json,sys; r=json.load(sys.stdin)["revisions"][0]; print("revision", r["revision"], r["kind"]); print(json.dumps(r["document"]["configuration"]["assumeRolePolicyDocument"], indent=2))'

echo
echo "== starting simian run (log: $WORK/host.log) and deploying the example rule into it"
"$SIMIAN" run --config "$WORK/simian.toml" 2> "$WORK/host.log" &
HOST_PID=$!
for _ in $(seq 1 200); do [ -S "$WORK/data/simian.sock" ] && break; sleep 0.05; done
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
"$SIMIAN" plugins --config "$WORK/simian.toml"
echo
echo "== audit report: the stored security groups through the running host"
"$SIMIAN" items --config "$WORK/simian.toml" --type AWS::EC2::SecurityGroup --format json \
  | "$SIMIAN" audit --config "$WORK/simian.toml" --item - || true

echo
echo "== simian issues: recorded by the running host, which re-audited the stored items when the rule was loaded"
for _ in $(seq 1 100); do
  "$SIMIAN" issues --config "$WORK/simian.toml" --format json | grep -q '"Internet Accessible"' && break
  sleep 0.1
done
"$SIMIAN" issues --config "$WORK/simian.toml"
