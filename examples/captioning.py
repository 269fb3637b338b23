"""Image captioning: a CNN reads the image, a recurrent decoder writes the sentence.

The lecture's one-to-many task. The CNN's features become the decoder's first hidden state;
the decoder is trained with teacher forcing (the true previous word in, a score for every
vocabulary word out, cross-entropy with <NULL> padding ignored) and writes captions greedily or
by sampling with a temperature. With --attention 1 (the default) it looks at a grid of L
feature vectors v_i at every step: p = softmax(e), z = sum_i p_i v_i.

    python examples/captioning.py                          # LSTM + attention, generated scenes
    python examples/captioning.py --attention 0 --cell rnn # CS231n's plain RNN captioner
    python examples/captioning.py --out runs/cap --resume --steps 4000    # continue a run
    python examples/captioning.py --data coco --coco-captions annotations/captions_val2014.json \
        --coco-images val2014 --image-size 64              # real COCO captions
    python examples/captioning.py --smoke                  # a few seconds, for CI

Writes to --out: ckpt.npz, loss.png, captions_test.png / captions_comp.png (greedy captions
under the images), attention_*.png (one panel per generated word), and prints BLEU-4 (0-1)
on the test split and on the compositional split (colour-shape pairs never seen in training).

Measured (default run, 1800 steps: 5.9 minutes on a quiet 2-core box, 13.8 on a busy one):
test loss 0.072-0.076 nats/word, BLEU-4 1.000 on the test split, 0.913-0.928 on the
compositional split (two runs).
"""
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # small matrices: one BLAS thread is fastest

import numpy as np  # noqa: E402

import minigrad  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common.checkpoint import load_checkpoint, resumed_config, save_checkpoint  # noqa: E402
from common.config import config_parser, given_flags  # noqa: E402
from common.plots import plot_curves  # noqa: E402
from common.progress import progress  # noqa: E402
from scene_world import explore, formats, language, metrics, pictures, world  # noqa: E402
from scene_world.models import Captioner, to_input  # noqa: E402

# -----------------------------------------------------------------------------------------
CONFIG = dict(
    cell="lstm",           # rnn | lstm
    attention=1,           # 1: soft attention over the feature grid; 0: features -> h_0 only
    hidden=256,            # decoder hidden units
    embed=64,              # word vector size
    channels="16,32,64,64",  # CNN channels per block (each block halves the side)
    batch_size=32,         # images per step (one random reference caption each)
    steps=1800,            # optimizer steps (counting those of a resumed run)
    minutes=0.0,           # >0: also stop after this much training time
    lr=2e-3,               # Adam learning rate (cosine decay to a tenth over --steps)
    clip=5.0,              # clip the global gradient norm
    eval_every=200,        # steps between test losses and checkpoints
    n_train=8000,          # generated training scenes
    n_test=500,            # generated test scenes (and as many compositional ones)
    temperature=0.7,       # temperature of the sampled captions printed at the end
    data="world",          # world | coco
    coco_captions="",      # --data coco: captions_*.json
    coco_images="",        # --data coco: the folder of its images
    image_size=64,         # --data coco: images are resized to this square
    device="cpu",          # cpu | cuda
    seed=0,                # seeds data and initialization
    out="runs/captioning",  # checkpoint and pictures go here
)
SMOKE = dict(hidden=32, embed=16, channels="4,8,8,8", batch_size=8, steps=6, eval_every=3,
             n_train=64, n_test=16)


def parse_args(argv=None):
    parser = config_parser(__file__, CONFIG, __doc__.split("\n\n")[0])
    parser.add_argument("--resume", action="store_true", help="continue from --out/ckpt.npz")
    parser.add_argument("--smoke", action="store_true", help="a tiny run for CI (seconds)")
    parser.add_argument("--explore", action="store_true", help="also write explore.html (viz.explore)")
    args = parser.parse_args(argv)
    cfg = dict(CONFIG, **(SMOKE if args.smoke else {}))
    cfg.update(given_flags(args, CONFIG))
    return cfg, args


