#!/usr/bin/env bash
# Runs Andon's benchmark programs and writes their figures, with the command
# and the machine, to bench/RESULTS.md. usage: bench/run.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$root/build}")
out="$root/bench/RESULTS.md"
machine="$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"

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
run "Aggregator ingest throughput" "$build/bench/ingest_bench" --agents 32 --series 200 --duration 10s
if [ -x "$build/bench/syscall_probe_bench" ]; then
  run "Syscall probe overhead vs bpftrace" "$build/bench/syscall_probe_bench"
fi
mv "$tmp" "$out"
echo "wrote $out" >&2
