#!/usr/bin/env bash
# Starts a real local cluster (controller, aggregator, agent with eBPF) on
# free loopback ports with throwaway data, then drives the UI in headless
# Chromium with ui_smoke.mjs. Exit 77 (skipped) only where BPF is unavailable.
# usage: tests/ui/run_smoke.sh BUILD_DIR   (or ANDON_BUILD_DIR=... run_smoke.sh)
# The screenshot is left at BUILD_DIR/ui-smoke.png.
set -euo pipefail
build=$(realpath "${1:-${ANDON_BUILD_DIR:?usage: run_smoke.sh BUILD_DIR}}")
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: the agent needs root to load eBPF programs"; exit 77; fi
if [ ! -r /sys/kernel/btf/vmlinux ]; then echo "SKIP: kernel has no BTF"; exit 77; fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "FAIL: tests/ui/node_modules missing; run: (cd tests/ui && npm ci)" >&2
  exit 1
fi

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dir=$(mktemp -d /tmp/andon-ui-XXXXXX)
cg=$(port); ch=$(port); ag=$(port); ah=$(port); nh=$(port)
pids=()
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; wait "${pids[$i]}" 2>/dev/null || true; done
  if [ "${failed:-0}" = 1 ]; then tail -n 20 "$dir"/*.log >&2 || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

"$build/bin/andon-controller" --grpc_addr 127.0.0.1:$cg --http_addr 127.0.0.1:$ch \
  --data_dir "$dir/controller" --ui_dir "$build/ui" >"$dir/controller.log" 2>&1 & pids+=($!)
"$build/bin/andon-aggregator" --id agg-ui --grpc_addr 127.0.0.1:$ag --http_addr 127.0.0.1:$ah \
  --data_dir "$dir/aggregator" --controller 127.0.0.1:$cg >"$dir/aggregator.log" 2>&1 & pids+=($!)
"$build/bin/andon-agent" --controller 127.0.0.1:$cg --http_addr 127.0.0.1:$nh \
  --host_id ui-smoke-host --spool_dir "$dir/agent-spool" >"$dir/agent.log" 2>&1 & pids+=($!)

# Keep some processes making syscalls (and forking, for the smoke test's
# fork tracepoint probe) so the charts have something to move.
( end=$((SECONDS + 300)); while [ $SECONDS -lt $end ]; do ls /proc >/dev/null; sleep 0.05; done ) & pids+=($!)

failed=1
node "$here/ui_smoke.mjs" --url "http://127.0.0.1:$ch/" --host ui-smoke-host \
  --screenshot "$build/ui-smoke.png" --timeout 240
failed=0
