#!/usr/bin/env bash
# Installs what is missing, builds, and runs a local Andon cluster in the
# foreground: a controller, a two-level tree of aggregators (a root, agg-root,
# and two leaves under it, agg-leaf-1 and agg-leaf-2) and an agent on this
# host with real eBPF probes. Ctrl-C (or SIGTERM) stops everything it started.
#
# usage: deploy/quickstart.sh [DATA_DIR]      (default ./andon-data; kept across runs)
# env:   ANDON_PORT_BASE (default 7400): controller gRPC BASE, UI/API BASE+1,
#        root gRPC/HTTP BASE+10/BASE+11, leaves BASE+12/13 and BASE+14/15,
#        agent HTTP BASE+21.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data=$(realpath -m "${1:-./andon-data}")
base=${ANDON_PORT_BASE:-7400}

if [ "$(id -u)" -ne 0 ]; then
  echo "quickstart: run as root: it installs packages and the agent loads eBPF programs" >&2
  exit 1
fi

bash "$root/deploy/install-deps.sh"
echo "quickstart: building (first build takes several minutes)..."
bash "$root/deploy/build.sh" andon-controller andon-aggregator andon-agent andonctl ui

bin="$root/build/bin"
mkdir -p "$data/controller" "$data/agg-root" "$data/agg-leaf-1" "$data/agg-leaf-2" "$data/logs"
pids=()

stop_all() {
  trap - INT TERM EXIT
  if [ "${#pids[@]}" -gt 0 ]; then
    echo "quickstart: stopping..."
    # Agent first, so its last windows reach its leaf; leaves before the root.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
      kill -TERM "${pids[$i]}" 2>/dev/null || true
      wait "${pids[$i]}" 2>/dev/null || true
    done
  fi
  echo "quickstart: stopped; data kept in $data"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start() {  # name, args...
  local name=$1
  shift
  "$@" >>"$data/logs/$name.log" 2>&1 &
  pids+=($!)
  echo "quickstart: started $name (pid $!, log $data/logs/$name.log)"
}

start controller "$bin/andon-controller" --grpc_addr "127.0.0.1:$base" \
  --http_addr "127.0.0.1:$((base + 1))" --data_dir "$data/controller" --ui_dir "$root/build/ui"
start agg-root "$bin/andon-aggregator" --id "agg-root" --role inner \
  --grpc_addr "127.0.0.1:$((base + 10))" --http_addr "127.0.0.1:$((base + 11))" \
  --data_dir "$data/agg-root" --controller "127.0.0.1:$base"
for i in 1 2; do
  start "agg-leaf-$i" "$bin/andon-aggregator" --id "agg-leaf-$i" --parent agg-root \
    --grpc_addr "127.0.0.1:$((base + 10 + 2 * i))" --http_addr "127.0.0.1:$((base + 11 + 2 * i))" \
    --data_dir "$data/agg-leaf-$i" --controller "127.0.0.1:$base"
done
start agent "$bin/andon-agent" --controller "127.0.0.1:$base" --spool_dir "$data/agent-spool" \
  --http_addr "127.0.0.1:$((base + 21))" --labels "role=quickstart"

host=$(hostname)
echo "quickstart: waiting for data from host $host..."
for i in $(seq 1 60); do
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "quickstart: a daemon exited; last lines of its logs:" >&2
      tail -n 5 "$data"/logs/*.log >&2
      exit 1
    fi
  done
  if "$bin/andonctl" --controller "127.0.0.1:$base" --timeout 2s query syscalls \
      --host "$host" --by comm --last 30s 2>/dev/null | awk 'NR > 1 { found = 1 } END { exit !found }'; then
    echo "Andon UI: http://127.0.0.1:$((base + 1))/"
    echo "quickstart: try: $bin/andonctl hosts ; $bin/andonctl aggregators ;" \
      "$bin/andonctl query syscalls --host $host --by comm --last 1m"
    echo "quickstart: running; press Ctrl-C to stop"
    while true; do
      wait -n "${pids[@]}" || true
      for pid in "${pids[@]}"; do
        if ! kill -0 "$pid" 2>/dev/null; then
          echo "quickstart: a daemon exited unexpectedly; see $data/logs" >&2
          tail -n 5 "$data"/logs/*.log >&2
          exit 1
        fi
      done
    done
  fi
  sleep 1
done
echo "quickstart: no data after 60 s; see the logs in $data/logs" >&2
tail -n 10 "$data"/logs/*.log >&2
exit 1
