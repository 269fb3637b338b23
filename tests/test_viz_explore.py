"""viz.explore, the Python side: what the page holds, that it is self-contained, its size.

The page itself is tested in a real browser in test_viz_explore_browser.py.
"""
import html
import re
import shutil

import numpy as np
import pytest

import minigrad
import minigrad.viz as viz
import nn
import nn.functional as F
from minigrad.autograd import run_backward

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is absent")


def lstm_loss(T=5, H=8, V=12, E=6, seed=0):
    """A small char-LM-like graph: embedding -> LSTM (a node per step) -> head -> last loss."""
    minigrad.manual_seed(seed)
    rng = np.random.default_rng(seed)
    embed, lstm, head = nn.Embedding(V, E), nn.LSTM(E, H), nn.Linear(H, V)
    x = minigrad.tensor(rng.integers(0, V, (T, 1)))
    out, _ = lstm(embed(x))
    logits = head(out.reshape(T, H))
    loss = F.cross_entropy(logits[-1:], minigrad.tensor(rng.integers(0, V, (1,))))
    params = list(embed.parameters()) + list(lstm.parameters()) + list(head.parameters())
    return loss, lstm, params


@needs_dot
def test_page_is_self_contained():
    loss, lstm, _ = lstm_loss()
    page = viz.explore(loss, states=lstm.hidden_states).html
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page and "minigradExplorer" in page
    refs = re.findall(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?([^"'\s>]+)""",
                      page, flags=re.I)
    assert refs == [], refs
    assert not re.search(r"""url\(\s*["']?https?:""", page)
    assert not re.search(r"""@import""", page)
    assert "<!DOCTYPE svg" not in page and "<?xml" not in page


@needs_dot
def test_repr_html_returns_the_page_in_an_iframe(tmp_path):
    loss, lstm, _ = lstm_loss()
    page = viz.explore(loss, states=lstm.hidden_states)
    shown = page._repr_html_()
    srcdoc = re.match(r'<iframe srcdoc="([^"]*)"', shown).group(1)
    assert html.unescape(srcdoc) == page.html
    path = page.save(tmp_path / "explore.html")
    assert path.read_text(encoding="utf-8") == page.html


def test_events_are_the_engines_order_and_no_grad_changes():
    loss, lstm, params = lstm_loss()
    page = viz.explore(loss, states=lstm.hidden_states)
    assert all(p.grad is None for p in params)
    seen = []
    run_backward([loss], [minigrad.ones_like(loss)], retain_graph=True, inputs=params,
                 edge_hook=lambda parent, node, gx: seen.append(np.linalg.norm(gx.numpy().astype(np.float64))),
                 split_shared=True)
    assert [e[3] for e in page.data["events"]] == pytest.approx(seen, rel=1e-12)


def test_flow_bars_end_at_gradient_flow():
    loss, lstm, _ = lstm_loss(T=7)
    page = viz.explore(loss, states=lstm.hidden_states)
    finals = [row["final"] for row in page.data["flow"]]
    assert finals == pytest.approx(viz.gradient_flow(loss, lstm.hidden_states), rel=1e-5)
    lasts = [row["series"][-1][0] for row in page.data["flow"]]
    assert lasts == sorted(lasts, reverse=True), "h_t is complete only after h_{t+1}"


def test_shared_weight_accumulates_one_step_at_a_time():
    T = 6
    loss, lstm, params = lstm_loss(T=T)
    page = viz.explore(loss, states=lstm.hidden_states)
    w_hh = next(n for n in page.data["nodes"] if n["label"].startswith("weight_hh"))
    running = w_hh["running"]["-1"]
    assert len(running) == T
    loss.backward()
    weight = next(p for p in params if p.name and p.name.startswith("weight_hh"))
    assert running[-1][1] == pytest.approx(float(np.linalg.norm(weight.grad.numpy())), rel=1e-5)
    assert w_hh["grads"][0]["stats"]["norm"] == pytest.approx(running[-1][1], rel=1e-9)


def test_node_records_carry_the_public_graph_facts():
    loss, lstm, _ = lstm_loss()
    nodes = viz.explore(loss, states=lstm.hidden_states).data["nodes"]
    cells = [n for n in nodes if n["label"] == "LSTM cell"]
    assert sorted(n["step"] for n in cells) == list(range(5))
    assert all(n["shapes"] == [[1, 8], [1, 8]] and n["value"] is not None for n in cells)
    assert nodes[0]["root"] and nodes[0]["lit_at"] == -1


def test_t50_lstm_page_stays_under_2_mb():
    """The char-LM's size (2 x 256 LSTM, T = 50) with a 1000-character hidden-state text."""
    import sys
    sys.path.insert(0, "examples")
    from char_lm.model import CharRNN
    T, V, N = 50, 80, 1000
    minigrad.manual_seed(0)
    rng = np.random.default_rng(0)
    model = CharRNN(V, "lstm", 256, 2, 64)
    logits, _ = model(minigrad.tensor(rng.integers(0, V, (T, 1))))
    loss = F.cross_entropy(logits.reshape(T, V)[-1:], minigrad.tensor(rng.integers(0, V, (1,))))
    acts = {"c": rng.standard_normal((N, 256)), "h": rng.standard_normal((N, 256))}
    page = viz.explore(loss, states=model.rnn.hidden_states, text="ab \"cd\"\n" * 125,
                       activations=acts)
    assert len(page.html.encode("utf-8")) < 2_000_000


def test_float16_data_keeps_three_significant_digits():
    from minigrad.viz.explore_pack import tensor_payload
    import base64
    x = np.array([[1e-7, -3.14159e-6], [2.5e-5, 1.23456e-6]])
    p = tensor_payload(x)
    decoded = np.frombuffer(base64.b64decode(p["data"]), dtype="<f2").astype(np.float64) * p["scale"]
    np.testing.assert_allclose(decoded[1:], x.ravel()[1:], rtol=1e-3)
    assert p["stats"]["norm"] == pytest.approx(np.linalg.norm(x))


def test_bad_arguments_are_named():
    loss, lstm, _ = lstm_loss()
    with pytest.raises(TypeError, match="root must be a Tensor"):
        viz.explore(3.0)
    with pytest.raises(TypeError, match=r"states\[1\] must be a Tensor"):
        viz.explore(loss, states=[lstm.hidden_states[0], "h"])
    with pytest.raises(ValueError, match="text has 3 characters but states has 5"):
        viz.explore(loss, states=lstm.hidden_states, text="abc")
    with pytest.raises(ValueError, match=r"activations\['h'\] must have shape \(3, H\)"):
        viz.explore(loss, text="abc", activations=np.zeros((4, 2)))
    with minigrad.no_grad():
        frozen = minigrad.tensor([1.0]) * 2
    with pytest.raises(ValueError, match="does not require grad"):
        viz.explore(frozen)
