#!/usr/bin/env bash
# Install what the tests need (graphviz's `dot`, the package with its test extras, PyTorch CPU
# for the parity tests) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_dot.sh
python -m pip install -q -e ".[test,torch]"
python -m pytest -q -p no:cacheprovider "$@"
