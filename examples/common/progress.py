"""tqdm wiring: one bar per training run, with the latest numbers beside it."""
from __future__ import annotations

import sys


def progress(total=None, initial=0, desc="train", disable=False, unit="step"):
    """A ``tqdm`` bar to stderr that redraws at most twice a second (cheap inside a hot loop).

    ``total=None`` (a time budget instead of a step count) shows a running count.
    Update it with ``bar.update(1)`` and ``bar.set_postfix_str("loss 1.234 | 9,000 chars/s")``.
    """
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit, disable=disable,
                mininterval=0.5, dynamic_ncols=True, file=sys.stderr, leave=True)
