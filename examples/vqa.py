"""Visual question answering: an image and a question in, one answer out.

The lecture's many-to-one task with two inputs. A CNN reads the image, an LSTM reads the
question word by word; the two vectors are fused (elementwise product, or concatenation with
--fusion cat) and a small classifier picks the answer. A second model with the image removed
(the question-only baseline) is trained beside it, to show how much the image matters.

    python examples/vqa.py                          # generated scenes (colour/shape/count/exists/spatial)
    python examples/vqa.py --data easy-vqa          # easy-VQA's official train/test split
    python examples/vqa.py --data vqa2 --vqa-questions Q.json --vqa-annotations A.json \
        --vqa-images val2014                        # the real VQA v2 format
    python examples/vqa.py --out runs/vqa --resume --steps 3000   # continue a run
    python examples/vqa.py --smoke                  # a few seconds, for CI

A step takes --batch-size images and every question about them, so each image is encoded once
per step however many questions it has (and each distinct question once). Writes to --out:
ckpt.npz, loss.png, answers_<split>.png, and prints accuracy overall and per question type
on the test split (and the compositional split of the generated world) for both models.

Measured, default runs (2000 steps, 6.5 minutes each on a quiet 2-core box):
    world     test 0.904 (colour 1.00, count 0.95, exists 1.00, shape 1.00, spatial 0.50);
              question only 0.418; compositional split 0.594 (question only 0.387)
    easy-VQA  official test split 0.998 (colour 1.00, exists 0.998, shape 0.999); question only 0.668
Spatial questions stay at chance: one attention glimpse and a flattened grid do not relate two
objects in this many steps.
"""
import os
import sys
import time
from collections import Counter

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
from scene_world import formats, language, metrics, pictures, world  # noqa: E402
from scene_world.models import VQAModel, to_input  # noqa: E402

# -----------------------------------------------------------------------------------------
CONFIG = dict(
    data="world",          # world | easy-vqa | vqa2
    fusion="cat",          # cat (concatenation: learns faster here) | mul (elementwise product)
    hidden=128,            # question LSTM hidden units
    embed=64,              # word vector size
    fused=256,             # width of the fused vector and the classifier's hidden layer
    channels="16,32,64,64",  # CNN channels per block (each block halves the side)
    batch_size=32,         # images per step (with all their questions)
    steps=2000,            # optimizer steps of the image model (counting a resumed run's)
    baseline_steps=300,    # optimizer steps of the question-only baseline (0: skip it)
    minutes=0.0,           # >0: also stop the image model after this much training time
    lr=2e-3,               # Adam learning rate (cosine decay to a tenth over --steps)
    clip=5.0,              # clip the global gradient norm
    eval_every=200,        # steps between test accuracies and checkpoints
    n_train=8000,          # --data world: training scenes
    n_test=500,            # --data world: test scenes (and as many compositional ones)
    per_type=2,            # --data world: questions of each type per scene
    vqa_questions="",      # --data vqa2: *_questions.json
    vqa_annotations="",    # --data vqa2: *_annotations.json
    vqa_images="",         # --data vqa2: the folder of its images
    top_answers=1000,      # --data vqa2: the classifier's answers (the most frequent ones)
    image_size=64,         # images are resized to this square (easy-VQA and VQA v2)
    device="cpu",          # cpu | cuda
    seed=0,                # seeds data and initialization
    out="runs/vqa",        # checkpoint and pictures go here
)
SMOKE = dict(hidden=16, embed=8, fused=16, channels="4,8,8,8", batch_size=4, steps=6,
             baseline_steps=3, eval_every=3, n_train=32, n_test=8, per_type=1)


def parse_args(argv=None):
    parser = config_parser(__file__, CONFIG, __doc__.split("\n\n")[0])
    parser.add_argument("--resume", action="store_true", help="continue from --out/ckpt.npz")
    parser.add_argument("--smoke", action="store_true", help="a tiny run for CI (seconds)")
    args = parser.parse_args(argv)
    cfg = dict(CONFIG, **(SMOKE if args.smoke else {}))
    cfg.update(given_flags(args, CONFIG))
    return cfg, args


class Split:
    """Images (N, S, S, 3) uint8 and rows of (image_index, question, answer, type)."""

    def __init__(self, images, rows):
        self.images, self.rows = images, rows
        self.by_image = [[] for _ in range(len(images))]
        for k, (i, *_rest) in enumerate(rows):
            self.by_image[i].append(k)


def load_data(cfg, smoke=False):
    """{split name: Split} and the list of answers."""
    if cfg["data"] == "world":
        splits = world.make_splits(cfg["n_train"], cfg["n_test"], cfg["n_test"], cfg["seed"])
        data = {name: Split(im, language.scene_questions(sc, cfg["seed"] * 7 + k, cfg["per_type"]))
                for k, (name, (im, sc)) in enumerate(splits.items())}
        return data, language.answer_vocabulary()
    if cfg["data"] == "easy-vqa":
        import easy_vqa
        data = {}
        for name in ("train", "test"):
            paths, rows = formats.load_easy_vqa(name)
            if smoke:                                   # the first few images only
                keep = sorted(paths)[:cfg["n_train"] if name == "train" else cfg["n_test"]]
                paths = {i: paths[i] for i in keep}
                rows = [r for r in rows if r[0] in paths]
            ids = sorted(paths)
            pos = {i: k for k, i in enumerate(ids)}
            images = formats.load_images([paths[i] for i in ids], cfg["image_size"])
            data[name] = Split(images, [(pos[i], q, a, t) for i, q, a, t in rows])
        return data, easy_vqa.get_answers()
    if cfg["data"] == "vqa2":
        if not (cfg["vqa_questions"] and cfg["vqa_annotations"] and cfg["vqa_images"]):
            raise ValueError("--data vqa2 needs --vqa-questions, --vqa-annotations and --vqa-images")
        items = formats.load_vqa_v2(cfg["vqa_questions"], cfg["vqa_annotations"], cfg["vqa_images"])
        paths = sorted({it["image_path"] for it in items})
        pos = {p: k for k, p in enumerate(paths)}
        images = formats.load_images(paths, cfg["image_size"])
        n_test = max(1, len(paths) // 10)               # the first tenth of the images: test
        answers = [a for a, _ in Counter(it["answer"] for it in items).most_common(cfg["top_answers"])]
        data = {}
        for name, keep in (("train", lambda k: k >= n_test), ("test", lambda k: k < n_test)):
            idx = [k for k in range(len(paths)) if keep(k)]
            new = {k: j for j, k in enumerate(idx)}
            rows = [(new[pos[it["image_path"]]], it["question"], it["answer"], it["type"])
                    for it in items if keep(pos[it["image_path"]])]
            data[name] = Split(images[idx], rows)
            data[name].human = [it["answers"] for it in items if keep(pos[it["image_path"]])]
        return data, answers
    raise ValueError(f"--data must be 'world', 'easy-vqa' or 'vqa2', got {cfg['data']!r}")


def main(argv=None):
    cfg, args = parse_args(argv)
    os.makedirs(cfg["out"], exist_ok=True)
    ckpt_path = os.path.join(cfg["out"], "ckpt.npz")
    ckpt = load_checkpoint(ckpt_path, "vqa", ("model", "optimizer", "step")) if args.resume else None
    if ckpt is not None:        # the model's shape and data come from the checkpoint
        cfg = resumed_config(cfg, given_flags(args, CONFIG), ckpt["config"], ckpt_path,
                             free=("steps", "baseline_steps", "minutes", "device", "out", "eval_every"))
    minigrad.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    device = cfg["device"]

    # -- data ---------------------------------------------------------------------------------
    t0 = time.time()
    data, answers = load_data(cfg, args.smoke)
    train = data["train"]
    vocab = language.Vocab.build(q for _, q, _, _ in train.rows)
    if ckpt is not None:
        vocab = language.Vocab.from_state_dict(ckpt["vocab"])
    answer_id = {a: k for k, a in enumerate(answers)}
    q_len = max(len(language.tokenize(q)) for _, q, _, _ in train.rows)
    encoded = {name: (vocab.encode_batch([r[1] for r in s.rows], q_len, ends=False),
                      np.array([answer_id.get(r[2], -100) for r in s.rows], np.int64))
               for name, s in data.items()}
    print(f"data: {cfg['data']}, " + ", ".join(f"{k} {len(s.images):,} images / {len(s.rows):,} "
          f"questions" for k, s in data.items()) + f"; {len(vocab)} words, {len(answers)} answers "
          f"({time.time() - t0:.1f}s)")

    channels = tuple(int(c) for c in str(cfg["channels"]).split(","))
    grid = (train.images.shape[1] // 2 ** len(channels)) ** 2

    def make(use_image):
        m = VQAModel(len(vocab), len(answers), use_image, cfg["fusion"], channels, grid,
                     cfg["embed"], cfg["hidden"], cfg["fused"])
        m.to(device)
        return m

    def batch(name, image_idx):
        """The images, all their questions, the answer ids and which image each question is about."""
        split, (qs, ans) = data[name], encoded[name]
        rows = [k for i in image_idx for k in split.by_image[i]]
        which = [j for j, i in enumerate(image_idx) for _ in split.by_image[i]]
        return (to_input(split.images[image_idx], device), qs[rows], np.asarray(which),
                minigrad.tensor(ans[rows], device=device), rows)

    def predict(model, name):
        """Predicted answer strings for every question of a split."""
        split = data[name]
        preds = [None] * len(split.rows)
        model.eval()
        with minigrad.no_grad():
            for s in range(0, len(split.images), 64):
                x, q, which, _, rows = batch(name, np.arange(s, min(s + 64, len(split.images))))
                for k, a in zip(rows, model(x, q, which).numpy().argmax(1)):
                    preds[k] = answers[a]
        model.train()
        return preds

    def scores(model, name):
        split = data[name]
        return metrics.accuracy_by_type(predict(model, name), [r[2] for r in split.rows],
                                        [r[3] for r in split.rows])

    def train_model(model, optimizer, step, total, history, label, minutes=0.0):
        """Train to `total` steps; returns the step reached."""
        start, first = time.time(), step
        bar = progress(total=total, initial=step, desc=label)
        while step < total and not (minutes and time.time() - start > 60 * minutes):
            for group in optimizer.param_groups:
                group["lr"] = cfg["lr"] * (0.1 + 0.45 * (1 + np.cos(np.pi * step / total)))
            x, q, which, target, _ = batch("train", rng.integers(len(train.images), size=cfg["batch_size"]))
            loss = F.cross_entropy(model(x, q, which), target)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
            optimizer.step()
            step += 1
            history["train"][0].append(step)
            history["train"][1].append(loss.item())
            bar.update(1)
            bar.set_postfix_str(f"loss {loss.item():.3f}")
            if label == "image+question" and (step % cfg["eval_every"] == 0 or step == total):
                acc = scores(model, "test")["overall"]
                history["test accuracy"][0].append(step)
                history["test accuracy"][1].append(acc)
                bar.write(f"step {step}: loss {loss.item():.3f}, test accuracy {acc:.3f}, "
                          f"{(time.time() - start) / max(step - first, 1):.2f}s/step")
                save(model, optimizer, step, history)
        bar.close()
        print(f"{label}: {step - first} steps in {(time.time() - start) / 60:.1f} min")
        return step

    def save(model, optimizer, step, history):
        save_checkpoint({"config": cfg, "vocab": vocab.state_dict(), "model": model.state_dict(),
                         "optimizer": optimizer.state_dict(), "step": step,
                         "history": {k: [list(a), list(b)] for k, (a, b) in history.items()}},
                        ckpt_path, "vqa")

    # -- the image + question model -------------------------------------------------------------
    model = make(True)
    optimizer = minigrad.optim.Adam(model.parameters(), lr=cfg["lr"])
    step, history = 0, {"train": ([], []), "test accuracy": ([], [])}
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        step = int(ckpt["step"])
        history = {k: tuple(map(list, v)) for k, v in ckpt["history"].items()}
        rng = np.random.default_rng([cfg["seed"], step])
        print(f"resumed {ckpt_path} at step {step}")
    print(f"model: CNN {channels} (.) LSTM {cfg['hidden']}, fusion {cfg['fusion']}, "
          f"{sum(int(np.prod(p.shape)) for p in model.parameters()):,} parameters")
    step = train_model(model, optimizer, step, cfg["steps"], history, "image+question", cfg["minutes"])
    save(model, optimizer, step, history)

    # -- the question-only baseline -------------------------------------------------------------
    baseline, base_history = None, {"train": ([], [])}
    if cfg["baseline_steps"]:
        baseline = make(False)
        base_opt = minigrad.optim.Adam(baseline.parameters(), lr=cfg["lr"])
        train_model(baseline, base_opt, 0, cfg["baseline_steps"], base_history, "question only")
    plot_curves({"image+question": history["train"], "question only": base_history["train"]},
                os.path.join(cfg["out"], "loss.png"), ylabel="loss (nats)", title=f"VQA ({cfg['data']})")

    # -- evaluation -----------------------------------------------------------------------------
    for name in [k for k in ("test", "comp") if k in data]:
        split = data[name]
        preds = predict(model, name)
        full = metrics.accuracy_by_type(preds, [r[2] for r in split.rows], [r[3] for r in split.rows])
        print(f"{name} accuracy, image+question: {metrics.format_scores(full)}")
        if hasattr(split, "human"):                     # VQA v2: scored against ten humans
            score = np.mean([metrics.vqa_v2_score(p, h) for p, h in zip(preds, split.human)])
            print(f"{name} VQA v2 score (min(1, #humans/3)): {score:.3f}")
        if baseline is not None:
            print(f"{name} accuracy, question only:  {metrics.format_scores(scores(baseline, name))}")
        pick = [split.by_image[i][i % len(split.by_image[i])]          # a mix of question types
                for i in range(min(12, len(split.images))) if split.by_image[i]]
        pictures.answer_grid([split.images[split.rows[k][0]] for k in pick], [split.rows[k][1] for k in pick],
                             [preds[k] for k in pick], [split.rows[k][2] for k in pick],
                             os.path.join(cfg["out"], f"answers_{name}.png"))


if __name__ == "__main__":
    main()
