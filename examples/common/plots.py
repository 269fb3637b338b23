"""Loss curves as PNG files, drawn with matplotlib's Agg canvas (no display, no pyplot state)."""
from __future__ import annotations


def plot_curves(curves, path, xlabel="step", ylabel="loss (nats/char)", title=None, logy=False):
    """Draw ``{label: (xs, ys)}`` as lines on one axis and save to ``path``; returns ``path``.

    Empty curves are skipped, so a run that stopped before its first validation still
    gets a picture of its training loss.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    for label, (xs, ys) in curves.items():
        if len(xs):
            ax.plot(xs, ys, label=label, marker="o" if len(xs) < 30 else None, markersize=3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path
