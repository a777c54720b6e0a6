#!/usr/bin/env bash
# End-to-end demo without an AWS account: builds ekspec, starts the AWS emulator moto on a
# free local port, and runs ekspec against it.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/debug/ekspec"

if ! command -v moto_server >/dev/null 2>&1; then
  echo "installing moto (AWS emulator)..."
  python3 -m pip install --quiet 'moto[server]==5.2.1'
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# tests/moto/server.py is moto_server with the EKS APIs moto lacks (add-ons, access entries,
# upgrades) filled in as AWS documents them; strict mode (tests/moto/strict.py) adds the rules
# AWS enforces that moto skips, and resources pass through CREATING/DELETING as on AWS.
EKSPEC_MOTO_STRICT=1 MOTO_IAM_LOAD_MANAGED_POLICIES=true python3 tests/moto/server.py -H 127.0.0.1 -p "$port" >/tmp/ekspec-demo-moto.log 2>&1 &
moto_pid=$!
work=$(mktemp -d)
trap 'kill "$moto_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.2
done

export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1

step() { printf '\n$ ekspec %s\n' "$*"; "$bin" "$@"; }

step validate -f examples/ -f clusters/
step plan -f clusters/demo.yaml
step apply -f clusters/demo.yaml --auto-approve
step plan -f clusters/demo.yaml --detailed-exitcode
step get -f clusters/demo.yaml
step kubeconfig -f clusters/demo.yaml --kubeconfig "$work/kubeconfig"
step token --cluster demo --region us-east-1
step delete -f clusters/demo.yaml --auto-approve
