"""PNG pictures for the examples (matplotlib's Agg canvas: no display, no pyplot state)."""
import textwrap

import numpy as np


def _figure(w, h):
    from matplotlib.figure import Figure
    return Figure(figsize=(w, h))


def image_grid(images, texts, path, cols=4, width=24):
    """A grid of (H, W, 3) uint8 images, each with its (wrapped) text underneath."""
    n = len(images)
    rows = (n + cols - 1) // cols
    fig = _figure(3.0 * cols, 3.6 * rows)
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(images[i], interpolation="nearest")
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_xlabel("\n".join(textwrap.wrap(texts[i], width)), fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path


def attention_maps(image, words, alphas, path, cols=6):
    """The image, then one panel per generated word with its attention weights p_i (a (G, G)
    grid each) upsampled over the image."""
    n = len(words) + 1
    rows = (n + cols - 1) // cols
    fig = _figure(2.0 * cols, 2.2 * rows)
    size = image.shape[0]
    ax = fig.add_subplot(rows, cols, 1)
    ax.imshow(image, interpolation="nearest")
    ax.set_title("image", fontsize=8)
    ax.set_xticks([]), ax.set_yticks([])
    for k, (word, alpha) in enumerate(zip(words, alphas)):
        ax = fig.add_subplot(rows, cols, k + 2)
        ax.imshow(image, interpolation="nearest")
        ax.imshow(np.asarray(alpha), cmap="gray", alpha=0.6, interpolation="bilinear",
                  extent=(-0.5, size - 0.5, size - 0.5, -0.5))
        ax.set_title(word, fontsize=8)
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path
