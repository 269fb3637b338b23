#!/usr/bin/env bash
# Install what the tests need and run the whole suite, with the Python scripts/venv.sh
# chooses (an active environment, the `python` on PATH when it takes installs, else .venv).
# Extra arguments go to pytest (e.g. tests/test_serialization.py -x).
set -euo pipefail
cd "$(dirname "$0")/.."

# Python packages: the package itself, editable, with these extras (pyproject.toml).
EXTRAS="test,torch,mpi"     # mpi: mpi4py + MPICH's mpiexec, for the `mpiexec -n 2` tests
# Everything else the tests use, one install script a line (each installs only what is
# missing, and runs after venv.sh: its `python -m pip` is the chosen Python's).
INSTALL_STEPS=(
    scripts/install_dot.sh      # graphviz's `dot`, for the graph pictures
    scripts/install_browser.sh  # headless Chromium + chromedriver, for the browser tests
)

source scripts/venv.sh
for step in "${INSTALL_STEPS[@]}"; do      # first: a pip extra may build against them
    bash "$step"
done
install_project "$EXTRAS"
python -m pytest -q -p no:cacheprovider "$@"
