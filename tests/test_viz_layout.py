"""The time × layer grid, measured on graphviz's own layout (``dot -Tjson``).

For an RNN (T=5), a 1-layer LSTM (T=6) and a 2-layer LSTM language model (embedding → LSTM
→ Linear → cross-entropy, T=4), in forward and flow mode: the step cells of each layer run
strictly left to right without overlapping, at an even pitch (centre spacings within 1.5×
of each other), and no edge passes through a "t = N" label. A T=50 picture fits 3 : 1,
gate-level cells name their gates, and the flow legend's colours are real edges whose
colours differ by a visible amount (CIELAB ΔE).
"""
import os
import re
import shutil
import sys

import numpy as np
import pytest

import minigrad
import nn
import nn.functional as F
from minigrad import viz

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "examples")))
import viz_layout_measure as measure  # noqa: E402
from lecture_figures import SequenceModel  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` is not "
                                "installed (scripts/install_dot.sh installs it)")


def sequence_loss(kind, T, graph="steps"):
    minigrad.manual_seed(0)
    model = SequenceModel(kind, graph=graph)
    loss = (model(minigrad.randn(T, 2, 3)) ** 2).sum()
    loss.name = "loss"
    return loss


def language_model_loss(T=4, vocab=7):
    minigrad.manual_seed(0)
    embed, lstm, head = nn.Embedding(vocab, 5), nn.LSTM(5, 6, num_layers=2), nn.Linear(6, vocab)
    x = minigrad.tensor(np.arange(T * 2).reshape(T, 2) % vocab)
    output, _ = lstm(embed(x))
    logits = head(output).reshape(T * 2, vocab)
    loss = F.cross_entropy(logits, minigrad.tensor((np.arange(T * 2) + 1) % vocab))
    loss.name = "loss"
    return loss


CASES = {"RNN T=5": (lambda: sequence_loss("RNN", 5), 5, 1),
         "LSTM T=6": (lambda: sequence_loss("LSTM", 6), 6, 1),
         "2-layer LSTM LM T=4": (language_model_loss, 4, 2)}


@pytest.fixture(scope="module", params=[(c, m) for c in CASES for m in ("forward", "flow")],
                ids=lambda p: f"{p[0]}, {p[1]}")
def laid_out(request):
    case, mode = request.param
    make, T, layers = CASES[case]
    data = measure.layout(viz.draw_graph(make(), mode=mode, max_steps=None).source)
    return data, T, layers


def test_step_cells_run_left_to_right_without_overlap_at_an_even_pitch(laid_out):
    data, T, layers = laid_out
    rows = measure.rows(measure.clusters(data))
    assert len(rows) == layers
    for row, cells in rows.items():
        assert [t for t, _ in cells] == list(range(T)), row
        boxes = [box for _, box in cells]
        for left, right in zip(boxes, boxes[1:]):
            assert left[2] < right[0], (row, left, right)         # strictly left of, no overlap
        centres = [(b[0] + b[2]) / 2 for b in boxes]
        spacing = np.diff(centres)
        assert spacing.min() > 0 and spacing.max() <= 1.5 * spacing.min(), (row, spacing)


@pytest.mark.parametrize("mode", ["forward", "flow"])
def test_layers_stack_with_layer_0_nearest_the_input(mode):
    data = measure.layout(viz.draw_graph(language_model_loss(), mode=mode).source)
    rows = measure.rows(measure.clusters(data))
    heights = {row: np.mean([(b[1] + b[3]) / 2 for _, b in cells]) for row, cells in rows.items()}
    assert heights["lstm_l0"] < heights["lstm_l1"]        # y grows upwards: l0 below l1
    x0 = [(b[0] + b[2]) / 2 for _, b in rows["lstm_l0"]]
    x1 = [(b[0] + b[2]) / 2 for _, b in rows["lstm_l1"]]
    assert np.allclose(x0, x1, atol=20)                    # the columns line up


def test_no_edge_passes_through_a_step_label(laid_out):
    data, T, _ = laid_out
    labels = axis_labels(data)
    assert sorted(labels) == [f"t = {t}" for t in range(T)]
    labels.update({text: box for _, text, box in measure.label_boxes(data)})   # cluster labels
    for tail, head, points in measure.splines(data):
        for text, box in labels.items():
            assert not any(measure.inside(p, box, pad=-1.0) for p in points), (tail, head, text)


def axis_labels(data):
    """{"t = N": box} of the time axis's label nodes."""
    found = {}
    for obj in data["objects"]:
        if re.fullmatch(r"time\d+", obj.get("name", "")) and "pos" in obj:
            x, y = (float(v) for v in obj["pos"].split(","))
            w, h = 72 * float(obj["width"]), 72 * float(obj["height"])
            found[obj["label"]] = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    return found


@pytest.mark.parametrize("mode", ["forward", "flow"])
def test_a_long_sequence_folds_its_middle_and_fits_three_to_one(mode):
    loss = sequence_loss("LSTM", 50)
    source = viz.draw_graph(loss, mode=mode, collapse=True).source
    assert "… t = 5..44 …" in source and "40 steps folded" in source
    data = measure.layout(source)
    assert 1 / 3 <= measure.aspect(data) <= 3
    if mode == "flow":           # the box's edges carry the folded steps' gradient
        fold = re.search(r"^\s*(n\d+) \[label=<<b>… t = 5..44", source, re.M).group(1)
        into = re.findall(rf"^\s*(?:{fold} -> n\d+|n\d+ -> {fold}) \[(.*)\]$", source, re.M)
        into = [attrs for attrs in into if "style=invis" not in attrs]
        assert into and all("‖grad‖" in attrs or "no gradient" in attrs for attrs in into)


def test_a_thousand_steps_draw_as_ten():
    minigrad.manual_seed(0)
    rnn = nn.RNN(2, 3)
    output, _ = rnn(minigrad.randn(1000, 1, 2))
    source = viz.draw_graph(output[-1].sum(), collapse=True).source
    assert len(re.findall(r"<b>t = \d+</b>", source)) == 10 and "990 steps folded" in source
    assert measure.clusters(measure.layout(source))        # dot lays it out


@pytest.mark.parametrize("kind, gates", [("LSTM", ("i", "f", "g", "o", "c<sub>t</sub>")),
                                         ("GRU", ("r", "z", "n"))])
def test_gate_level_cells_name_their_gates(kind, gates):
    source = viz.draw_graph(sequence_loss(kind, 2, graph="gates")).source
    for gate in gates:
        assert len(re.findall(rf"<b>{gate}</b> = ", source)) == 2, gate      # one per step
    if kind == "LSTM":           # the cell state path is drawn as a double line
        assert 'color="#1a1a1a:#ffffff:#1a1a1a"' in source


def test_flow_legend_is_real_edges_in_distinguishable_colours():
    source = viz.draw_graph(sequence_loss("RNN", 8), mode="flow").source
    colours = re.findall(r'legend\d+_from -> legend\d+ \[.*?color="(#[0-9a-f]{6})".*tooltip="legend: 10', source)
    colours += re.findall(r'legend\d+_from -> legend\d+ \[.*?color="(#[0-9a-f]{6})".*tooltip="legend: 1"', source)
    assert len(colours) >= 3
    lab = [cielab(c) for c in colours]
    for a in range(len(lab)):
        for b in range(a + 1, len(lab)):
            assert np.linalg.norm(lab[a] - lab[b]) >= 10, (colours[a], colours[b])
    assert "zero / none" in source


def cielab(hex_colour):
    """CIELAB (D65) of an sRGB colour '#rrggbb'."""
    rgb = np.array([int(hex_colour[k:k + 2], 16) / 255 for k in (1, 3, 5)])
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])
