/* minigrad explorer: watch a real backward pass, one edge at a time.
 *
 * Plain JavaScript, no framework, no build step: read it top to bottom.
 * The data (the JSON in <script id="minigrad-data">) was written by minigrad.viz.explore:
 *   nodes   one record per node of the graph, numbered as draw_graph numbers them
 *           (the SVG's <g class="node"><title>n12</title> is node 12)
 *   events  [src, src_out, dst, norm]: the engine handed a gradient of norm `norm` from
 *           node dst back to output src_out of node src, in the order the engine ran
 *   flow    per time step t: the norm of dL/dh_t after each event that added to it
 * Step k of the stepper means: the first k events have happened.
 * The API for scripts and tests is window.minigradExplorer (at the end of this file).
 */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("minigrad-data").textContent);
  var nodes = data.nodes, events = data.events;
  var current = { step: 0, selected: null, playing: null, unitKind: null, unit: 0,
                  matches: [], word: 0, range: null };

  // ---- decoding the compact arrays --------------------------------------------------
  function bytesOf(b64) {
    var s = atob(b64), out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function halfToFloat(h) {                  // IEEE 754 half precision -> number
    var sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    if (exp === 0) return sign * Math.pow(2, -14) * (frac / 1024);
    if (exp === 31) return frac ? NaN : sign * Infinity;
    return sign * Math.pow(2, exp - 15) * (1 + frac / 1024);
  }
  function decodeTensor(t) {                 // -> Float64Array of the shown values
    if (t.values) return t.values;
    var b = bytesOf(t.data), n = b.length / 2, v = new Float64Array(n);
    for (var i = 0; i < n; i++) v[i] = halfToFloat(b[2 * i] | (b[2 * i + 1] << 8)) * (t.scale || 1);
    t.values = v;
    return v;
  }
  function num(x) {                          // a number for people: 3 significant digits
    if (typeof x === "string") return x;
    if (x === null || x === undefined) return "–";
    if (x === 0) return "0";
    var a = Math.abs(x);
    return (a >= 1e4 || a < 1e-3) ? x.toExponential(2) : String(Number(x.toPrecision(3)));
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svgEl(tag, attrs, text) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function shapeText(s) { return s.length ? "(" + s.join(", ") + ")" : "scalar"; }
  function diverging(v) {                    // v in [-1, 1]: blue - white - red
    v = Math.max(-1, Math.min(1, v || 0));
    var r = v > 0 ? 255 : Math.round(255 * (1 + v)), b = v < 0 ? 255 : Math.round(255 * (1 - v));
    var g = Math.round(255 * (1 - Math.abs(v)) * 0.95 + 12 * (1 - Math.abs(v)));
    return [r, Math.min(255, g), b];
  }

  // ---- the graph: SVG elements by node id, pan and zoom ---------------------------------
  var graphBox = document.getElementById("graph");
  var svg = graphBox.querySelector("svg");
  var nodeEls = {}, edgeEls = {}, clusterEls = {};
  if (svg) {
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.querySelectorAll("g.node").forEach(function (g) {
      var m = /^n(\d+)$/.exec(g.querySelector("title").textContent.trim());
      if (!m) return;
      nodeEls[m[1]] = g;
      g.addEventListener("click", function () { select(Number(m[1])); });
    });
    svg.querySelectorAll("g.edge").forEach(function (g) {
      var m = /^n(\d+)->n(\d+)$/.exec(g.querySelector("title").textContent.trim());
      if (!m) return;
      // cross-step edges are drawn head to tail (dir=back): file both ways round
      [m[1] + ">" + m[2], m[2] + ">" + m[1]].forEach(function (key) {
        (edgeEls[key] = edgeEls[key] || []).push(g);
      });
    });
    svg.querySelectorAll("g.cluster").forEach(function (g) {
      var m = /^cluster_t(\d+)$/.exec(g.querySelector("title").textContent.trim());
      if (m) clusterEls[m[1]] = g;
    });
  }
  var fullView = svg ? svg.getAttribute("viewBox").split(/[\s,]+/).map(Number) : [0, 0, 1, 1];
  var view = fullView.slice();
  function setView(v) { view = v; if (svg) svg.setAttribute("viewBox", v.join(" ")); }
  function zoom(factor, cx, cy) {
    cx = cx === undefined ? view[0] + view[2] / 2 : cx;
    cy = cy === undefined ? view[1] + view[3] / 2 : cy;
    setView([cx - (cx - view[0]) * factor, cy - (cy - view[1]) * factor, view[2] * factor, view[3] * factor]);
  }
  function toSvgPoint(clientX, clientY) {
    var r = svg.getBoundingClientRect();
    var s = Math.max(view[2] / r.width, view[3] / r.height);    // "meet" scaling
    var ox = (r.width - view[2] / s) / 2, oy = (r.height - view[3] / s) / 2;
    return [view[0] + (clientX - r.left - ox) * s, view[1] + (clientY - r.top - oy) * s];
  }
  if (svg) {
    graphBox.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var p = toSvgPoint(ev.clientX, ev.clientY);
      zoom(ev.deltaY > 0 ? 1.15 : 1 / 1.15, p[0], p[1]);
    }, { passive: false });
    var drag = null;
    graphBox.addEventListener("mousedown", function (ev) {
      drag = { x: ev.clientX, y: ev.clientY, view: view.slice(), moved: false };
    });
    window.addEventListener("mousemove", function (ev) {
      if (!drag) return;
      var r = svg.getBoundingClientRect();
      var s = Math.max(drag.view[2] / r.width, drag.view[3] / r.height);
      var dx = (ev.clientX - drag.x) * s, dy = (ev.clientY - drag.y) * s;
      if (Math.abs(dx) + Math.abs(dy) > 2) { drag.moved = true; graphBox.classList.add("dragging"); }
      setView([drag.view[0] - dx, drag.view[1] - dy, drag.view[2], drag.view[3]]);
    });
    window.addEventListener("mouseup", function () { drag = null; graphBox.classList.remove("dragging"); });
    document.getElementById("zoom-in").onclick = function () { zoom(1 / 1.4); };
    document.getElementById("zoom-out").onclick = function () { zoom(1.4); };
    document.getElementById("zoom-fit").onclick = function () { setView(fullView.slice()); };
    setView(startView());
  }
  function startView() {                     // the loss end of a long graph, full height
    var r = graphBox.getBoundingClientRect(), aspect = r.width / Math.max(1, r.height);
    if (!svg || fullView[2] / fullView[3] <= 1.5 * aspect) return fullView.slice();
    var w = Math.max(fullView[3] * aspect, fullView[2] / 8), c = centerOf(nodeEls[0]);
    var x = Math.max(fullView[0], Math.min(fullView[0] + fullView[2] - w, (c ? c[0] : 0) - w / 2));
    var h = w / aspect;
    return [x, fullView[1] + (fullView[3] - h) / 2, w, h];
  }
  function centerOf(g) {                     // centre of element g in viewBox coordinates
    if (!svg || !g || !g.getBBox) return null;
    var b = g.getBBox(), t = svg.getElementById("graph0"), m = t && t.transform.baseVal.consolidate();
    return [b.x + b.width / 2 + (m ? m.matrix.e : 0), b.y + b.height / 2 + (m ? m.matrix.f : 0)];
  }
  function focus(id, width) {                // centre node id, viewBox `width` units wide
    var c = centerOf(nodeEls[id]);
    if (!c) return;
    var w = width || view[2], h = w * view[3] / view[2];
    setView([c[0] - w / 2, c[1] - h / 2, w, h]);
  }
  function showInView(g) {                   // pan so that element g is visible
    var c = centerOf(g);
    if (!c) return;
    var cx = c[0], cy = c[1];
    if (cx < view[0] || cx > view[0] + view[2] || cy < view[1] || cy > view[1] + view[3]) {
      setView([cx - view[2] / 2, cy - view[3] / 2, view[2], view[3]]);
    }
  }

  // ---- the backward stepper ---------------------------------------------------------
  var slider = document.getElementById("slider");
  slider.max = String(events.length);
  function litNodes(k) {                     // ids whose gradient exists after k events
    var lit = [];
    nodes.forEach(function (n) {
      if (n.lit_at === -1 || (n.lit_at !== null && n.lit_at < k)) lit.push(n.id);
    });
    return lit;
  }
  function step(k) {
    k = Math.max(0, Math.min(events.length, Math.round(Number(k) || 0)));
    current.step = k;
    slider.value = String(k);
    var lit = {};
    litNodes(k).forEach(function (id) { lit[id] = true; });
    for (var id in nodeEls) nodeEls[id].classList.toggle("lit", !!lit[id]);
    if (svg) {
      svg.querySelectorAll(".edge.current, .edge.done").forEach(function (g) {
        g.classList.remove("current", "done");
      });
      svg.querySelectorAll(".edge-norm").forEach(function (t) { t.remove(); });
      for (var i = 0; i < k; i++) {
        (edgeEls[events[i][0] + ">" + events[i][2]] || []).forEach(function (g) { g.classList.add("done"); });
      }
    }
    var text = "step " + k + " / " + events.length;
    if (k === 0) text += ": ∂L/∂L = 1 at the loss";
    if (k > 0) {
      var e = events[k - 1];
      text += ": " + nodeName(e[2]) + " → " + nodeName(e[0]) + ",  ‖grad‖ = " + num(e[3]);
      var gs = edgeEls[e[0] + ">" + e[2]] || [];
      gs.forEach(function (g) { g.classList.remove("done"); g.classList.add("current"); });
      if (gs.length) labelEdge(gs[0], e[3]);
      if (gs.length && current.follow) showInView(gs[0]);
    }
    document.getElementById("step-text").textContent = text;
    drawBars();
    if (current.selected !== null) renderNode(current.selected);
    return state();
  }
  function labelEdge(g, norm) {
    var path = g.querySelector("path");
    if (!path) return;
    var p = path.getPointAtLength(path.getTotalLength() / 2);
    var layer = svg.getElementById("graph0") || g;             // on top of every node
    layer.appendChild(svgEl("text", { x: p.x, y: p.y - 16, "text-anchor": "middle", "class": "edge-norm" },
                           "‖g‖ = " + num(norm)));
  }
  function nodeName(id) {
    var n = nodes[id];
    var name = n.names && Object.keys(n.names).length ? " " + Object.values(n.names).join(",") : "";
    return n.label + name + (n.step !== null && n.step !== undefined ? " (t=" + n.step + ")" : "");
  }
  function play() {
    if (current.playing) { clearInterval(current.playing); current.playing = null; }
    else {
      if (current.step >= events.length) step(0);
      current.playing = setInterval(function () {
        if (current.step >= events.length) play(); else follow(current.step + 1);
      }, Math.max(30, Math.min(400, 12000 / Math.max(1, events.length))));
    }
    document.getElementById("play").textContent = current.playing ? "pause" : "play";
    document.getElementById("play").classList.toggle("on", !!current.playing);
  }
  function follow(k) {                       // step and keep the edge just crossed in view
    current.follow = true;
    try { return step(k); } finally { current.follow = false; }
  }
  slider.addEventListener("input", function () { follow(slider.value); });
  document.getElementById("first").onclick = function () { follow(0); };
  document.getElementById("prev").onclick = function () { follow(current.step - 1); };
  document.getElementById("next").onclick = function () { follow(current.step + 1); };
  document.getElementById("last").onclick = function () { follow(events.length); };
  document.getElementById("play").onclick = play;
  document.addEventListener("keydown", function (ev) {
    if (ev.target.tagName === "INPUT" && ev.target.type !== "range") return;
    if (ev.target.tagName === "SELECT") return;
    var keys = { ArrowRight: 1, ArrowLeft: -1 };
    if (ev.key in keys) { ev.preventDefault(); follow(current.step + keys[ev.key]); }
    else if (ev.key === "Home") follow(0);
    else if (ev.key === "End") follow(events.length);
    else if (ev.key === " ") { ev.preventDefault(); play(); }
  });

  // ---- the node panel -----------------------------------------------------------------
  function select(id) {
    id = Number(id);
    if (!(id in nodes)) throw new Error("minigradExplorer.select: no node " + id);
    if (current.selected !== null && nodeEls[current.selected]) nodeEls[current.selected].classList.remove("selected");
    current.selected = id;
    if (nodeEls[id]) nodeEls[id].classList.add("selected");
    renderNode(id);
    return state();
  }
  function renderNode(id) {
    var n = nodes[id], box = document.getElementById("node-info");
    box.innerHTML = "";
    var facts = el("dl", { "class": "facts" });
    var kind = { op: "operation", param: "parameter (leaf)", leaf: "input (leaf)" }[n.kind] || n.kind;
    [["node", "n" + n.id + (n.root ? "  (the loss)" : "")], ["label", n.label], ["kind", kind],
     ["op", n.kind === "op" ? n.label : "–"], ["module", n.module || "–"],
     ["time step", n.step === null || n.step === undefined ? "–" : String(n.step)],
     ["shape", n.shapes.map(shapeText).join(", ")], ["dtype", n.dtype || "–"]
    ].forEach(function (row) {
      facts.appendChild(el("dt", {}, row[0]));
      facts.appendChild(el("dd", { "data-fact": row[0] }, row[1]));
    });
    box.appendChild(facts);
    n.grads.forEach(function (g, i) {
      var outName = n.kind === "op" && n.shapes.length > 1 ? " of " + (n.names[i] || "output " + i) : "";
      var arrived = n.lit_at === -1 || (n.lit_at !== null && n.lit_at < current.step);
      if (!g) { box.appendChild(el("p", { "class": "note" }, "gradient" + outName + ": none reaches it")); return; }
      var title = "gradient" + outName + (arrived ? "" : "  (arrives at step " + (n.lit_at + 1) + ")");
      box.appendChild(tensorView(title, g, id + "g" + i));
      var run = n.running[String(n.kind === "op" ? i : -1)];
      if (run) box.appendChild(accumulation(run));
    });
    if (n.value) box.appendChild(tensorView("value", n.value, id + "v"));
    else box.appendChild(el("p", { "class": "note" }, "value: not kept (pass it in explore(tensors=...) to see it)"));
  }
  function accumulation(run) {               // a shared weight: one step's share at a time
    var k = current.step, done = run.filter(function (r) { return r[0] < k; });
    var now = done.length ? done[done.length - 1][1] : 0;
    var box = el("div", { "class": "accumulation" });
    box.appendChild(el("p", { "class": "note", "data-fact": "accumulated" },
      "sum of " + run.length + " gradients (one per use): " + done.length + " of " + run.length +
      " added so far, ‖sum‖ = " + num(now) + " (final " + num(run[run.length - 1][1]) + ")"));
    // one bar per contribution, at the time step of the node that handed it over
    var parts = run.map(function (r) { var e = events[r[0]]; return { k: r[0], norm: e[3], step: nodes[e[2]].step }; });
    parts.sort(function (a, b) { return (a.step === null ? -1 : a.step) - (b.step === null ? -1 : b.step); });
    var top = Math.max.apply(null, parts.map(function (q) { return q.norm; }).concat([1e-30]));
    var W = 320, H = 48, bw = W / parts.length, chart = svgEl("svg", { width: W, height: H + 14, "class": "contributions" });
    parts.forEach(function (q, i) {
      var h = Math.max(1, H * q.norm / top);
      chart.appendChild(svgEl("rect", { x: i * bw + bw * 0.1, y: H - h, width: Math.max(1, bw * 0.8), height: h,
        fill: q.k < k ? "#e07b39" : "#e5e5e5" }));
    });
    chart.appendChild(svgEl("text", { x: 0, y: H + 12, "class": "axis" }, "t = " + (parts[0].step === null ? "–" : parts[0].step)));
    chart.appendChild(svgEl("text", { x: W, y: H + 12, "class": "axis", "text-anchor": "end" },
      "t = " + (parts[parts.length - 1].step === null ? "–" : parts[parts.length - 1].step)));
    box.appendChild(el("div", { "class": "note" }, "‖contribution‖ of each step (orange: added)"));
    box.appendChild(chart);
    return box;
  }
  var slices = {};                           // tensor key -> chosen leading indices
  function tensorView(title, t, key) {
    var box = el("div", { "class": "tensor" });
    box.appendChild(el("h3", {}, title + "  " + shapeText(t.shape)));
    box.appendChild(el("div", { "class": "stats" }, "min " + num(t.stats.min) + "  max " + num(t.stats.max) +
      "  mean " + num(t.stats.mean) + "  norm " + num(t.stats.norm)));
    var shown = t.shown, lead = shown.slice(0, -2), rows = shown[shown.length - 2], cols = shown[shown.length - 1];
    var pick = slices[key] = slices[key] || lead.map(function () { return 0; });
    if (lead.length) {
      var picker = el("div", { "class": "slice" }, "slice ");
      lead.forEach(function (size, axis) {
        var s = el("select", { "aria-label": "index along axis " + axis });
        for (var i = 0; i < size; i++) s.appendChild(el("option", { value: i }, "[" + axis + "]=" + i));
        s.value = String(pick[axis]);
        s.onchange = function () { pick[axis] = Number(s.value); box.replaceWith(tensorView(title, t, key)); };
        picker.appendChild(s);
      });
      box.appendChild(picker);
    }
    var offset = 0, stride = rows * cols;
    for (var a = lead.length - 1, mult = 1; a >= 0; a--) { offset += pick[a] * mult * stride; mult *= lead[a]; }
    box.appendChild(heatmap(decodeTensor(t), offset, rows, cols, t.scale));
    if (t.stride > 1) box.appendChild(el("div", { "class": "note" }, "every " + t.stride + "th row and column shown"));
    return box;
  }
  function heatmap(values, offset, rows, cols, scale) {
    var cw = Math.max(1, Math.min(16, Math.floor(320 / cols))), ch = Math.max(1, Math.min(16, Math.floor(200 / rows)));
    if (cw > 2 * ch) cw = Math.max(ch, Math.min(cw, 4 * ch));       // keep cells roughly square
    if (ch > 2 * cw) ch = Math.max(cw, Math.min(ch, 4 * cw));
    var c = el("canvas", { width: cols * cw, height: rows * ch });
    var ctx = c.getContext("2d"), img = ctx.createImageData(cols * cw, rows * ch);
    for (var r = 0; r < rows; r++) for (var q = 0; q < cols; q++) {
      var rgb = diverging(scale ? values[offset + r * cols + q] / scale : 0);
      for (var y = 0; y < ch; y++) for (var x = 0; x < cw; x++) {
        var p = 4 * ((r * ch + y) * cols * cw + q * cw + x);
        img.data[p] = rgb[0]; img.data[p + 1] = rgb[1]; img.data[p + 2] = rgb[2]; img.data[p + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    c.addEventListener("mousemove", function (ev) {
      var r = Math.floor(ev.offsetY / ch), q = Math.floor(ev.offsetX / cw);
      if (r < rows && q < cols) c.title = "[" + r + ", " + q + "] = " + num(values[offset + r * cols + q]);
    });
    return c;
  }

  // ---- the gradient-flow bars (filling in as the stepper walks back) -------------------
  var flow = data.flow || [];
  function barValue(row, k) {                // ||dL/dh_t|| after the first k events
    var v = 0;
    for (var i = 0; i < row.series.length && row.series[i][0] < k; i++) v = row.series[i][1];
    return v;
  }
  var logRange = (function () {
    var all = flow.map(function (r) { return r.final; });
    Object.values(data.flows || {}).forEach(function (f) { all = all.concat(f); });
    var pos = all.filter(function (v) { return typeof v === "number" && v > 0 && isFinite(v); });
    if (!pos.length) return [-1, 0];
    var lo = Math.floor(Math.log10(Math.min.apply(null, pos))), hi = Math.ceil(Math.log10(Math.max.apply(null, pos)));
    return [lo, hi > lo ? hi : lo + 1];
  })();
  function yOf(v, height) {
    if (!(v > 0)) return height;
    var f = (Math.log10(v) - logRange[0]) / (logRange[1] - logRange[0]);
    return height * (1 - Math.max(0, Math.min(1, f)));
  }
  var TOP = 8;                               // room above the highest tick label
  function axis(g, W, H, left) {
    var every = Math.max(1, Math.ceil((logRange[1] - logRange[0]) / Math.max(2, Math.floor(H / 22))));
    for (var p = logRange[0]; p <= logRange[1]; p++) {
      var y = yOf(Math.pow(10, p), H);
      g.appendChild(svgEl("line", { x1: left, x2: W, y1: y, y2: y, stroke: "#eee" }));
      if ((p - logRange[0]) % every === 0)
        g.appendChild(svgEl("text", { x: left - 4, y: y + 4, "text-anchor": "end", "class": "axis" }, "1e" + p));
    }
  }
  function timeLabels(g, T, left, bw, H) {
    for (var t = 0; t < T; t++) if (T <= 60 || t % Math.ceil(T / 30) === 0)
      g.appendChild(svgEl("text", { x: left + (t + 0.5) * bw, y: H + 14, "text-anchor": "middle", "class": "axis" }, t));
  }
  function drawBars() {
    var box = document.getElementById("flow-bars");
    if (!flow.length) return;
    var T = flow.length, left = 44, H = 150, W = Math.max(360, Math.min(1200, 24 * T + left));
    var bw = (W - left) / T, s = svgEl("svg", { width: W, height: H + 22 + TOP, viewBox: "0 " + (-TOP) + " " + W + " " + (H + 22 + TOP),
                                                  "aria-label": "gradient per time step" });
    axis(s, W, H, left);
    flow.forEach(function (row, t) {
      var v = barValue(row, current.step), y = yOf(v, H);
      var col = svgEl("g", { "class": "col", "data-t": t, "data-value": v });
      col.appendChild(svgEl("rect", { x: left + t * bw, y: 0, width: bw, height: H, fill: "transparent" }));
      col.appendChild(svgEl("rect", { "class": v > 0 ? "bar" : "bar empty", x: left + t * bw + bw * 0.12,
        y: v > 0 ? y : H - 2, width: bw * 0.76, height: v > 0 ? H - y : 2 }));
      col.appendChild(svgEl("title", {}, "t = " + t + ": ‖∂L/∂h_t‖ = " + num(v) +
        (v === row.final ? "" : " so far (final " + num(row.final) + ")")));
      col.addEventListener("mouseenter", function () { hoverStep(t); });
      col.addEventListener("mouseleave", function () { hoverStep(null); });
      s.appendChild(col);
    });
    timeLabels(s, T, left, bw, H);
    box.innerHTML = "";
    box.appendChild(s);
  }
  var palette = ["#e07b39", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#d62728"];
  function drawCompare() {
    var runs = {}, box = document.getElementById("flow-compare");
    for (var k in data.flows || {}) runs[k] = data.flows[k];
    if (flow.length) runs["this graph (dashed)"] = flow.map(function (r) { return r.final; });
    var labels = Object.keys(runs);
    if (labels.length < 2) return;
    var T = Math.max.apply(null, labels.map(function (l) { return runs[l].length; }));
    var left = 44, H = 170, W = Math.max(360, Math.min(1200, 24 * T + left)), bw = (W - left) / T;
    var s = svgEl("svg", { width: W, height: H + 22 + TOP, viewBox: "0 " + (-TOP) + " " + W + " " + (H + 22 + TOP),
                           "aria-label": "gradient flow comparison" });
    var hover = svgEl("rect", { "class": "hover-col", x: -100, y: 0, width: bw, height: H });
    s.appendChild(hover);
    axis(s, W, H, left);
    timeLabels(s, T, left, bw, H);
    labels.forEach(function (label, i) {
      var pts = runs[label].map(function (v, t) { return v > 0 ? (left + (t + 0.5) * bw) + "," + yOf(v, H) : null; })
        .filter(function (p) { return p; });
      var line = svgEl("polyline", { points: pts.join(" "), fill: "none", stroke: palette[i % palette.length], "stroke-width": 2 });
      if (flow.length && i === labels.length - 1) line.setAttribute("stroke-dasharray", "6 4");
      s.appendChild(line);
    });
    box.innerHTML = "";
    box.appendChild(el("h3", {}, "Runs compared: ‖∂L/∂h_t‖ at the end of each backward pass"));
    box.appendChild(s);
    var legend = el("div", { "class": "legend" });
    labels.forEach(function (label, i) {
      var sw = el("span");
      sw.style.background = palette[i % palette.length];
      legend.appendChild(sw);
      legend.appendChild(document.createTextNode(label));
    });
    box.appendChild(legend);
    current.hoverRect = { rect: hover, left: left, bw: bw };
  }
  function hoverStep(t) {                    // highlight step t in the chart and the graph
    for (var k in clusterEls) clusterEls[k].classList.toggle("hover", String(t) === k);
    document.querySelectorAll("#flow-bars .col").forEach(function (c) {
      c.classList.toggle("hover", c.getAttribute("data-t") === String(t));
    });
    var h = current.hoverRect;
    if (h) h.rect.setAttribute("x", t === null ? -100 : h.left + t * h.bw);
    current.hover = t;
  }

  // ---- the hidden-state explorer (LSTMVis's select-and-match) --------------------------
  var textData = data.text;
  var unitCache = {};
  function units(kind) {                     // Uint8Array (n, units), row-major
    return unitCache[kind] = unitCache[kind] || bytesOf(textData.kinds[kind].data);
  }
  function setUnit(kind, u) {
    current.unitKind = kind;
    current.unit = Number(u);
    document.getElementById("unit-kind").value = kind;
    document.getElementById("unit-number").value = String(u);
    var K = textData.kinds[kind], q = units(kind);
    document.querySelectorAll("#states-text span").forEach(function (sp, i) {
      var rgb = diverging(q[i * K.units + current.unit] / 127.5 - 1);
      sp.style.background = "rgb(" + rgb.join(",") + ")";
    });
    var found = document.getElementById("unit-found");
    if (found.value !== String(u)) found.selectedIndex = Math.max(0,
      Array.from(found.options).findIndex(function (o) { return o.value === String(u); }));
    document.getElementById("unit-range").textContent = "range " + num(K.lo[current.unit]) + " … " + num(K.hi[current.unit]);
    return state();
  }
  function matchRange(a, b, top) {           // rank units by r with "1 inside [a, b), 0 around"
    var kind = current.unitKind, K = textData.kinds[kind], q = units(kind), n = K.n;
    a = Math.max(0, a); b = Math.min(n, b);
    if (b <= a) return [];
    var margin = Math.max(3, b - a), lo = Math.max(0, a - margin), hi = Math.min(n, b + margin);
    var len = hi - lo, fmean = (b - a) / len, ranked = [];
    for (var u = 0; u < K.units; u++) {
      var sum = 0, i;
      for (i = lo; i < hi; i++) sum += q[i * K.units + u];
      var mean = sum / len, sxy = 0, sxx = 0, syy = 0;
      for (i = lo; i < hi; i++) {
        var x = q[i * K.units + u] - mean, f = (i >= a && i < b ? 1 : 0) - fmean;
        sxy += x * f; sxx += x * x; syy += f * f;
      }
      ranked.push({ unit: u, r: sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0 });
    }
    ranked.sort(function (x, y) { return y.r - x.r || x.unit - y.unit; });
    current.range = [a, b];
    current.matches = ranked.slice(0, top || 10);
    showMatches();
    return current.matches;
  }
  function showMatches() {
    var box = document.getElementById("states-matches");
    box.innerHTML = "";
    var r = current.range;
    box.appendChild(el("div", { "class": "note" }, "units whose " + current.unitKind + " is high on the " +
      (r[1] - r[0]) + " selected characters and low around them (Pearson r); click one to show it"));
    var table = el("table");
    table.appendChild(el("tr")).innerHTML = "<th>rank</th><th>unit</th><th>r</th>";
    current.matches.forEach(function (m, i) {
      var tr = el("tr", { "class": "pick", "data-unit": m.unit });
      [i + 1, m.unit, m.r.toFixed(3)].forEach(function (v) { tr.appendChild(el("td", {}, String(v))); });
      tr.onclick = function () { setUnit(current.unitKind, m.unit); };
      table.appendChild(tr);
    });
    box.appendChild(table);
    document.querySelectorAll("#states-text span").forEach(function (sp, i) {
      sp.classList.toggle("sel", i >= r[0] && i < r[1]);
    });
  }
  function charIndex(node, offset) {
    var sp = node.nodeType === 3 ? node.parentNode : node.childNodes[offset] || node;
    var i = sp && sp.getAttribute ? sp.getAttribute("data-i") : null;
    return i === null ? null : Number(i);
  }
  function buildStates() {
    var panel = document.getElementById("panel-states");
    if (!textData) { panel.style.display = "none"; return; }
    var controls = document.getElementById("states-controls");
    var kinds = Object.keys(textData.kinds);
    var kindSel = el("select", { id: "unit-kind", "aria-label": "state" });
    kinds.forEach(function (k) { kindSel.appendChild(el("option", { value: k }, k)); });
    var unitIn = el("input", { id: "unit-number", type: "number", min: 0, value: 0, style: "width:5em" });
    var cellSel = el("select", { id: "unit-found", "aria-label": "interpretable cells" });
    cellSel.appendChild(el("option", { value: "" }, "interpretable cells found…"));
    Object.keys(textData.cells || {}).forEach(function (f) {
      textData.cells[f].forEach(function (m) {
        cellSel.appendChild(el("option", { value: m[0] }, f + ": unit " + m[0] + " (r = " + m[1].toFixed(2) + ")"));
      });
    });
    controls.appendChild(el("label", {}, "state "));
    controls.appendChild(kindSel);
    controls.appendChild(el("label", {}, "unit "));
    controls.appendChild(unitIn);
    controls.appendChild(cellSel);
    controls.appendChild(el("span", { id: "unit-range", "class": "note" }));
    kindSel.onchange = function () { setUnit(kindSel.value, Math.min(current.unit, textData.kinds[kindSel.value].units - 1)); };
    unitIn.onchange = function () {
      var u = Math.max(0, Math.min(textData.kinds[current.unitKind].units - 1, Number(unitIn.value) || 0));
      setUnit(current.unitKind, u);
    };
    cellSel.onchange = function () { if (cellSel.value !== "") setUnit(current.unitKind, Number(cellSel.value)); };
    var box = document.getElementById("states-text"), frag = document.createDocumentFragment();
    var chars = Array.from(textData.chars).slice(0, textData.kinds[kinds[0]].n);
    chars.forEach(function (ch, i) {
      frag.appendChild(el("span", { "data-i": i }, ch === "\n" ? "↵\n" : ch));
    });
    box.appendChild(frag);
    box.addEventListener("mouseup", function () {
      var s = window.getSelection();
      if (!s || s.isCollapsed || !s.rangeCount) return;
      var rg = s.getRangeAt(0), a = charIndex(rg.startContainer, rg.startOffset);
      var b = charIndex(rg.endContainer, rg.endOffset);
      if (a === null || b === null) return;
      if (rg.endContainer.nodeType !== 3 || rg.endOffset > 0) b += 1;   // end is exclusive
      if (b > a) matchRange(a, b);
    });
    var first = Object.keys(textData.cells || {})[0];
    setUnit(kinds[0], first ? textData.cells[first][0][0] : 0);
    if (first) cellSel.selectedIndex = 1;
  }

  // ---- attention: per generated word, its map over the image grid ---------------------
  var att = data.attention;
  function showWord(i) {
    current.word = Number(i);
    var c = document.getElementById("attention-canvas"), ctx = c.getContext("2d");
    var shape = att.maps.shape, gh = shape[1], gw = shape[2], W = c.width, H = c.height;
    ctx.clearRect(0, 0, W, H);
    if (att.image) {
      var im = att.image, rgb = bytesOf(im.data), tmp = document.createElement("canvas");
      tmp.width = im.w; tmp.height = im.h;
      var tctx = tmp.getContext("2d"), img = tctx.createImageData(im.w, im.h);
      for (var p = 0; p < im.w * im.h; p++) {
        img.data[4 * p] = rgb[3 * p]; img.data[4 * p + 1] = rgb[3 * p + 1]; img.data[4 * p + 2] = rgb[3 * p + 2]; img.data[4 * p + 3] = 255;
      }
      tctx.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(tmp, 0, 0, W, H);
    }
    var q = att.mapBytes = att.mapBytes || bytesOf(att.maps.data), base = current.word * gh * gw;
    for (var r = 0; r < gh; r++) for (var col = 0; col < gw; col++) {
      var a = q[base + r * gw + col] / 255;
      ctx.fillStyle = att.image ? "rgba(0,0,0," + (0.75 * (1 - a)).toFixed(3) + ")" : "rgba(214,39,40," + a.toFixed(3) + ")";
      ctx.fillRect(col * W / gw, r * H / gh, W / gw + 0.5, H / gh + 0.5);
      if (att.image) {
        ctx.strokeStyle = "rgba(255,255,255," + (0.9 * a).toFixed(3) + ")";
        ctx.lineWidth = 2;
        ctx.strokeRect(col * W / gw + 1, r * H / gh + 1, W / gw - 2, H / gh - 2);
      }
    }
    var best = 0;
    for (var j = 1; j < gh * gw; j++) if (q[base + j] > q[base + best]) best = j;
    document.getElementById("attention-note").textContent = "“" + att.words[current.word] +
      "”: largest weight p = " + num(att.maps.max[current.word]) + " on grid cell (row " +
      Math.floor(best / gw) + ", column " + (best % gw) + ") of " + gh + " × " + gw;
    document.querySelectorAll("#attention-words button").forEach(function (b, k) {
      b.classList.toggle("on", k === current.word);
    });
    return state();
  }
  function buildAttention() {
    var panel = document.getElementById("panel-attention");
    if (!att) { panel.style.display = "none"; return; }
    var box = document.getElementById("attention-words");
    att.words.forEach(function (w, i) {
      var b = el("button", { "data-word": i }, w);
      b.onclick = function () { showWord(i); };
      b.onmouseenter = function () { showWord(i); };
      box.appendChild(b);
    });
    showWord(0);
  }

  // ---- the API for lecturers' scripts and tests ---------------------------------------
  function state() {
    var k = current.step, e = k > 0 ? events[k - 1] : null;
    return {
      step: k, numSteps: events.length, lit: litNodes(k),
      edge: e ? { src: e[0], srcOut: e[1], dst: e[2], norm: e[3] } : null,
      bars: flow.map(function (row) { return barValue(row, k); }),
      selected: current.selected, hover: current.hover === undefined ? null : current.hover,
      unitKind: current.unitKind, unit: current.unit,
      matches: current.matches.map(function (m) { return [m.unit, m.r]; }),
      word: att ? current.word : null, playing: !!current.playing
    };
  }
  if (!flow.length) document.getElementById("panel-flow").style.display = (Object.keys(data.flows || {}).length ? "" : "none");
  buildStates();
  buildAttention();
  drawCompare();
  step(0);
  window.minigradExplorer = {
    data: data,
    nodes: nodes,                            // [{id, kind, label, shapes, module, step, ...}]
    order: events,                           // [[src, srcOut, dst, norm], ...] engine order
    numSteps: events.length,
    step: step,                              // step(k): show the state after k events
    select: select,                          // select(id): open node id in the side panel
    state: state,                            // what the page shows now (a plain object)
    hoverStep: hoverStep,                    // hoverStep(t): highlight time step t
    focus: focus,                            // focus(id, width): centre the graph on node id
    setUnit: setUnit,                        // setUnit("c", 17): colour the text by unit 17
    matchRange: matchRange,                  // matchRange(a, b): rank units for chars a..b-1
    showWord: showWord,                      // showWord(i): attention map of word i
    play: play,
    loadMs: performance.now(),               // milliseconds from navigation to ready
    ready: true
  };
})();
