"""Measure graphviz's own layout of a picture: ``dot -Tjson`` of ``draw_graph(...).source``.

Used by tests/test_viz_layout.py (and to print the before/after table of the report):
step-cluster boxes and their centres, the label box of every cluster, every edge's spline
points, and the drawing's aspect ratio.
"""
import json
import subprocess


def layout(source):
    """The JSON layout dot computes for DOT ``source``."""
    done = subprocess.run(["dot", "-Tjson"], input=source.encode(), capture_output=True, check=True)
    return json.loads(done.stdout)


def graph_box(data):
    x0, y0, x1, y1 = (float(v) for v in data["bb"].split(","))
    return x0, y0, x1, y1


def aspect(data):
    x0, y0, x1, y1 = graph_box(data)
    return (x1 - x0) / (y1 - y0)


def clusters(data, prefix="cluster_t"):
    """{name: (x0, y0, x1, y1)} of the subgraphs whose name starts with ``prefix``."""
    found = {}
    for obj in data.get("objects", []):
        name = obj.get("name", "")
        if name.startswith(prefix) and "bb" in obj:
            found[name] = tuple(float(v) for v in obj["bb"].split(","))
    return found


def label_boxes(data, prefix="cluster_t"):
    """[(name, text, (x0, y0, x1, y1))] for the drawn labels of the matching clusters."""
    boxes = []
    for obj in data.get("objects", []):
        name = obj.get("name", "")
        if not name.startswith(prefix):
            continue
        size = 14.0
        for op in obj.get("_ldraw_", []):
            if op["op"] == "F":
                size = float(op["size"])
            if op["op"] == "T" and op["text"].strip():
                x, y = op["pt"]
                w = float(op["width"])
                x0 = {"l": x, "c": x - w / 2, "r": x - w}[op["align"]]
                boxes.append((name, op["text"], (x0, y - 0.25 * size, x0 + w, y + 0.75 * size)))
    return boxes


def splines(data):
    """[(tail name, head name, [(x, y), ...])] of the visible edges, sampled along their curves."""
    names = {o["_gvid"]: o.get("name", "") for o in data.get("objects", [])}
    result = []
    for edge in data.get("edges", []):
        if edge.get("style") == "invis":
            continue
        points = []
        for op in edge.get("_draw_", []):
            if op["op"] in ("b", "B"):
                points += _bezier(op["points"])
        result.append((names.get(edge["tail"]), names.get(edge["head"]), points))
    return result


def _bezier(ctrl, samples=12):
    out = []
    for k in range(0, len(ctrl) - 3, 3):
        p0, p1, p2, p3 = ctrl[k:k + 4]
        for s in range(samples + 1):
            u = s / samples
            a, b, c, d = (1 - u) ** 3, 3 * u * (1 - u) ** 2, 3 * u * u * (1 - u), u ** 3
            out.append((a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                        a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]))
    return out


def inside(point, box, pad=0.0):
    x, y = point
    x0, y0, x1, y1 = box
    return x0 - pad <= x <= x1 + pad and y0 - pad <= y <= y1 + pad


def rows(boxes):
    """{row suffix: [(step, box)] in time order} of the cells ``cluster_t<N>[_<row>]``."""
    found = {}
    for name, box in boxes.items():
        step, _, row = name[len("cluster_t"):].partition("_")
        if step.isdigit():
            found.setdefault(row, []).append((int(step), box))
    return {row: sorted(cells) for row, cells in found.items()}


def step_centres(boxes):
    """Centres (x) of the step clusters of the first row, in time order, and their boxes."""
    by_row = rows(boxes)
    cells = by_row[sorted(by_row)[0]] if by_row else []
    return [(box[0] + box[2]) / 2 for _, box in cells], [box for _, box in cells]


def summary(source):
    """(spacings between step centres, aspect ratio, labels crossed by an edge)."""
    data = layout(source)
    centres, boxes = step_centres(clusters(data))
    spacing = [round(b - a) for a, b in zip(centres, centres[1:])]
    crossed = sorted({text for _, text, box in label_boxes(data)
                      for _, _, pts in splines(data) if any(inside(p, box) for p in pts)})
    return spacing, aspect(data), crossed
