#!/usr/bin/env bash
# The main job: install what is needed, train the character-level LSTM language model on the
# built-in corpus (Python's own documentation prose, no download), sample from it, and render
# its unrolled graph, gradient flow, interpretable cells and the interactive explorer page
# (explore.html); then the lecture's "hello" toy.
# Installs into and runs with the Python scripts/venv.sh chooses (an active environment, the
# `python` on PATH when it takes installs, else the project's .venv). Extra arguments go
# to char_lm.py (e.g. --cell gru).
set -euo pipefail
cd "$(dirname "$0")/.."

EXTRAS="examples"
INSTALL_STEPS=(
    scripts/install_dot.sh      # graphviz's `dot`, for the graph pictures
)

source scripts/venv.sh
for step in "${INSTALL_STEPS[@]}"; do      # first: a pip extra may build against them
    bash "$step"
done
install_project "$EXTRAS"
python examples/char_lm.py --out runs/char_lm --explore "$@"
python examples/char_lm.py --hello --out runs/hello
