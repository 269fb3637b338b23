#!/usr/bin/env bash
# Install the graphviz `dot` program when it is missing (Debian/Ubuntu; needs root or sudo).
set -euo pipefail
if command -v dot >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq graphviz >/dev/null
command -v dot >/dev/null
