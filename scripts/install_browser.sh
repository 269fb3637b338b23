#!/usr/bin/env bash
# Install headless Chromium and its WebDriver (Debian packages chromium, chromium-driver) when
# missing: the browser tests of minigrad.viz.explore and of the offline docs site drive them
# through Selenium (the `test` extra). Does nothing when both are there.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    bash scripts/apt_install.sh chromium chromium-driver
fi
command -v chromium >/dev/null && command -v chromedriver >/dev/null
