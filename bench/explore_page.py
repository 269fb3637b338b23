"""Size and opening time of viz.explore pages for T = 5, 50, 200 (the issue's budget:
a T=50 LSTM page under 2 MB, a T=200 page open in under a second).

    python bench/explore_page.py            # needs dot, chromium, chromedriver, selenium

The model is the char-LM's default shape (2-layer LSTM, 256 units, embedding 64, 80
characters), the loss is the last character's, and the hidden-state explorer holds 1000
characters of c and h (as ``char_lm.py --explore`` writes). "ready" is the time from
navigation to ``window.minigradExplorer.ready`` measured inside Chromium (performance.now()).
"""
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, ".."), os.path.join(HERE, "..", "examples"),
                os.path.join(HERE, "..", "tests")]
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import minigrad  # noqa: E402
import nn.functional as F  # noqa: E402
from char_lm.model import CharRNN  # noqa: E402

import browser_support  # noqa: E402


def build(T, V=80, N=1000):
    minigrad.manual_seed(0)
    rng = np.random.default_rng(0)
    model = CharRNN(V, "lstm", 256, 2, 64)
    logits, _ = model(minigrad.tensor(rng.integers(0, V, (T, 1))))
    loss = F.cross_entropy(logits.reshape(T, V)[-1:], minigrad.tensor(rng.integers(0, V, (1,))))
    acts = {"c": rng.standard_normal((N, 256)), "h": rng.standard_normal((N, 256))}
    t0 = time.perf_counter()
    page = minigrad.viz.explore(loss, states=model.rnn.hidden_states,
                                text=("a \"b\" c\n" * N)[:N], activations=acts)
    return page, time.perf_counter() - t0


def main():
    driver, profile = browser_support.start_chromium()
    out = tempfile.mkdtemp()
    try:
        print(f"{'T':>4} {'nodes':>6} {'steps':>6} {'bytes':>11} {'build s':>8} {'ready ms':>9}")
        for T in (5, 50, 200):
            page, seconds = build(T)
            path = page.save(os.path.join(out, f"explore_T{T}.html"))
            ready = []
            for _ in range(3):
                browser_support.open_page(driver, path)
                ready.append(driver.execute_script("return minigradExplorer.loadMs"))
            print(f"{T:4d} {len(page.data['nodes']):6d} {len(page.data['events']):6d} "
                  f"{os.path.getsize(path):11,d} {seconds:8.2f} {min(ready):9.0f}")
    finally:
        browser_support.stop_chromium(driver, profile)


if __name__ == "__main__":
    main()
