#!/usr/bin/env bash
# The demo, on a fresh machine: build simian and the shipped plugins, start a local AWS
# emulator (moto server) seeded with a realistic, partly risky estate, sweep it into the
# embedded SQLite store, show the recorded items and a history, then start `simian run` and
# drop Security Monkey's rule set (plus the employee-account check) into its plugins directory
# while it runs: the host re-audits the stored items and the audit report shows the seeded
# risks found and the clean resources clean. It ends with the web console running (a demo
# admin user, its URL and credentials printed last) until Ctrl-C; SIMIAN_DEMO_EXIT=1 stops
# right after instead.
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

mkdir -p "$WORK/plugins" "$WORK/hr"
# The HR roster the employee-account check reads (a granted, read-only directory).
cat > "$WORK/hr/roster.csv" <<CSV
name,email,employee_id
Bob Jones,bob@corp.example,E2
Carol King,carol@corp.example,E3
CSV
# The console: port 8080 if free, else any free one.
WEB_PORT="${SIMIAN_DEMO_WEB_PORT:-8080}"
if (exec 3<>"/dev/tcp/127.0.0.1/$WEB_PORT") 2>/dev/null; then
  WEB_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
fi
cat > "$WORK/simian.toml" <<TOML
data_dir = "data"            # SQLite store: data/simian.db

[web]                        # the console and REST API, served by simian run
listen = "127.0.0.1:$WEB_PORT"

[plugins]
dir = "plugins"

[[accounts]]
id = "123456789012"
name = "demo-prod"
regions = ["us-east-1"]

[[networks]]
name = "corp"
cidr = "10.0.0.0/8"

# The rules that classify principals and grantees need the accounts capability.
[plugin.security-group.grants]
accounts = true
[plugin.s3-bucket.grants]
accounts = true
[plugin.iam-role.grants]
accounts = true
[plugin.sqs-queue.grants]
accounts = true
[plugin.sns-topic.grants]
accounts = true
[plugin.kms-key.grants]
accounts = true
[plugin.snapshot-sharing.grants]
accounts = true
[plugin.lambda-function.grants]
accounts = true
[plugin.rds-instance.grants]
accounts = true
items = { resource_types = ["AWS::EC2::SecurityGroup"] }
[plugin.load-balancer.grants]
accounts = true
items = { resource_types = ["AWS::EC2::SecurityGroup"] }

[plugin.employee-accounts.settings]
roster_file = "$WORK/hr/roster.csv"
[plugin.employee-accounts.grants]
files = { dirs = ["$WORK/hr"] }

# Every group has AWS's default allow-all egress; silence that check, as most teams do.
[[overrides]]
plugin = "security-group"
check = "internet-accessible-egress"
disabled = true
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
echo "== simian user add demo --role admin (the console's first user)"
DEMO_PASSWORD="$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')"
printf '%s\n' "$DEMO_PASSWORD" | "$SIMIAN" user add demo --role admin --config "$WORK/simian.toml"

echo
echo "== starting simian run (log: $WORK/host.log) and deploying the rule set into it"
"$SIMIAN" run --config "$WORK/simian.toml" 2> "$WORK/host.log" &
HOST_PID=$!
for _ in $(seq 1 200); do [ -S "$WORK/data/simian.sock" ] && break; sleep 0.05; done
RULES="security-group s3-bucket iam-role iam-policy iam-user employee-accounts vpc-flow-logs sqs-queue sns-topic kms-key acm-certificate snapshot-sharing cloudtrail lambda-function rds-instance iam-server-certificate load-balancer"
for id in $RULES; do
  # Component first under a temporary name, manifest last: the host loads complete plugins.
  mkdir -p "$WORK/plugins/$id"
  cp "$CARGO_TARGET_DIR/wasm32-wasip2/plugin/simian_plugin_${id//-/_}.wasm" "$WORK/plugins/$id/.tmp.wasm"
  mv "$WORK/plugins/$id/.tmp.wasm" "$WORK/plugins/$id/$id.wasm"
  cp "plugins/$id/plugin.toml" "$WORK/plugins/$id/plugin.toml"
done
# Each load re-audits the stored items of that rule's resource types, without a restart.
for _ in $(seq 1 300); do
  DONE="$("$SIMIAN" plugins --config "$WORK/simian.toml" --format json | python3 -c '
import json, sys
plugins = json.load(sys.stdin)["plugins"]
print(sum(1 for p in plugins if (p.get("reaudit") or {}).get("finished_ms")))')"
  [ "$DONE" -ge 17 ] && break
  sleep 0.1
done
"$SIMIAN" plugins --config "$WORK/simian.toml"

echo
echo "== simian report: items by score with their open issues, and what is clean"
"$SIMIAN" report --config "$WORK/simian.toml"

echo
echo "== simian issues --min-score 5"
"$SIMIAN" issues --config "$WORK/simian.toml" --min-score 5

echo
echo "== the console: items, history with diffs, issues to triage and justify, compare, export"
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$WEB_PORT") 2>/dev/null && break; sleep 0.1; done
if [ "${SIMIAN_DEMO_EXIT:-}" = "1" ]; then
  echo "console: http://127.0.0.1:$WEB_PORT  user: demo  password: $DEMO_PASSWORD"
  exit 0
fi
echo "(Ctrl-C stops the host, the emulator and the console)"
echo "console:  http://127.0.0.1:$WEB_PORT"
echo "user:     demo"
echo "password: $DEMO_PASSWORD"
wait "$HOST_PID"
