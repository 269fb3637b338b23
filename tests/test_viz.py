"""minigrad.viz: structure of the DOT text, rendering with `dot`, gradient-flow numbers.

The pictures are checked through their DOT text: one cluster per unrolled step, each shared
weight drawn once with an edge into every step, flow colours that differ between a vanishing
and a healthy path, a legend, a note when max_nodes cuts, identical text for the same graph.
"""
import gc
import os
import re
import shutil
import sys
import weakref

import numpy as np
import pytest

import minigrad
from minigrad import viz
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "examples")))
from lecture_figures import SequenceModel, vanilla_rnn  # noqa: E402

EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$", re.M)


def edges(source):
    """(tail, head, attrs) in the direction the arrows point (dir=back undone)."""
    result = []
    for tail, head, attrs in EDGE.findall(source):
        if "style=invis" in attrs:
            continue
        if "dir=back" in attrs:
            tail, head = head, tail
        result.append((tail, head, attrs))
    return result


def clusters(source):
    """{cluster name: set of node ids declared in it} for the time-step clusters."""
    found = {}
    for match in re.finditer(r"subgraph (cluster_t\d+) \{(.*?)\n\t\}", source, re.S):
        found[match.group(1)] = set(re.findall(r"^\s*(n\d+) \[", match.group(2), re.M))
    return found


def node_id(source, bold_label):
    ids = re.findall(rf"^\s*(n\d+) \[label=<<b>{re.escape(bold_label)}</b>", source, re.M)
    assert len(ids) == 1, f"{bold_label}: {len(ids)} nodes"
    return ids[0]


def attr(attrs, name):
    match = re.search(rf'{name}="?([^" ]+)"?', attrs)
    return match.group(1) if match else None


@pytest.fixture
def rnn5():
    loss, hs, params = vanilla_rnn(T=5)
    return loss, hs, params


def test_one_cluster_per_step_in_time_order(rnn5):
    loss, _, _ = rnn5
    source = viz.draw_graph(loss).source
    names = re.findall(r"subgraph (cluster_t\d+)", source)
    assert names == [f"cluster_t{t}" for t in range(5)]
    for t in range(5):
        assert f'label="t = {t}"' in source


def test_shared_weights_drawn_once_with_an_edge_into_every_step(rnn5):
    loss, _, _ = rnn5
    source = viz.draw_graph(loss).source
    steps = clusters(source)
    all_edges = edges(source)
    for name in ("W_xh", "W_hh", "W_hy"):
        weight = node_id(source, name)
        assert not any(weight in members for members in steps.values())   # outside clusters
        for cluster, members in steps.items():
            assert any(t == weight and h in members for t, h, _ in all_edges), (name, cluster)


def test_every_node_shows_a_shape(rnn5):
    loss, _, _ = rnn5
    source = viz.draw_graph(loss).source
    labels = re.findall(r"^\s*n\d+ \[label=<(.*)> ", source, re.M)
    assert labels and all(re.search(r"\(\d+(, \d+)*\)|scalar", label) for label in labels)


def test_recurrent_edges_run_forward_in_time(rnn5):
    loss, _, _ = rnn5
    source = viz.draw_graph(loss).source
    step_of = {n: int(c[len("cluster_t"):]) for c, members in clusters(source).items() for n in members}
    crossing = [(step_of[t], step_of[h]) for t, h, _ in edges(source) if t in step_of and h in step_of
                and step_of[t] != step_of[h]]
    assert crossing and all(b == a + 1 for a, b in crossing)


def test_determinism_same_graph_same_text():
    texts = []
    for _ in range(2):
        minigrad.manual_seed(3)
        loss, _, _ = vanilla_rnn(T=4)
        texts.append(viz.draw_graph(loss, mode="flow").source)
        texts.append(viz.draw_graph(loss, mode="backward", collapse=True).source)
    assert texts[0] == texts[2] and texts[1] == texts[3]
    assert "id(" not in texts[0]


def test_flow_colours_a_vanishing_path_differently_from_a_healthy_one():
    loss, hs, _ = vanilla_rnn(T=8, sigma=0.3, loss_at="last")
    source = viz.draw_graph(loss, mode="flow", collapse=True).source
    step_node = {int(m.group(2)): m.group(1)
                 for m in re.finditer(r"^\s*(n\d+) \[label=<<b>t = (\d+)</b>", source, re.M)}
    by_pair = {(t, h): a for t, h, a in edges(source)}
    early, late = by_pair[(step_node[0], step_node[1])], by_pair[(step_node[6], step_node[7])]
    assert attr(early, "color") != attr(late, "color")
    assert float(attr(early, "penwidth")) < float(attr(late, "penwidth"))
    assert "legend" in source and "gradient" in source


