#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard browser tests when it is missing (needs root and apt-get).
set -euo pipefail

chromium="${FACTORY_CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$chromium" ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "Chromium is missing; installing Debian's chromium package for the dashboard tests" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    echo "Chromium is missing; installing Debian's chromium package (sudo) for the dashboard tests" >&2
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

if [ ! -x "$chromium" ]; then
  echo "Chromium is not installed at $chromium and could not be installed here." >&2
  echo "Install it (Debian/Ubuntu: apt-get install -y chromium) or set FACTORY_CHROMIUM_PATH." >&2
  exit 1
fi
