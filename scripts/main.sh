#!/usr/bin/env bash
# The main job: install what is needed, train the character-level LSTM language model on the
# built-in corpus (Python's own documentation prose, no download), sample from it, and render
# its unrolled graph, gradient flow and interpretable cells; then the lecture's "hello" toy.
# About 3 minutes on a 2-core machine. Extra arguments go to char_lm.py (e.g. --cell gru).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_dot.sh
python -m pip install -q -e ".[examples]"
python examples/char_lm.py --out runs/char_lm "$@"
python examples/char_lm.py --hello --out runs/hello
