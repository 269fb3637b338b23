#!/usr/bin/env bash
# Installs headless Chromium and its WebDriver (Debian packages chromium, chromium-driver)
# when missing, for the browser tests of minigrad.viz.explore (tests/test_viz_explore_browser.py),
# and the selenium Python package. Safe to run again: it does nothing when all are present.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    for attempt in 1 2 3 4 5; do     # another apt may hold the dpkg lock for a while
        if $SUDO apt-get update && $SUDO apt-get install -y chromium chromium-driver; then
            break
        fi
        if [ "$attempt" -eq 5 ]; then exit 1; fi
        sleep 20
    done
fi
if ! python -c "import selenium" >/dev/null 2>&1; then
    python -m pip install "selenium>=4.10"
fi
chromium --version 2>/dev/null || true