def test_flow_mode_and_gradient_flow_change_no_grad(rnn5):
    loss, hs, params = rnn5
    params["W_hh"].grad = minigrad.ones(4, 4)
    hs[2].retain_grad()
    viz.draw_graph(loss, mode="flow")
    viz.gradient_flow(loss, hs)
    assert params["W_xh"].grad is None and params["W_hy"].grad is None and hs[2].grad is None
    np.testing.assert_array_equal(params["W_hh"].grad.numpy(), np.ones((4, 4)))
    loss.backward()      # the graph is still usable
    assert params["W_xh"].grad is not None


def test_flow_after_backward_without_retain_graph_says_what_to_do(rnn5):
    loss, _, _ = rnn5
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.draw_graph(loss, mode="flow")


def test_max_nodes_truncates_with_a_visible_note(rnn5):
    loss, _, _ = rnn5
    source = viz.draw_graph(loss, max_nodes=12).source
    assert len(re.findall(r"^\s*n\d+ \[label", source, re.M)) == 12
    assert "more nodes not drawn (max_nodes=12)" in source
    assert any("truncated" in (t, h) for t, h, _ in edges(source))
    assert "not drawn" not in viz.draw_graph(loss).source


def test_backward_mode_accumulates_into_shared_weights(rnn5):
    loss, _, _ = rnn5
    source = viz.draw_graph(loss, mode="backward").source
    acc = node_id(source, "W_hh.grad +=")
    assert "sum of 5 gradients" in source
    assert sum(1 for _, h, _ in edges(source) if h == acc) == 5
    root = [t for t, h, _ in edges(source) if t == "seed"]
    assert root == ["seed"]                               # ∂L/∂L = 1 starts the pass
    assert "tanh</b> backward" in source


def test_collapse_one_box_per_step_for_long_sequences():
    loss, _, _ = vanilla_rnn(T=50, loss_at="last")
    source = viz.draw_graph(loss, collapse=True, max_steps=None).source
    assert len(re.findall(r"<b>t = \d+</b>", source)) == 50
    assert len(re.findall(r"^\s*n\d+ \[label", source, re.M)) == 50 + 3   # steps + weights
    folded = viz.draw_graph(loss, collapse=True).source       # max_steps="auto": 10 steps
    assert len(re.findall(r"<b>t = \d+</b>", folded)) == 10
    assert "… t = 5..44 …" in folded and "40 steps folded" in folded


def test_group_module_and_flat(rnn5):
    loss, _, _ = rnn5
    by_module = viz.draw_graph(loss, group="module").source
    assert "cluster_m_rnn" in by_module and "cluster_t" not in by_module
    assert "subgraph" not in viz.draw_graph(loss, group=None).source


def test_bad_arguments_raise(rnn5):
    loss, _, _ = rnn5
    for kwargs in ({"mode": "sideways"}, {"group": "layer"}, {"rankdir": "XY"}, {"max_nodes": 0}):
        with pytest.raises(ValueError):
            viz.draw_graph(loss, **kwargs)
    with pytest.raises(TypeError):
        viz.draw_graph(np.zeros(3))


def test_graph_is_freed_after_drawing():
    loss, _, _ = vanilla_rnn(T=6)
    node = weakref.ref(loss.grad_fn)
    for mode in ("forward", "backward", "flow"):
        viz.draw_graph(loss, mode=mode, collapse=(mode == "flow"), max_nodes=20)
    del loss
    gc.collect()
    assert node() is None


