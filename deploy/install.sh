#!/usr/bin/env bash
# Installs the built Andon binaries, web UI and systemd units on this machine
# (for running Andon as services on real hosts; the quickstart does not need
# this). Build first with deploy/build.sh. Enable what this host runs, e.g.:
#   systemctl enable --now andon-agent
# usage: deploy/install.sh [PREFIX]   (default /usr/local)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-/usr/local}
if [ "$(id -u)" -ne 0 ]; then echo "install: run as root" >&2; exit 1; fi
for b in andon-controller andon-aggregator andon-agent andonctl; do
  if [ ! -x "$root/build/bin/$b" ]; then
    echo "install: build/bin/$b missing; run deploy/build.sh first" >&2
    exit 1
  fi
done
install -d "$prefix/bin" "$prefix/share/andon/ui"
install -m 0755 "$root"/build/bin/andon-{controller,aggregator,agent} "$root/build/bin/andonctl" "$prefix/bin/"
install -m 0644 "$root"/build/ui/*.{html,js,css,map} "$prefix/share/andon/ui/"
install -m 0644 "$root/README.md" "$prefix/share/andon/README.md"
for unit in "$root"/deploy/systemd/*.service; do
  sed "s|/usr/local/|$prefix/|g" "$unit" >"/etc/systemd/system/$(basename "$unit")"
done
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
fi
echo "install: binaries in $prefix/bin, UI in $prefix/share/andon/ui, units in /etc/systemd/system"
echo "install: set ANDON_CONTROLLER in /etc/default/andon-{aggregator,agent}, then e.g. systemctl enable --now andon-agent"
