"""PNG pictures for the examples (matplotlib's Agg canvas: no display, no pyplot state).

- ``image_grid``: images with the generated caption under each, and the reference caption
  when given, each line labelled;
- ``answer_grid``: VQA images with the question, the predicted and the true answer, each
  panel marked right or wrong (a word and a frame colour, not colour alone);
- ``attention_maps``: the image, then one panel per generated word with its attention.
"""
import re
import textwrap

import numpy as np

RIGHT, WRONG = "#1f77b4", "#d55e00"      # blue / vermillion: apart for colour-blind eyes too


def _figure(w, h):
    from matplotlib.figure import Figure
    return Figure(figsize=(w, h), layout="constrained")


def _wrap(text, width):
    """Lines of at most ``width`` characters, cut between words only; punctuation stays on
    its word ("is there a circle ?" -> "... circle?")."""
    text = re.sub(r"\s+([?.!,;:])", r"\1", str(text))
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def _panel(fig, rows, cols, i, image):
    ax = fig.add_subplot(rows, cols, i + 1)
    ax.imshow(image, interpolation="nearest")
    ax.set_xticks([]), ax.set_yticks([])
    return ax


def image_grid(images, texts, path, cols=4, width=28, references=None):
    """A grid of (H, W, 3) uint8 images, each with its generated text underneath, and (when
    ``references`` is given, one string per image) the reference caption under that."""
    n = len(images)
    cols = max(1, min(cols, n))
    rows = (n + cols - 1) // cols
    lines = 4 if references is not None else 2          # text lines under each image
    fig = _figure(2.6 * cols, (2.7 + 0.16 * lines) * rows)
    for i in range(n):
        ax = _panel(fig, rows, cols, i, images[i])
        label = "generated: " + "\n".join(_wrap(texts[i], width))
        if references is not None:
            label += "\nreference: " + "\n".join(_wrap(references[i], width))
        ax.set_xlabel(label, fontsize=7.5, loc="left", linespacing=1.25)
    fig.savefig(path, dpi=100)
    return path


def answer_grid(images, questions, predicted, true, path, cols=4, width=30):
    """VQA answers: each image with "Q: …", the predicted and the true answer, and a title
    and frame saying whether the prediction is right."""
    n = len(images)
    cols = max(1, min(cols, n))
    rows = (n + cols - 1) // cols
    fig = _figure(2.6 * cols, 3.5 * rows)
    for i in range(n):
        ax = _panel(fig, rows, cols, i, images[i])
        right = str(predicted[i]).strip().lower() == str(true[i]).strip().lower()
        colour = RIGHT if right else WRONG
        ax.set_title("✓ right" if right else "✗ wrong", fontsize=9, color=colour, loc="left",
                     fontweight="bold")
        for side in ax.spines.values():
            side.set_edgecolor(colour)
            side.set_linewidth(2.5)
        ax.set_xlabel("\n".join(_wrap(f"Q: {questions[i]}", width))
                      + f"\npredicted: {predicted[i]}\ntrue: {true[i]}",
                      fontsize=7.5, loc="left", linespacing=1.25)
    fig.savefig(path, dpi=100)
    return path


def attention_maps(image, words, alphas, path, cols=6):
    """The image, then one panel per generated word with its attention weights p_i (a (G, G)
    grid each) upsampled over the image."""
    n = len(words) + 1
    cols = max(1, min(cols, n))
    rows = (n + cols - 1) // cols
    fig = _figure(2.0 * cols, 2.2 * rows)
    size = image.shape[0]
    ax = _panel(fig, rows, cols, 0, image)
    ax.set_title("image", fontsize=8)
    for k, (word, alpha) in enumerate(zip(words, alphas)):
        ax = _panel(fig, rows, cols, k + 1, image)
        ax.imshow(np.asarray(alpha), cmap="gray", alpha=0.6, interpolation="bilinear",
                  extent=(-0.5, size - 0.5, size - 0.5, -0.5))
        ax.set_title(word, fontsize=8)
    fig.savefig(path, dpi=90)
    return path
