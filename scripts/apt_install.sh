#!/usr/bin/env bash
# Install Debian/Ubuntu packages: `bash scripts/apt_install.sh graphviz ...` (root or sudo).
# Waits for another apt or dpkg run to finish instead of failing on its lock.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
for attempt in 1 2 3 4 5 6; do
    if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=120 "$@" >/dev/null; then
        exit 0
    fi
    echo "apt-get install $* failed (attempt $attempt); retrying in 20 s" >&2
    sleep 20
done
exit 1
