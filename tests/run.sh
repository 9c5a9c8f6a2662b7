#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs the whole test suite
# with ctest. Tests labelled `bpf` load eBPF programs and need root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash deploy/install-deps.sh
bash deploy/build.sh
(cd tests/ui && npm ci --no-audit --no-fund --loglevel=error)
ctest --test-dir build --output-on-failure -j2 "$@"
