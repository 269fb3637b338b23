"""Every colour, shape and font of the pictures, in one place.

Change a picture's look here; the drawing code only picks an entry by kind.
"""

FONT = "Helvetica"

GRAPH = {"fontname": FONT, "fontsize": "12", "nodesep": "0.18", "ranksep": "0.35",
         "newrank": "true", "bgcolor": "white", "pad": "0.2",
         "outputorder": "edgesfirst"}  # nodes drawn over edges, so labels stay readable
# The time × layer grid (grid.py): splines routed around nodes, so no edge runs through a
# label.
TIME_LAYOUT = {"nodesep": "0.25", "ranksep": "0.3"}
NODE_DEFAULT = {"fontname": FONT, "fontsize": "11", "height": "0.3", "margin": "0.06,0.03"}
EDGE_DEFAULT = {"fontname": FONT, "fontsize": "9", "arrowsize": "0.6", "penwidth": "1.1",
                "color": "#555555"}

# Nodes of the forward picture (mode="forward" and "flow").
NODE = {
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#f3f3f3", "color": "#999999"},
    "named": {"shape": "box", "style": "rounded,filled", "fillcolor": "#fff2cc", "color": "#bf9000"},
    "param": {"shape": "box", "style": "filled", "fillcolor": "#cfe2f3", "color": "#3d85c6",
              "penwidth": "1.5"},
    "leaf": {"shape": "box", "style": "filled", "fillcolor": "#eeeeee", "color": "#666666"},
    "cell": {"shape": "box", "style": "rounded,filled", "fillcolor": "#d9ead3", "color": "#38761d",
             "penwidth": "1.3"},
    "root": {"shape": "box", "style": "rounded,filled", "fillcolor": "#f4cccc", "color": "#990000",
             "penwidth": "1.6"},
    "note": {"shape": "note", "style": "filled", "fillcolor": "#fff9e0", "color": "#bf9000",
             "fontsize": "11"},
    "fold": {"shape": "box", "style": "rounded,dashed,filled", "fillcolor": "#ffffff",
             "color": "#777777", "penwidth": "1.3"},
    # The time axis under the grid ("t = 0"), the anchors of the other rows, row names.
    "axis": {"shape": "plaintext", "fontsize": "12", "fontcolor": "#444444", "height": "0.2"},
    "anchor": {"shape": "point", "style": "invis", "width": "0.01", "height": "0.01"},
    "row_label": {"shape": "plaintext", "fontsize": "11", "fontcolor": "#666666"},
}

# Nodes of the backward picture (mode="backward").
BACKWARD_NODE = {
    "seed": {"shape": "box", "style": "rounded,filled", "fillcolor": "#f4cccc", "color": "#990000"},
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#fce5cd", "color": "#b45f06"},
    "cell": {"shape": "box", "style": "rounded,filled", "fillcolor": "#f9cb9c", "color": "#b45f06",
             "penwidth": "1.3"},
    "accumulate": {"shape": "box", "style": "filled", "fillcolor": "#cfe2f3", "color": "#3d85c6",
                   "penwidth": "1.5"},
}

EDGE = {
    "data": {},
    "param": {"color": "#6fa8dc", "penwidth": "0.8"},
    "gradient": {"color": "#b45f06", "penwidth": "1.1"},
    "accumulate": {"color": "#6fa8dc", "penwidth": "0.8"},
    "truncated": {"style": "dashed", "color": "#bf9000"},
    "no_gradient": {"style": "dashed", "color": "#bbbbbb", "penwidth": "0.8"},
    # The LSTM's cell state c_t: a double line, the "conveyor belt" of the lecture.
    "cell_state": {"color": "#1a1a1a:#ffffff:#1a1a1a", "penwidth": "1.2"},
}

EDGE_LABEL = {"fontcolor": "#444444", "fontsize": "9"}

# Names for the outputs of multi-output ops, by op label (edges from them are labelled).
OUTPUT_NAMES = {"LSTM cell": ("h", "c")}

CLUSTER = {
    "step": {"style": "rounded,filled", "fillcolor": "#fafafa", "color": "#bbbbbb",
             "fontname": FONT, "fontsize": "12", "labeljust": "l", "margin": "6"},
    "step_collapsed": {"style": "invis", "margin": "2"},
    "legend": {"style": "rounded", "color": "#cccccc", "fontname": FONT, "fontsize": "10",
               "margin": "6"},
    "module": {"style": "rounded,dashed", "color": "#888888", "fontname": FONT,
               "fontsize": "11", "labeljust": "l", "margin": "6"},
}

# Secondary text inside node labels (shapes, values).
DETAIL_FONT = {"point-size": "9", "color": "#666666"}

# Flow mode: colour map over log10 of the gradient norm, and edge widths. viridis is
# perceptually uniform and colour-blind-safe; the largest norms get its dark end, the
# smallest its light end (its yellow end is too pale on white, hence 0.82).
FLOW_COLORMAP = "viridis"
FLOW_COLORMAP_RANGE = (0.0, 0.82)
FLOW_FALLBACK_PALETTE = ("#b2dd2d", "#5ec962", "#21a585", "#2a788e", "#3b528b",
                         "#472d7b", "#440154")   # viridis 0.88 .. 0, small to large
FLOW_PENWIDTH = (0.6, 4.5)  # thinnest (smallest norm) to thickest (largest)
