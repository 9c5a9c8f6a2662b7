#!/usr/bin/env bash
# The controller at fleet scale: starts a real controller, a root and four
# leaf aggregators on loopback and bench/fleet_sim's 10,000 simulated agents
# (one TCP connection each) against them, and writes the figures (cold
# start, steady CPU and memory per agent, configuration push latency,
# fleet-wide query latency, recovery from a controller kill -9) to the
# "Fleet scale" section of bench/RESULTS.md.
# usage: bench/fleet_scale.sh [BUILD_DIR]   (FLEET_AGENTS=N for another size)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$root/build}")
ninja -C "$build" fleet_sim andon-controller andon-aggregator >&2
exec "$root/bench/run.sh" "$build" fleet_scale
