#!/usr/bin/env bash
# Runs Andon's benchmark programs and writes their figures, with the command
# and the machine, to bench/RESULTS.md.
# usage: bench/run.sh [BUILD_DIR [BENCH...]]   BENCH: ingest, storage,
# open_windows, query, tree_reduction, distributions, probe_overhead, fleet_scale
# (default: all). Sections of benchmarks not run are kept from the current
# RESULTS.md. probe_overhead runs PROBE_OVERHEAD_RUNS times (default 2): on a
# shared machine one run's figures are noisy, and two show how much.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$root/build}")
shift || true
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(ingest storage open_windows query tree_reduction distributions
  probe_overhead fleet_scale)
out="$root/bench/RESULTS.md"
machine="$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"

selected() { local b; for b in "${benches[@]}"; do [ "$b" = "$1" ] && return 0; done; return 1; }

# Copies the sections of the current RESULTS.md whose title starts with $1.
keep() {
  [ -f "$out" ] || return 0
  awk -v t="## $1" 'index($0, t) == 1 {p = 1} /^## / && index($0, t) != 1 {p = 0} p' "$out" >>"$tmp"
}

run() {  # title, command...
  local title=$1
  shift
  echo "== $title: $*" >&2
  local figures
  figures=$("$@")
  echo "$figures" >&2
  {
    echo "## $title"
    echo
    echo "Command: \`${*#$build/}\`  "
    echo "Machine: $machine  "
    echo "Date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "$figures"
    echo
  } >>"$tmp"
}

# bpftrace (the peer) attaches through tracefs, which a machine may not mount.
if [ -d /sys/kernel/tracing ] && ! mountpoint -q /sys/kernel/tracing; then
  mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
fi

tmp=$(mktemp)
echo "# Benchmark results" >"$tmp"
echo >>"$tmp"
echo "Written by \`bench/run.sh\`; figures from shared 2-core machines are noisy, ratios less so." >>"$tmp"
echo >>"$tmp"
# The peer of ingest, storage and query is Prometheus 2.42 (Debian's
# prometheus package: the server and promtool), installed here if missing;
# without it Andon's figures alone are written.
if { selected ingest || selected storage || selected query; } && ! command -v promtool >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus \
    >/dev/null 2>&1 || echo "bench/run.sh: cannot install prometheus; no peer" >&2
fi
if selected ingest; then
  run "Aggregator ingest throughput" timeout 600s "$build/bench/ingest_bench" --agents 32 \
    --hosts 2000 --series 200 --duration 20s --prometheus "$(command -v prometheus || true)"
else
  keep "Aggregator ingest throughput"
fi
if selected storage; then
  run "Storage bytes per point" timeout 1200s "$build/bench/storage_bytes" --hosts 20 \
    --series 200 --windows 1800 --promtool "$(command -v promtool || true)"
else
  keep "Storage bytes per point"
fi
if selected open_windows; then
  run "Memory per open window" timeout 600s "$build/bench/open_windows" --series 400000
else
  keep "Memory per open window"
fi
if selected query; then
  run "Fleet-wide queries" timeout 1200s "$build/bench/query_bench" --hosts 10000 --queries 20 \
    --prometheus "$(command -v prometheus || true)" --promtool "$(command -v promtool || true)"
else
  keep "Fleet-wide queries"
fi
if selected tree_reduction; then
  run "Tree reduction" timeout 900s "$build/bench/tree_reduction" --hosts 1000 --windows 10
else
  keep "Tree reduction"
fi
if selected distributions; then
  run "Distribution merge" timeout 600s "$build/bench/distribution_merge" --hosts 10000 \
    --samples 1000 --runs 30
else
  keep "Distribution merge"
fi
if selected fleet_scale; then
  # FLEET_AGENTS (default 10000) simulated agents; bounded by its phase
  # timeouts, timeout is the backstop.
  run "Fleet scale" timeout --signal=INT --kill-after=30s 1200s \
    "$build/bench/fleet_sim" --agents "${FLEET_AGENTS:-10000}"
else
  keep "Fleet scale"
fi
if selected probe_overhead; then
  for i in $(seq 1 "${PROBE_OVERHEAD_RUNS:-2}"); do
    # Bounded: each section stops starting cycles after --budget, the agent
    # section lasts about a minute; timeout is the backstop.
    run "Probe overhead, run $i" timeout --signal=INT --kill-after=30s 600s \
      "$build/bench/probe_overhead"
  done
else
  keep "Probe overhead"
fi
mv "$tmp" "$out"
echo "wrote $out" >&2
