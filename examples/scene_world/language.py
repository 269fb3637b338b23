"""Words about scenes: captions from a small grammar, questions with answers, a vocabulary.

Captions (objects in reading order: left to right, then top to bottom; np = "a large red circle"):
    list       np1 , np2 and np3
    counted    there are three shapes : np1 , np2 and np3
    relation   np1 to the left of np2 [, np3 and np4]      (one object: np1 at the top left)

Questions, five types, each answer computed from the ground truth:
    colour     what colour is the circle ?                      -> red
    shape      what shape is the red object ?                   -> circle
    count      how many blue shapes are there ?                 -> two
    exists     is there a green cross ?                         -> yes / no
    spatial    is the circle to the left of the red square ?    -> yes / no

Vocabulary as in CS231n: index 0 <NULL> (padding, ignored by the loss), 1 <START>, 2 <END>,
3 <UNK>; `encode` gives <START> w1 ... wn <END> padded with <NULL> to a fixed length.
"""
import re

import numpy as np

from .world import COLOURS, SHAPES, SIZES, ROW_NAMES, COL_NAMES, HOLDOUT

NULL, START, END, UNK = "<NULL>", "<START>", "<END>", "<UNK>"
SPECIALS = (NULL, START, END, UNK)
NUMBERS = ("zero", "one", "two", "three", "four")
PLURALS = {"circle": "circles", "square": "squares", "triangle": "triangles", "cross": "crosses"}
QUESTION_TYPES = ("colour", "shape", "count", "exists", "spatial")


# ----------------------------------------------------------------------------- captions

def noun_phrase(o):
    return f"a {o.size} {o.colour} {o.shape}"


def _listing(phrases):
    if len(phrases) == 1:
        return phrases[0]
    return " , ".join(phrases[:-1]) + " and " + phrases[-1]


def relation(a, b):
    """How `a` stands to `b` in words (a comes first in reading order)."""
    if a.col < b.col:
        return "to the left of"
    if a.col > b.col:
        return "to the right of"
    return "above" if a.row < b.row else "below"


def captions(scene):
    """Three reference captions of one scene (a tuple of Obj in reading order)."""
    phrases = [noun_phrase(o) for o in scene]
    n = len(scene)
    be, noun = ("is", "shape") if n == 1 else ("are", "shapes")
    counted = f"there {be} {NUMBERS[n]} {noun} : {_listing(phrases)}"
    if n == 1:
        o = scene[0]
        place = ROW_NAMES[o.row] + " " + COL_NAMES[o.col]
        related = f"{phrases[0]} at the {place}"
    else:
        related = f"{phrases[0]} {relation(scene[0], scene[1])} {phrases[1]}"
        if n > 2:
            related += " , " + _listing(phrases[2:]) if n > 3 else " and " + phrases[2]
    return [_listing(phrases), counted, related]


# ----------------------------------------------------------------------------- questions

def _unique(scene, obj, keys):
    """True when the attributes `keys` of `obj` pick out only it in the scene."""
    return sum(all(getattr(o, k) == getattr(obj, k) for k in keys) for o in scene) == 1


def describe(scene, obj, options):
    """The shortest description of `obj` from `options` (tuples of attribute names, tried in
    order) that no other object of the scene shares, e.g. "circle" or "large red square";
    None when none is unique."""
    for keys in options:
        if _unique(scene, obj, keys):
            return " ".join(getattr(obj, k) for k in ("size", "colour", "shape") if k in keys)
    return None


def _colour_q(scene, obj, rng):
    d = describe(scene, obj, [("shape",), ("size", "shape")])
    return None if d is None else (f"what colour is the {d} ?", obj.colour)


def _shape_q(scene, obj, rng):
    d = describe(scene, obj, [("colour",), ("size", "colour")])
    return None if d is None else (f"what shape is the {d} object ?", obj.shape)


def _count_q(scene, obj, rng):
    kind = int(rng.integers(3))
    if kind == 0:
        return "how many shapes are there ?", NUMBERS[len(scene)]
    if kind == 1:
        colour = list(COLOURS)[int(rng.integers(len(COLOURS)))]
        n = sum(o.colour == colour for o in scene)
        return f"how many {colour} shapes are there ?", NUMBERS[n]
    shape = SHAPES[int(rng.integers(len(SHAPES)))]
    n = sum(o.shape == shape for o in scene)
    return f"how many {PLURALS[shape]} are there ?", NUMBERS[n]


def _exists_q(scene, obj, rng, allowed_pairs):
    if rng.random() < 0.5:                              # ask about an object that is there
        colour, shape = obj.colour, obj.shape
    else:                                               # a pair that is absent
        present = {(o.colour, o.shape) for o in scene}
        absent = [p for p in allowed_pairs if p not in present]
        colour, shape = absent[int(rng.integers(len(absent)))]
    answer = "yes" if any(o.colour == colour and o.shape == shape for o in scene) else "no"
    return f"is there a {colour} {shape} ?", answer


