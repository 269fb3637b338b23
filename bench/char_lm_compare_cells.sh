#!/usr/bin/env bash
# The lecture's claim that gated cells win: vanilla RNN, LSTM and GRU with the same hidden
# size (2 layers of 256, embedding 64, B=32, T=64, Adam 2e-3 decayed, clip 5), each trained
# for the same MINUTES of training time on tiny-shakespeare; prints the three validation
# losses side by side. Usage: bash bench/char_lm_compare_cells.sh [MINUTES]
# Measured, 4 min each (shared 2-core box): RNN 4951 steps, val 1.542 | LSTM 1604 steps,
# 1.550 | GRU 1844 steps, 1.488. At equal steps (1600): RNN 1.630, LSTM 1.550, GRU 1.497.
# 10 min each (quiet box, 2026-11-28), best validation: RNN 1.589 (step 4200 of 17918, then it
# overfits: 1.603 at the end) | LSTM 1.474 (4802 steps) | GRU 1.481 (6052 steps).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data/tinyshakespeare.txt
[ -f "$DATA" ] || { echo "skip: $DATA is absent"; exit 0; }
MIN="${1:-6}"
mkdir -p runs
for cell in rnn lstm gru; do
    python examples/char_lm.py --data "$DATA" --out "runs/bench_cells_$cell" --cell "$cell" \
        --layers 2 --hidden 256 --embedding 64 --batch-size 32 --seq-len 64 --lr 2e-3 \
        --clip 5 --minutes "$MIN" --eval-every 200 --eval-chunks 54 --sample 200 \
        --prime "ROMEO:" --no-pictures 2>&1 | stdbuf -oL tr '\r' '\n' | grep --line-buffered -v '^train' \
        > "runs/bench_cells_$cell.log"
done
echo "cell  parameters  steps  validation (nats/char) after $MIN min of training; best validation"
for cell in rnn lstm gru; do
    params=$(grep -o '[0-9,]* parameters' "runs/bench_cells_$cell.log" | head -1)
    last=$(grep '^step' "runs/bench_cells_$cell.log" | tail -1)
    best=$(grep -o 'best validation loss .*' "runs/bench_cells_$cell.log" | tail -1)
    echo "$cell  $params  $last; $best"
done