def test_nn_lstm_parameters_named_and_drawn_once():
    model = SequenceModel("LSTM")
    loss = (model(minigrad.randn(4, 2, 3)) ** 2).sum()
    source = viz.draw_graph(loss).source
    weight = node_id(source, "rnn.weight_hh_l0")
    steps = clusters(source)
    assert len(steps) == 4
    for members in steps.values():
        assert any(t == weight and h in members for t, h, _ in edges(source))
    assert 'label=h' in source and 'label=c' in source          # the cell's two outputs


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` is not installed "
                    "(scripts/install_dot.sh installs it)")
def test_renders_svg_and_png_with_dot(rnn5, tmp_path):
    loss, _, _ = rnn5
    graph = viz.draw_graph(loss, mode="flow")
    svg = graph.render(outfile=tmp_path / "g.svg", cleanup=True)
    png = graph.render(outfile=tmp_path / "g.png", cleanup=True)
    assert "<svg" in open(svg, encoding="utf-8").read()
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert "image/svg+xml" in graph._repr_mimebundle_()       # inline in Jupyter


def test_gradient_flow_matches_grad_and_one_hand_step_of_bptt():
    loss, hs, params = vanilla_rnn(T=6, loss_at="last")
    norms = viz.gradient_flow(loss, hs)
    assert norms.shape == (6,) and norms.dtype == np.float64
    (g_last,) = minigrad.grad(loss, [hs[-1]], retain_graph=True)
    assert norms[-1] == pytest.approx(np.linalg.norm(g_last.numpy()), rel=1e-6)
    # one step back by hand: dL/dh_{T-2} = (dL/dh_{T-1} ⊙ (1 - h_{T-1}²)) W_hhᵀ
    h_last = hs[-1].numpy().astype(np.float64)
    W_hh = params["W_hh"].numpy().astype(np.float64)
    g_prev = (g_last.numpy().astype(np.float64) * (1 - h_last ** 2)) @ W_hh.T
    assert norms[-2] == pytest.approx(np.linalg.norm(g_prev), rel=1e-4)


@pytest.mark.parametrize("sigma, grows", [(0.3, False), (2.0, True)])
def test_gradient_flow_vanishes_and_explodes_with_sigma_max(sigma, grows):
    loss, hs, _ = vanilla_rnn(T=12, hidden_size=8, input_size=4, sigma=sigma, loss_at="last",
                              input_scale=1e-5)
    norms = viz.gradient_flow(loss, hs)
    steps = np.diff(np.log(norms))            # log ratio from h_t to h_{t+1}
    if grows:   # far from the loss the gradient is larger: dL/dh_t grows as t decreases
        assert np.all(steps < 0) and norms[0] > 100 * norms[-1]
    else:
        assert np.all(steps > 0) and norms[0] < 1e-3 * norms[-1]


def test_gradient_flow_errors():
    loss, hs, _ = vanilla_rnn(T=3)
    with pytest.raises(ValueError, match="states\\[0\\]"):
        viz.gradient_flow(loss, [minigrad.zeros(2, 4)] + hs)
    with pytest.raises(TypeError):
        viz.gradient_flow(3.0, hs)


def test_plot_gradient_flow_log_axis(tmp_path):
    path = tmp_path / "flow.png"
    fig = viz.plot_gradient_flow({"RNN": [1e-6, 1e-3, 1.0], "LSTM": np.array([0.1, 0.3, 1.0])},
                                 path=str(path))
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    assert open(path, "rb").read(4) == b"\x89PNG"
    with pytest.raises(ValueError):
        viz.plot_gradient_flow({})


def test_command_line_writes_the_demo_figures(tmp_path, capsys):
    from lecture_figures import main
    main(["--out", str(tmp_path), "--formats", "svg"])
    printed = capsys.readouterr().out
    for stem in ("hello_rnn_forward", "lstm_T5_flow", "gru_T5_backward", "lstm_T50_collapsed",
                 "gradient_flow_vanishing_exploding"):
        assert (tmp_path / f"{stem}.svg").exists() and stem in printed


def test_command_line_help_shows_defaults_in_plain_words(capsys):
    from lecture_figures import main
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())       # argparse wraps lines
    assert "(default: figures)" in text and "(default: svg,png)" in text and "``" not in text


def test_flow_shows_each_steps_share_of_a_fused_layers_weight_gradient():
    """A fused layer sums W_hh's gradient over the sequence in one matmul at backward time;
    the flow picture still shows, on the edge into each step, that step's own share, and
    the shares add up to the gradient backward() gives (the graph stays usable after)."""
    import nn
    from minigrad.viz.flow import measure_edge_gradients
    from minigrad.viz.graph_walk import walk
    minigrad.manual_seed(0)
    rnn = nn.RNN(3, 4)
    h0 = minigrad.randn(1, 2, 4)
    output, _ = rnn(minigrad.randn(5, 2, 3), h0)
    loss = output[-1].sum()
    graph = walk(loss, keep_objects=True)
    weight = next(i for i, obj in enumerate(graph.objects) if obj is rnn.weight_hh_l0)
    shares = {dst: g for (src, _, dst), g in measure_edge_gradients(loss, graph).items()
              if src == weight}
    assert len(shares) == 5                              # one edge into every step
    assert all(np.abs(g).sum() > 0 for g in shares.values())
    loss.backward()
    np.testing.assert_allclose(sum(shares.values()), rnn.weight_hh_l0.grad.numpy(), rtol=1e-5, atol=1e-6)
