"""Compact arrays for the explorer page: float16 or uint8 bytes, base64 in the JSON.

A page must stay small (a 50-step LSTM under 2 MB) and open fast, so every array goes in
as few bytes as the picture needs:

- a tensor's value or gradient: float16 of ``x / scale`` with ``scale = max|x|`` (so tiny
  gradients keep their 3 significant digits instead of underflowing), at most
  ``max_cells`` numbers (larger matrices keep every k-th row and column, and say so);
  its min / max / mean / norm are computed here, exactly, from the whole array;
- hidden-state activations: one byte per unit per character, each unit scaled to its own
  range (a correlation does not change under that scaling, so the page's select-and-match
  ranking is the same as on the full floats to within 1/255);
- an image: raw RGB bytes.

The page decodes them in ``explorer.js`` (``decodeFloat16``, ``decodeBytes``).
"""
from __future__ import annotations

import base64
import math

from minigrad import backend


def tensor_payload(array, max_cells=16384):
    """{shape, shown, stride, scale, data, stats} for one host array (any dimension)."""
    np = backend.host_numpy()
    a = np.asarray(array, dtype=np.float64)
    stats = {"min": json_number(a.min()) if a.size else 0.0, "max": json_number(a.max()) if a.size else 0.0,
             "mean": json_number(a.mean()) if a.size else 0.0,
             "norm": json_number(np.sqrt(np.sum(np.square(a))))}
    shaped = a.reshape(1, 1) if a.ndim == 0 else a.reshape(1, -1) if a.ndim == 1 else a
    shown, stride = _thin(np, shaped, max_cells)
    finite = shown[np.isfinite(shown)]
    scale = float(np.abs(finite).max()) if finite.size else 0.0
    scaled = shown / scale if scale > 0 else shown
    data = base64.b64encode(np.ascontiguousarray(scaled, dtype="<f2").tobytes()).decode("ascii")
    return {"shape": list(a.shape), "shown": list(shown.shape), "stride": stride,
            "scale": scale, "data": data, "stats": stats}


def _thin(np, a, max_cells):
    """Keep every k-th entry along the last two axes until at most max_cells remain."""
    lead = int(np.prod(a.shape[:-2])) if a.ndim > 2 else 1
    rows, cols = a.shape[-2], a.shape[-1]
    k = 1
    while lead * math.ceil(rows / k) * math.ceil(cols / k) > max_cells and (rows > k or cols > k):
        k += 1
    if lead * math.ceil(rows / k) * math.ceil(cols / k) > max_cells:   # many leading slices
        keep = max(1, max_cells // max(1, math.ceil(rows / k) * math.ceil(cols / k)))
        a = a.reshape((lead,) + a.shape[-2:])[:keep]
    return a[..., ::k, ::k], k


def units_payload(acts):
    """(N, H) activations -> {n, units, lo, hi, data}: uint8 per unit, row-major (N, H)."""
    np = backend.host_numpy()
    a = np.asarray(acts, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"explore: activations must be (characters, units), got shape {a.shape}")
    lo, hi = a.min(axis=0), a.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    q = np.rint((a - lo) / span * 255).clip(0, 255).astype(np.uint8)
    return {"n": int(a.shape[0]), "units": int(a.shape[1]), "lo": [json_number(v) for v in lo],
            "hi": [json_number(v) for v in hi], "data": base64.b64encode(q.tobytes()).decode("ascii")}


def maps_payload(maps):
    """(words, gh, gw) attention weights -> uint8 scaled per word to its own maximum."""
    np = backend.host_numpy()
    a = np.asarray(maps, dtype=np.float64)
    if a.ndim != 3:
        raise ValueError(f"explore: attention maps must be (words, rows, cols), got shape {a.shape}")
    top = a.reshape(a.shape[0], -1).max(axis=1)
    q = np.rint(a / np.where(top > 0, top, 1.0)[:, None, None] * 255).clip(0, 255).astype(np.uint8)
    return {"shape": list(a.shape), "max": [json_number(v) for v in top],
            "data": base64.b64encode(q.tobytes()).decode("ascii")}


def image_payload(image):
    """(H, W, 3) image, floats in [0, 1] or uint8 -> {w, h, data} raw RGB bytes."""
    np = backend.host_numpy()
    a = np.asarray(image)
    if a.ndim == 2:
        a = np.stack([a] * 3, axis=-1)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"explore: attention image must be (H, W, 3), got shape {a.shape}")
    if a.dtype != np.uint8:
        a = np.rint(np.clip(a.astype(np.float64), 0, 1) * 255).astype(np.uint8)
    rgb = np.ascontiguousarray(a[:, :, :3])
    return {"w": int(a.shape[1]), "h": int(a.shape[0]),
            "data": base64.b64encode(rgb.tobytes()).decode("ascii")}


def json_number(value):
    """A JSON-safe float (NaN and infinities as strings)."""
    v = float(value)
    return v if math.isfinite(v) else str(v)