def _spatial_q(scene, obj, rng):
    others = [o for o in scene if o is not obj]
    if not others:
        return None
    other = others[int(rng.integers(len(others)))]
    options = [("shape",), ("colour", "shape"), ("size", "colour", "shape")]
    da, db = describe(scene, obj, options), describe(scene, other, options)
    if da is None or db is None:
        return None
    true_rel = relation(obj, other)
    opposite = {"to the left of": "to the right of", "to the right of": "to the left of",
                "above": "below", "below": "above"}
    rel = true_rel if rng.random() < 0.5 else opposite[true_rel]
    return f"is the {da} {rel} the {db} ?", "yes" if rel == true_rel else "no"


def questions(scene, rng, per_type=2, focus=None, allowed_pairs=None):
    """Up to `per_type` (question, answer, type) triples of each type for one scene.

    focus: objects to ask about first (the compositional split asks about its held-out
    objects); allowed_pairs: (colour, shape) pairs an exists-question may name when the
    answer is no (by default every pair except the held-out ones)."""
    if allowed_pairs is None:
        allowed_pairs = [(c, s) for c in COLOURS for s in SHAPES if (c, s) not in HOLDOUT]
    pool = list(focus) if focus else list(scene)
    makers = {"colour": _colour_q, "shape": _shape_q, "count": _count_q,
              "exists": lambda s, o, r: _exists_q(s, o, r, allowed_pairs),
              "spatial": _spatial_q}
    out, seen = [], set()
    for qtype in QUESTION_TYPES:
        made = 0
        for _ in range(3 * per_type):
            if made == per_type:
                break
            obj = pool[int(rng.integers(len(pool)))]
            qa = makers[qtype](scene, obj, rng)
            if qa is None or qa[0] in seen:
                continue
            seen.add(qa[0])
            out.append((qa[0], qa[1], qtype))
            made += 1
    return out


def scene_questions(scenes, seed, per_type=2, holdout=HOLDOUT):
    """Questions for a list of scenes: lists (image_index, question, answer, type). Scenes
    holding a held-out pair are asked about those objects."""
    rng = np.random.default_rng(seed)
    held = set(holdout)
    rows = []
    for i, scene in enumerate(scenes):
        focus = [o for o in scene if (o.colour, o.shape) in held]
        for q, a, t in questions(scene, rng, per_type, focus or None):
            rows.append((i, q, a, t))
    return rows


def answer_vocabulary():
    """Every answer the generated world can give, in a fixed order."""
    return list(COLOURS) + list(SHAPES) + list(NUMBERS) + ["yes", "no"]


# ----------------------------------------------------------------------------- vocabulary

def tokenize(text):
    """Lower-case words and punctuation marks: "A man, riding." -> [a, man, ",", riding, "."]."""
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]", text.lower())


class Vocab:
    """Words <-> indices; indices 0..3 are <NULL> <START> <END> <UNK>."""

    def __init__(self, words):
        self.itos = list(SPECIALS) + [w for w in words if w not in SPECIALS]
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def build(cls, texts, min_count=1):
        """From an iterable of sentences; words seen fewer than min_count times become <UNK>."""
        counts = {}
        for text in texts:
            for w in tokenize(text):
                counts[w] = counts.get(w, 0) + 1
        return cls(sorted(w for w, c in counts.items() if c >= min_count))

    def __len__(self):
        return len(self.itos)

    null, start, end, unk = 0, 1, 2, 3

    def encode(self, text, length=None, ends=True):
        """Indices of `text`: <START> words <END> (ends=True), padded with <NULL> to `length`
        (longer sentences are cut, keeping <END> last)."""
        ids = [self.stoi.get(w, self.unk) for w in tokenize(text)]
        if ends:
            ids = [self.start] + ids + [self.end]
        if length is not None:
            if len(ids) > length:
                ids = ids[:length - 1] + ([self.end] if ends else ids[length - 1:length])
            ids = ids + [self.null] * (length - len(ids))
        return ids

    def encode_batch(self, texts, length=None, ends=True):
        """(N, T) int64 array; T is the longest sentence when length is None."""
        rows = [self.encode(t, None, ends) for t in texts]
        length = length or max(len(r) for r in rows)
        return np.array([self.encode(t, length, ends) for t in texts], dtype=np.int64)

    def decode(self, ids):
        """Words up to the first <END>, skipping <NULL> and <START>."""
        words = []
        for i in ids:
            i = int(i)
            if i == self.end:
                break
            if i not in (self.null, self.start):
                words.append(self.itos[i])
        return " ".join(words)

    def state_dict(self):
        return {"itos": list(self.itos)}

    @classmethod
    def from_state_dict(cls, state):
        return cls(list(state["itos"])[len(SPECIALS):])
