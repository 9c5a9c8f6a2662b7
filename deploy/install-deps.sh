#!/usr/bin/env bash
# Installs Andon's build, test and run dependencies from Debian's packages and
# the UI's npm packages. Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config clang llvm bpftool
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev librocksdb-dev libbpf-dev libelf-dev zlib1g-dev
  prometheus-cpp-dev libcpp-httplib-dev
  libgoogle-perftools-dev libre2-dev libgtest-dev libgmock-dev libbenchmark-dev systemtap-sdt-dev
  chromium python3 bpftrace fio
)
# Node.js: use the machine's own if it has one (a newer Node ships its own npm
# and conflicts with Debian's npm package).
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing ${missing[*]}; run as root to install them with apt-get" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi
