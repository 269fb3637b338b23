"""Visual question answering: an image and a question in, one answer out.

The lecture's many-to-one task with two inputs. A CNN reads the image, an LSTM reads the
question word by word; the two vectors are joined (concatenation, or elementwise product with
--fusion mul) into one of width --joint, and a small classifier picks the answer. A second model with the image removed
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
on the test split (and the compositional split of the generated world) for both models, then
the files it wrote. --graph gates | steps | layer is how the question LSTM records its loop.

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

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # small matrices: one BLAS thread is fastest

import numpy as np  # noqa: E402

import minigrad  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common.checkpoint import save_checkpoint  # noqa: E402
from common.cli import print_written, require_device, require_paths, run_script  # noqa: E402
from common.config import config_parser, device_name, given_flags, int_list  # noqa: E402
from common.plots import plot_curves  # noqa: E402
from common.progress import progress  # noqa: E402
from common.resume import history_to_save, open_run, restore_training  # noqa: E402
from common.training import cosine_lr, optimizer_step, out_of_time, set_lr  # noqa: E402
from scene_world import language, metrics, pictures  # noqa: E402
from scene_world.models import VQAModel, feature_grid  # noqa: E402
from scene_world.vqa_data import QuestionBatches, load_data  # noqa: E402

# -----------------------------------------------------------------------------------------
CONFIG = dict(
    data="world",          # world | easy-vqa | vqa2
    fusion="cat",          # cat (concatenation: learns faster here) | mul (elementwise product)
    hidden=128,            # question LSTM hidden units
    graph="steps",         # how the question LSTM records time: gates | steps | layer (one node)
    embed=64,              # word vector size
    joint=256,             # width of the joint image-question vector and the classifier's layer
    channels="16,32,64,64",  # CNN channels per block (each block halves the side)
    batch_size=32,         # images per step (with all their questions)
    steps=2000,            # optimizer steps of the image model (counting a resumed run's)
    baseline_steps=300,    # optimizer steps of the question-only baseline (0: skip it)
    minutes=0.0,           # >0: also stop the image model after this much training time
    lr=2e-3,               # Adam learning rate (cosine decay to a tenth over --steps)
    clip=5.0,              # clip the global gradient norm (0: no clipping)
    eval_every=200,        # steps between test accuracies and checkpoints
    n_train=8000,          # --data world: training scenes
    n_test=500,            # --data world: test scenes (and as many compositional ones)
    per_type=2,            # --data world: questions of each type per scene
    vqa_questions="",      # --data vqa2: *_questions.json
    vqa_annotations="",    # --data vqa2: *_annotations.json
    vqa_images="",         # --data vqa2: the folder of its images
    top_answers=1000,      # --data vqa2: the classifier's answers (the most frequent ones)
    image_size=64,         # images are resized to this square (easy-VQA and VQA v2)
    device="cpu",          # cpu | cuda | cuda:N
    seed=0,                # seeds data and initialization
    out="runs/vqa",        # checkpoint and pictures go here
)
# What each flag accepts (common/config.py): argparse refuses anything else.
RULES = dict(data=("world", "easy-vqa", "vqa2"), fusion=("cat", "mul"), hidden="> 0",
             graph=nn.GRAPH_MODES, embed="> 0", joint="> 0", channels=int_list,
             batch_size="> 0", steps=">= 0", baseline_steps=">= 0", minutes=">= 0", lr="> 0",
             clip=">= 0", eval_every="> 0", n_train="> 0", n_test="> 0", per_type="> 0",
             top_answers="> 0", image_size="> 0", device=device_name, seed=">= 0")
# Settings each run chooses for itself; --resume takes every other one from the checkpoint.
FREE = ("steps", "baseline_steps", "minutes", "device", "out", "eval_every", "graph")
SMOKE = dict(hidden=16, embed=8, joint=16, channels="4,8,8,8", batch_size=4, steps=6,
             baseline_steps=3, eval_every=3, n_train=32, n_test=8, per_type=1)


def parse_args(argv=None):
    """(configuration: defaults < smoke < flags, parsed args, the flags given)."""
    parser = config_parser(__file__, CONFIG, __doc__.split("\n\n")[0], RULES)
    parser.add_argument("--resume", action="store_true", help="continue from --out/ckpt.npz")
    parser.add_argument("--smoke", action="store_true", help="a tiny run for CI (seconds)")
    args = parser.parse_args(argv)
    given = given_flags(args, CONFIG)
    return {**CONFIG, **(SMOKE if args.smoke else {}), **given}, args, given


def main(argv=None):
    cfg, args, given = parse_args(argv)
    device = require_device(cfg["device"])
    cfg, ckpt, ckpt_path = open_run(cfg, given, args.resume, "vqa",
                                    keys=("model", "optimizer", "step"), free=FREE)
    minigrad.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])

    # -- data ---------------------------------------------------------------------------------
    t0 = time.time()
    if cfg["data"] == "vqa2":
        require_vqa2_files(cfg)
    data, answers = load_data(cfg, args.smoke)
    vocab = (language.Vocab.build(q for _, q, _, _ in data["train"].rows) if ckpt is None
             else language.Vocab.from_state_dict(ckpt["vocab"]))
    batches = QuestionBatches(data, vocab, answers, device)
    print(f"data: {cfg['data']}, " + ", ".join(f"{k} {len(s.images):,} images / {len(s.rows):,} "
          f"questions" for k, s in data.items()) + f"; {len(vocab)} words, {len(answers)} answers "
          f"({time.time() - t0:.1f}s)")

    # -- the image + question model -------------------------------------------------------------
    channels = tuple(int(c) for c in str(cfg["channels"]).split(","))
    grid = feature_grid(data["train"].images.shape[1], channels)
    model = make_model(cfg, len(vocab), len(answers), True, channels, grid)
    optimizer = minigrad.optim.Adam(model.parameters(), lr=cfg["lr"])
    step, history = 0, {"train": ([], []), "test accuracy": ([], [])}
    if ckpt is not None:
        step, history = restore_training(ckpt, model, optimizer)
        rng = np.random.default_rng([cfg["seed"], step])
        print(f"resumed {ckpt_path} at step {step}")
    print(f"model: CNN {channels} (.) LSTM {cfg['hidden']}, fusion {cfg['fusion']}, "
          f"{sum(int(np.prod(p.shape)) for p in model.parameters()):,} parameters")
    step = train_model(model, optimizer, step, cfg["steps"], history, "image+question",
                       batches, cfg, rng, checkpoint=ckpt_path)
    save_run(ckpt_path, cfg, vocab, model, optimizer, step, history)

    # -- the question-only baseline -------------------------------------------------------------
    baseline, base_history = None, {"train": ([], [])}
    if cfg["baseline_steps"]:
        baseline = make_model(cfg, len(vocab), len(answers), False, channels, grid)
        base_opt = minigrad.optim.Adam(baseline.parameters(), lr=cfg["lr"])
        train_model(baseline, base_opt, 0, cfg["baseline_steps"], base_history, "question only",
                    batches, cfg, rng)
    paths = {"checkpoint": ckpt_path, "loss curve": os.path.join(cfg["out"], "loss.png")}
    plot_curves({"image+question": history["train"], "question only": base_history["train"]},
                paths["loss curve"], ylabel="loss (nats)", title=f"VQA ({cfg['data']})")

    # -- evaluation -----------------------------------------------------------------------------
    for name in [k for k in ("test", "comp") if k in data]:
        paths.update(evaluate(model, baseline, batches, name, cfg["out"]))
    print_written(paths)


def require_vqa2_files(cfg):
    """--data vqa2 reads two JSON files and a folder of images: all given, all there."""
    if not (cfg["vqa_questions"] and cfg["vqa_annotations"] and cfg["vqa_images"]):
        raise ValueError("--data vqa2 needs --vqa-questions, --vqa-annotations and --vqa-images")
    require_paths(cfg, files=("vqa_questions", "vqa_annotations"), folders=("vqa_images",))


def make_model(cfg, vocab_size, n_answers, use_image, channels, grid):
    """The image + question model (``use_image``) or the question-only baseline."""
    model = VQAModel(vocab_size, n_answers, use_image, cfg["fusion"], channels, grid,
                     cfg["embed"], cfg["hidden"], cfg["joint"], graph=cfg["graph"])
    model.to(cfg["device"])
    return model


def train_model(model, optimizer, step, total, history, label, batches, cfg, rng, checkpoint=None):
    """Train to ``total`` steps (the image model also stops after --minutes); returns the
    step reached. With a ``checkpoint`` path, every --eval-every steps also measure the test
    accuracy and save the run there."""
    start, first = time.time(), step
    minutes = cfg["minutes"] if checkpoint else 0.0
    bar = progress(total=total, initial=step, desc=label)
    while step < total and not out_of_time(start, minutes):
        set_lr(optimizer, cosine_lr(cfg["lr"], step, total, floor=0.1))
        images = rng.integers(len(batches.data["train"].images), size=cfg["batch_size"])
        x, q, which, target, _ = batches.batch("train", images)
        loss = F.cross_entropy(model(x, q, which), target)
        optimizer_step(model, optimizer, loss, cfg["clip"])
        step += 1
        history["train"][0].append(step)
        history["train"][1].append(loss.item())
        bar.update(1)
        bar.set_postfix_str(f"loss {loss.item():.3f}")
        if checkpoint and (step % cfg["eval_every"] == 0 or step == total):
            acc = batches.scores(model, "test")["overall"]
            history["test accuracy"][0].append(step)
            history["test accuracy"][1].append(acc)
            bar.write(f"step {step}: loss {loss.item():.3f}, test accuracy {acc:.3f}, "
                      f"{(time.time() - start) / max(step - first, 1):.2f}s/step")
            save_run(checkpoint, cfg, batches.vocab, model, optimizer, step, history)
    bar.close()
    print(f"{label}: {step - first} steps in {(time.time() - start) / 60:.1f} min")
    return step


def save_run(path, cfg, vocab, model, optimizer, step, history):
    """Everything ``--resume`` needs, atomically to ``path``."""
    save_checkpoint({"config": cfg, "vocab": vocab.state_dict(), "model": model.state_dict(),
                     "optimizer": optimizer.state_dict(), "step": step,
                     "history": history_to_save(history)}, path, "vqa")


def evaluate(model, baseline, batches, name, out):
    """Accuracy of both models on a split (and VQA v2's human-agreement score) printed, and a
    grid of questions with predicted and true answers drawn; returns {what: path}."""
    split = batches.data[name]
    preds = batches.predict(model, name)
    print(f"{name} accuracy, image+question: "
          f"{metrics.format_scores(batches.scores(model, name, preds))}")
    if hasattr(split, "human"):                     # VQA v2: scored against ten humans
        score = np.mean([metrics.vqa_v2_score(p, h) for p, h in zip(preds, split.human)])
        print(f"{name} VQA v2 score (min(1, #humans/3)): {score:.3f}")
    if baseline is not None:
        print(f"{name} accuracy, question only:  "
              f"{metrics.format_scores(batches.scores(baseline, name))}")
    pick = [split.by_image[i][i % len(split.by_image[i])]          # a mix of question types
            for i in range(min(12, len(split.images))) if split.by_image[i]]
    path = os.path.join(out, f"answers_{name}.png")
    pictures.answer_grid([split.images[split.rows[k][0]] for k in pick],
                         [split.rows[k][1] for k in pick], [preds[k] for k in pick],
                         [split.rows[k][2] for k in pick], path)
    return {f"answers ({name})": path}


if __name__ == "__main__":
    sys.exit(run_script(main))