def load_data(cfg):
    """{split: (images uint8 (N, S, S, 3), [[caption, ...], ...])} and the vocabulary."""
    if cfg["data"] == "world":
        splits = world.make_splits(cfg["n_train"], cfg["n_test"], cfg["n_test"], cfg["seed"])
        data = {k: (im, [language.captions(s) for s in sc]) for k, (im, sc) in splits.items()}
        min_count = 1
    elif cfg["data"] == "coco":
        if not (cfg["coco_captions"] and cfg["coco_images"]):
            raise ValueError("--data coco needs --coco-captions FILE and --coco-images DIR")
        items = formats.load_coco_captions(cfg["coco_captions"], cfg["coco_images"])
        images = formats.load_images([p for p, _ in items], cfg["image_size"])
        caps = [c for _, c in items]
        n_test = max(1, min(cfg["n_test"], len(items) // 10))
        data = {"train": (images[n_test:], caps[n_test:]), "test": (images[:n_test], caps[:n_test])}
        min_count = 5 if len(items) > 1000 else 1
    else:
        raise ValueError(f"--data must be 'world' or 'coco', got {cfg['data']!r}")
    vocab = language.Vocab.build((c for cs in data["train"][1] for c in cs), min_count)
    return data, vocab


def main(argv=None):
    cfg, args = parse_args(argv)
    os.makedirs(cfg["out"], exist_ok=True)
    ckpt_path = os.path.join(cfg["out"], "ckpt.npz")
    ckpt = load_checkpoint(ckpt_path, "captioning", ("model", "optimizer", "step")) if args.resume else None
    if ckpt is not None:        # the model's shape and data come from the checkpoint
        cfg = resumed_config(cfg, given_flags(args, CONFIG), ckpt["config"], ckpt_path,
                             free=("steps", "minutes", "device", "out", "eval_every", "temperature"))
    minigrad.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    device = cfg["device"]

    # -- data ---------------------------------------------------------------------------------
    t0 = time.time()
    data, vocab = load_data(cfg)
    if ckpt is not None:
        vocab = language.Vocab.from_state_dict(ckpt["vocab"])
    train_images, train_caps = data["train"]
    max_len = max(len(language.tokenize(c)) for cs in train_caps for c in cs) + 2
    encoded = [vocab.encode_batch(cs, max_len) for cs in train_caps]   # per image (k, T)
    print(f"data: {cfg['data']}, {len(train_images):,} training images, "
          f"{sum(len(c) for c in train_caps):,} captions, vocabulary {len(vocab)}, "
          f"max length {max_len} ({time.time() - t0:.1f}s)")

    # -- model --------------------------------------------------------------------------------
    channels = tuple(int(c) for c in str(cfg["channels"]).split(","))
    grid = (train_images.shape[1] // 2 ** len(channels)) ** 2
    model = Captioner(len(vocab), cfg["cell"], bool(cfg["attention"]), channels, grid,
                      cfg["embed"], cfg["hidden"])
    model.to(device)
    optimizer = minigrad.optim.Adam(model.parameters(), lr=cfg["lr"])
    step, history = 0, {"train": ([], []), "test": ([], [])}
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        step = int(ckpt["step"])
        history = {k: tuple(map(list, v)) for k, v in ckpt["history"].items()}
        rng = np.random.default_rng([cfg["seed"], step])
        print(f"resumed {ckpt_path} at step {step}")
    n_params = sum(int(np.prod(p.shape)) for p in model.parameters())
    print(f"model: CNN {channels} -> {cfg['cell'].upper()} {cfg['hidden']}"
          f"{' + attention over %d cells' % grid if cfg['attention'] else ''}, {n_params:,} parameters")

    def batch(images, caps, idx):
        """Images and one random reference caption of each: x, captions_in, targets."""
        rows = np.stack([caps[i][rng.integers(len(caps[i]))] for i in idx])     # (B, T)
        return (to_input(images[idx], device), minigrad.tensor(rows[:, :-1], device=device),
                minigrad.tensor(rows[:, 1:], device=device))

    def loss_of(x, cin, target):
        scores = model(x, cin)                                                  # (B, T, V)
        return F.cross_entropy(scores.reshape(-1, len(vocab)), target.reshape(-1),
                               ignore_index=vocab.null)

    def estimate_loss():
        images, caps = data["test"]
        enc = [vocab.encode_batch(cs, max_len) for cs in caps]
        model.eval()
        with minigrad.no_grad():
            idx = np.arange(min(len(images), 128))
            losses = [loss_of(*batch(images, enc, idx[i:i + 64])).item() for i in range(0, len(idx), 64)]
        model.train()
        return float(np.mean(losses))

    def save():
        save_checkpoint({"config": cfg, "vocab": vocab.state_dict(), "model": model.state_dict(),
                         "optimizer": optimizer.state_dict(), "step": step,
                         "history": {k: [list(a), list(b)] for k, (a, b) in history.items()}},
                        ckpt_path, "captioning")

    # -- training -----------------------------------------------------------------------------
    start, start_step = time.time(), step
    bar = progress(total=cfg["steps"], initial=step)
    while step < cfg["steps"] and not (cfg["minutes"] and time.time() - start > 60 * cfg["minutes"]):
        lr = cfg["lr"] * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * step / cfg["steps"])))
        for group in optimizer.param_groups:
            group["lr"] = lr
        idx = rng.integers(len(train_images), size=cfg["batch_size"])
        loss = loss_of(*batch(train_images, encoded, idx))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
        optimizer.step()
        step += 1
        history["train"][0].append(step)
        history["train"][1].append(loss.item())
        bar.update(1)
        bar.set_postfix_str(f"loss {loss.item():.3f}")
        if step % cfg["eval_every"] == 0 or step == cfg["steps"]:
            test_loss = estimate_loss()
            history["test"][0].append(step)
            history["test"][1].append(test_loss)
            bar.write(f"step {step}: train loss {loss.item():.3f}, test loss {test_loss:.3f}, "
                      f"{(time.time() - start) / max(step - start_step, 1):.2f}s/step")
            save()
    bar.close()
    train_time = time.time() - start
    save()
    plot_curves(history, os.path.join(cfg["out"], "loss.png"), ylabel="loss (nats/word)",
                title=f"captioning ({cfg['cell']}{' + attention' if cfg['attention'] else ''})")

    # -- evaluation: greedy captions, BLEU-4, pictures ------------------------------------------
    model.eval()
    print(f"trained {step - start_step} steps in {train_time / 60:.1f} min")
    for name in [k for k in ("test", "comp") if k in data]:
        images, refs = data[name]
        hyps, alphas = [], []
        with minigrad.no_grad():
            for i in range(0, len(images), 100):
                ids, a = model.generate(to_input(images[i:i + 100], device), max_len,
                                        vocab.start, vocab.end)
                hyps += [vocab.decode(r) for r in ids]
                alphas += list(a) if a is not None else []
        print(f"BLEU-4 {name}: {metrics.bleu4(hyps, refs):.3f}  ({len(hyps)} images)")
        for h, r in list(zip(hyps, refs))[:3]:
            print(f"  generated: {h}\n  reference: {r[0]}")
        pictures.image_grid(images[:12], hyps[:12], os.path.join(cfg["out"], f"captions_{name}.png"))
        side = int(round(np.sqrt(grid)))
        for k in range(min(2, len(alphas))):
            words = hyps[k].split() + ["<END>"]
            maps = [alphas[k][t].reshape(side, side) for t in range(min(len(words), max_len))]
            pictures.attention_maps(images[k], words, maps,
                                    os.path.join(cfg["out"], f"attention_{name}_{k}.png"))
        if args.explore and name == "test":
            print("written:", explore.write(model, vocab, images[0], hyps[0], alphas[0] if alphas else None,
                                            os.path.join(cfg["out"], "explore.html"), device))
    with minigrad.no_grad():
        ids, _ = model.generate(to_input(data["test"][0][:3], device), max_len, vocab.start,
                                vocab.end, temperature=cfg["temperature"], rng=rng)
    for r in ids:
        print(f"  sampled (T={cfg['temperature']}): {vocab.decode(r)}")


if __name__ == "__main__":
    main()
