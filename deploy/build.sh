#!/usr/bin/env bash
# Configures and builds Andon into ./build (binaries in build/bin, UI in build/ui).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
ninja -C build "$@"
