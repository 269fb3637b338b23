"""Scenes of one to four coloured shapes on a 64x64 canvas, with their ground truth.

Each object sits in its own cell of a 3x3 grid (with a pixel or two of jitter), so "left of"
and "above" are never ambiguous and objects never overlap. The truth about a scene is a tuple
of `Obj` records; captions and questions (language.py) are computed from it, never from pixels.

    images, scenes = generate(10_000, seed=0)          # (N, 64, 64, 3) uint8, N scene tuples

Drawing is vectorised over images: for the k-th object slot of every scene at once, each
shape is an inequality on the pixel grid (circle: dx^2 + dy^2 <= r^2, square:
max(|dx|, |dy|) <= r, ...), so 10,000 images take about a second.

The compositional split: a few (colour, shape) pairs (`HOLDOUT`) never occur in the train and
test scenes; every scene of the "comp" split holds at least one of them, so a model is scored
on combinations of words and attributes it has never seen together.
"""
from typing import NamedTuple

import numpy as np

SIZE = 64                                   # canvas side in pixels
GRID = 3                                    # objects live in the cells of a GRID x GRID grid
CELL_CENTRES = (11, 32, 53)                 # pixel centre of each grid row / column
JITTER = 1                                  # +- pixels added to a centre
MAX_OBJECTS = 4
BACKGROUND = (24, 24, 24)
COLOURS = {                                 # name -> RGB
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (50, 90, 235),
    "yellow": (235, 215, 40),
    "purple": (160, 70, 200),
    "white": (235, 235, 235),
}
SHAPES = ("circle", "square", "triangle", "cross")
SIZES = {"small": 5.0, "large": 9.0}        # name -> radius in pixels
HOLDOUT = (("red", "square"), ("green", "circle"), ("blue", "triangle"),
           ("yellow", "cross"))             # never seen in train/test; every comp scene has one
ROW_NAMES = ("top", "middle", "bottom")
COL_NAMES = ("left", "centre", "right")


class Obj(NamedTuple):
    """One object of a scene: attributes by name, grid cell, pixel centre."""
    shape: str
    colour: str
    size: str
    row: int
    col: int
    x: int
    y: int


def sample_scene(rng, split="train", holdout=HOLDOUT):
    """Draw one scene (a tuple of Obj sorted left to right, then top to bottom).

    split "train"/"test": no object has a held-out (colour, shape) pair; "comp": at least one
    object has one."""
    if split not in ("train", "test", "comp"):
        raise ValueError(f"sample_scene: split must be 'train', 'test' or 'comp', got {split!r}")
    held = set(holdout)
    n = int(rng.integers(1, MAX_OBJECTS + 1))
    cells = rng.choice(GRID * GRID, size=n, replace=False)
    forced = int(rng.integers(n)) if split == "comp" else -1
    objs = []
    for k, cell in enumerate(cells):
        while True:
            if k == forced:
                colour, shape = holdout[int(rng.integers(len(holdout)))]
            else:
                colour = list(COLOURS)[int(rng.integers(len(COLOURS)))]
                shape = SHAPES[int(rng.integers(len(SHAPES)))]
            if k == forced or split == "comp" or (colour, shape) not in held:
                break
        size = list(SIZES)[int(rng.integers(len(SIZES)))]
        row, col = divmod(int(cell), GRID)
        x = CELL_CENTRES[col] + int(rng.integers(-JITTER, JITTER + 1))
        y = CELL_CENTRES[row] + int(rng.integers(-JITTER, JITTER + 1))
        objs.append(Obj(shape, colour, size, row, col, x, y))
    return tuple(sorted(objs, key=lambda o: (o.col, o.row)))


def shape_mask(shape, dx, dy, r):
    """Boolean mask of `shape` with radius r, given pixel offsets dx, dy from its centre
    (all broadcastable: (m, 1, 1) radii against (m, H, W) offsets)."""
    if shape == "circle":
        return dx ** 2 + dy ** 2 <= r ** 2
    if shape == "square":
        return np.maximum(np.abs(dx), np.abs(dy)) <= 0.85 * r
    if shape == "triangle":                 # apex up, base at dy = 0.8 r
        return (dy <= 0.8 * r) & (1.8 * np.abs(dx) <= dy + r)
    if shape == "cross":
        arm = r / 3.0
        return (((np.abs(dx) <= arm) & (np.abs(dy) <= r))
                | ((np.abs(dy) <= arm) & (np.abs(dx) <= r)))
    raise ValueError(f"shape_mask: unknown shape {shape!r}; known: {SHAPES}")


def render(scenes):
    """Draw scenes into a (N, SIZE, SIZE, 3) uint8 array, one object slot at a time."""
    images = np.empty((len(scenes), SIZE, SIZE, 3), np.uint8)
    images[:] = BACKGROUND
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    for slot in range(MAX_OBJECTS):
        for shape in SHAPES:
            idx = [i for i, s in enumerate(scenes) if len(s) > slot and s[slot].shape == shape]
            if not idx:
                continue
            objs = [scenes[i][slot] for i in idx]
            cx = np.array([o.x for o in objs], np.float32)[:, None, None]
            cy = np.array([o.y for o in objs], np.float32)[:, None, None]
            r = np.array([SIZES[o.size] for o in objs], np.float32)[:, None, None]
            rgb = np.array([COLOURS[o.colour] for o in objs], np.uint8)[:, None, None, :]
            mask = shape_mask(shape, xs - cx, ys - cy, r)[..., None]     # (m, H, W, 1)
            images[idx] = np.where(mask, rgb, images[idx])
    return images


def generate(n, seed, split="train", holdout=HOLDOUT):
    """`n` scenes of the given split from `seed`: (images (n, 64, 64, 3) uint8, scenes).
    The same (n, seed, split) always gives the same data."""
    rng = np.random.default_rng(seed)
    scenes = [sample_scene(rng, split, holdout) for _ in range(n)]
    return render(scenes), scenes


def make_splits(n_train, n_test, n_comp, seed=0):
    """The three splits from independent seeds: {"train": (images, scenes), "test": ..., "comp": ...}."""
    return {"train": generate(n_train, seed * 3 + 0, "train"),
            "test": generate(n_test, seed * 3 + 1, "test"),
            "comp": generate(n_comp, seed * 3 + 2, "comp")}
