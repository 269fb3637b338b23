#!/usr/bin/env bash
# For a person with an NVIDIA GPU: install the CUDA extra (CuPy), run the GPU tests and the
# GPU benchmark, and print a summary. Usage:  bash scripts/check_gpu.sh [--no-install]
# (--no-install where CuPy, PyTorch and pytest are there already, or there is no network;
# PYTHON=... picks the interpreter, else python3, else python)
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"   # this checkout, installed or not
PY="${PYTHON:-$(command -v python3 || command -v python)}"

if [[ "${1:-}" != "--no-install" ]]; then
    "$PY" -m pip install -q -e ".[cuda,test,torch]" || { echo "pip install failed"; exit 1; }
fi

"$PY" - <<'PY' || { echo "SUMMARY: no usable GPU (CuPy and a CUDA GPU are required)"; exit 1; }
import minigrad
import sys
if not minigrad.cuda.is_available():
    print("minigrad.cuda.is_available() is False: check the driver and CuPy (cupy-cuda12x, or the cupy-cuda13x of a CUDA 13 machine)")
    sys.exit(1)
import cupy
name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
print(f"GPU: {name}, devices: {minigrad.cuda.device_count()}, CuPy {cupy.__version__}")
PY

echo "== GPU tests (tests marked gpu) =="
"$PY" -m pytest -q -p no:cacheprovider -m gpu tests/test_gpu.py
tests_rc=$?

echo "== device-agnostic suite (checked device, kernels of minigrad/ops/rnn_kernels.py compiled on the host) =="
"$PY" -m pytest -q -p no:cacheprovider tests/test_backend_checked.py tests/test_gpu_kernels.py tests/test_device.py
checked_rc=$?

echo "== GPU benchmark: char-LM training step, B=64 T=128 H=512 =="
"$PY" bench/gpu_char_lm.py --device cuda
bench_rc=$?

echo
echo "SUMMARY"
echo "  GPU tests:           $([[ $tests_rc == 0 ]] && echo passed || echo "FAILED (rc=$tests_rc)")"
echo "  checked-device run:  $([[ $checked_rc == 0 ]] && echo passed || echo "FAILED (rc=$checked_rc)")"
echo "  benchmark:           $([[ $bench_rc == 0 ]] && echo "ran (numbers above)" || echo "FAILED (rc=$bench_rc)")"
exit $(( tests_rc || checked_rc || bench_rc ))
