#!/usr/bin/env bash
# Install the graphviz `dot` program when it is missing (Debian/Ubuntu; needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v dot >/dev/null 2>&1; then
    exit 0
fi
bash scripts/apt_install.sh graphviz
command -v dot >/dev/null
