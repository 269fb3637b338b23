"""Char-LM training step on the GPU: minigrad (CuPy, cell kernels) beside PyTorch (cuDNN).

    python bench/gpu_char_lm.py                       # cuda, B=64 T=128 H=512
    python bench/gpu_char_lm.py --device cpu --smoke  # tiny run of the same code on the CPU

One step: Embedding(V, H) → LSTM(H, H) → Linear(H, V) → cross_entropy over all T·B
outputs → backward (full BPTT over T) → clip_grad_norm_(5) → Adam. Both frameworks get the
same sizes and the same token batch; the number is training tokens per second (B·T per
step), after warm-up steps, with the device synchronised around the timed loop. The target
of issue 5: minigrad within 2x of PyTorch+cuDNN at B=64, T=128, H=512.

Without CuPy and a CUDA GPU (or without a CUDA build of PyTorch, for its column) it says so
and exits 0: there is nothing to measure.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

CONFIG = dict(
    B=64,          # sequences per batch
    T=128,         # time steps of full BPTT
    H=512,         # embedding and hidden size
    V=65,          # vocabulary (tinyshakespeare's characters)
    steps=20,      # timed steps
    warmup=3,      # untimed steps (CuPy compiles kernels, cuDNN picks algorithms)
    lr=1e-3,
)


def synchronize(device):
    if device.startswith("cuda"):
        import cupy
        cupy.cuda.Device().synchronize()


def minigrad_step_rate(cfg, tokens, device, graph="steps"):
    import minigrad
    import nn
    from nn import functional as F
    minigrad.manual_seed(0)
    embed, lstm, head = nn.Embedding(cfg["V"], cfg["H"]), nn.LSTM(cfg["H"], cfg["H"], graph=graph), nn.Linear(cfg["H"], cfg["V"])
    params = []
    for module in (embed, lstm, head):
        module.to(device)
        params += list(module.parameters())
    opt = minigrad.optim.Adam(params, lr=cfg["lr"])
    x = minigrad.tensor(tokens[:-1], device=device)          # (T, B)
    y = minigrad.tensor(tokens[1:], device=device)

    def step():
        out, _ = lstm(embed(x))                                # (T, B, H)
        loss = F.cross_entropy(head(out).reshape(-1, cfg["V"]), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        return loss
    return timed(step, cfg, lambda: synchronize(device))


def torch_step_rate(cfg, tokens, device):
    import torch
    torch.manual_seed(0)
    embed = torch.nn.Embedding(cfg["V"], cfg["H"]).to(device)
    lstm = torch.nn.LSTM(cfg["H"], cfg["H"]).to(device)
    head = torch.nn.Linear(cfg["H"], cfg["V"]).to(device)
    params = [p for m in (embed, lstm, head) for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=cfg["lr"])
    x = torch.as_tensor(tokens[:-1], device=device)
    y = torch.as_tensor(tokens[1:], device=device)

    def step():
        out, _ = lstm(embed(x))
        loss = torch.nn.functional.cross_entropy(head(out).reshape(-1, cfg["V"]), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        return loss
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    return timed(step, cfg, sync)


def timed(step, cfg, sync):
    for _ in range(cfg["warmup"]):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(cfg["steps"]):
        loss = step()
    sync()
    seconds = time.perf_counter() - start
    return cfg["B"] * cfg["T"] * cfg["steps"] / seconds, float(loss.item())


def profile_minigrad(cfg, tokens, device, graph="steps"):
    """cProfile of a few minigrad steps, by own time: on a GPU the step is mostly Python
    (kernel launches are asynchronous), so this shows where it goes."""
    import cProfile
    import pstats
    profiler = cProfile.Profile()
    profiler.enable()
    minigrad_step_rate(dict(cfg, steps=3, warmup=1), tokens, device, graph)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, 2 steps (checks the code runs)")
    parser.add_argument("--profile", action="store_true",
                        help="also print where minigrad's step spends its time (cProfile, top 25)")
    for key, value in CONFIG.items():
        parser.add_argument(f"--{key}", type=type(value), default=value)
    args = parser.parse_args()
    cfg = {k: getattr(args, k) for k in CONFIG}
    if args.smoke:
        cfg.update(B=4, T=8, H=16, steps=2, warmup=1)

    import minigrad
    if args.device.startswith("cuda") and not minigrad.cuda.is_available():
        print("SKIPPED: CuPy and a CUDA GPU are required for the GPU benchmark "
              "(pip install 'minigrad-rnn[cuda]'; this machine has none)")
        return
    tokens = np.random.default_rng(0).integers(0, cfg["V"], size=(cfg["T"] + 1, cfg["B"]))
    print(f"char-LM training step, LSTM, B={cfg['B']} T={cfg['T']} H={cfg['H']} V={cfg['V']}, "
          f"device {args.device}, {cfg['steps']} timed steps")
    ours, ours_loss = minigrad_step_rate(cfg, tokens, args.device)
    print(f"  minigrad : {ours:12,.0f} tokens/s   (last loss {ours_loss:.4f}; one node per step)")
    seq, seq_loss = minigrad_step_rate(cfg, tokens, args.device, graph="layer")
    print(f"  minigrad : {seq:12,.0f} tokens/s   (last loss {seq_loss:.4f}; graph='layer')")
    if args.profile:
        for graph in ("steps", "layer"):
            print(f"profile, graph={graph!r}:")
            profile_minigrad(cfg, tokens, args.device, graph)
    try:
        import torch
        usable = torch.cuda.is_available() if args.device.startswith("cuda") else True
    except ImportError:
        usable = False
    if not usable:
        print("  pytorch  : not measured (no CUDA build of PyTorch here)")
        return
    theirs, theirs_loss = torch_step_rate(cfg, tokens, args.device)
    print(f"  pytorch  : {theirs:12,.0f} tokens/s   (last loss {theirs_loss:.4f})")
    print(f"  ratio    : PyTorch is {theirs / ours:.2f}x minigrad, {theirs / seq:.2f}x minigrad "
          f"graph='layer' (target: within 2x)")


if __name__ == "__main__":
    main()
