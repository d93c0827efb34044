#!/usr/bin/env bash
# Installs the Debian packages MoNA needs, only when missing. Idempotent and non-interactive.
# Runs apt-get directly as root, or through sudo otherwise.
# `setup.sh cluster` adds what scripts/slurm-test.sh runs on: Slurm, munge and GNU parallel.
set -euo pipefail

packages=(libopenblas-dev zlib1g-dev pkg-config espeak-ng)
if [ "${1:-}" = cluster ]; then packages+=(slurm-wlm munge parallel); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all system packages present (${packages[*]})"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
  echo "setup: missing ${missing[*]} and not root (no sudo): install them with apt-get" >&2; exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
