"""--explore in the examples: the char-LM and captioning pages (built, not opened: the page
itself is tested in a browser in test_viz_explore_browser.py)."""
import importlib.util
import json
import os
import re
import shutil
import sys

import numpy as np
import pytest

import minigrad

EXAMPLES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "examples"))
sys.path.insert(0, EXAMPLES)
from char_lm import explore as char_lm_explore  # noqa: E402
from char_lm.data import Vocab  # noqa: E402
from char_lm.model import CharRNN  # noqa: E402
from scene_world import explore as captioning_explore  # noqa: E402
from scene_world import language, world  # noqa: E402
from scene_world.models import Captioner, to_input  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is absent")


def page_data(path):
    text = open(path, encoding="utf-8").read()
    start = text.index('id="minigrad-data">') + len('id="minigrad-data">')
    return json.loads(text[start:text.index("</script>", start)].replace("<\\/", "</"))


def test_char_lm_page_holds_the_window_the_states_and_the_cells(tmp_path):
    text = 'He said "hello" (twice) and left.\n' * 8
    vocab = Vocab(text)
    minigrad.manual_seed(0)
    model = CharRNN(len(vocab), "lstm", 12, 1, 6)
    ids = vocab.encode(text)
    path = char_lm_explore.write(model, vocab, ids, text, str(tmp_path / "explore.html"),
                                 found={"in_quote": [(3, 0.5)]}, flows={"init": [1.0] * 10},
                                 window=10, max_text=100)
    data = page_data(path)
    assert len(data["flow"]) == 10
    assert sorted(data["text"]["kinds"]) == ["c", "h"]
    assert data["text"]["kinds"]["c"]["n"] == 100 and data["text"]["kinds"]["c"]["units"] == 12
    assert data["text"]["cells"] == {"in_quote": [[3, 0.5]]}
    assert model.training                                   # left as it was


def test_captioning_page_has_one_attention_map_per_word(tmp_path):
    images, scenes = world.generate(2, seed=5)
    caps = [language.captions(s)[0] for s in scenes]
    vocab = language.Vocab.build(caps)
    images = images[:, ::4, ::4]
    minigrad.manual_seed(0)
    model = Captioner(len(vocab), "lstm", True, channels=(4, 4), grid=16, embed=8, hidden=8, attn=8)
    with minigrad.no_grad():
        ids, alphas = model.generate(to_input(images[:1]), 6, vocab.start, vocab.end)
    caption = vocab.decode(ids[0]) or caps[0]
    path = captioning_explore.write(model, vocab, images[0], caption, alphas[0],
                                    str(tmp_path / "explore.html"))
    data = page_data(path)
    n = min(len(caption.split()) + 1, len(alphas[0]))
    assert data["attention"]["words"] == (caption.split() + ["<END>"])[:n]
    assert data["attention"]["maps"]["shape"] == [n, 4, 4]
    assert data["attention"]["image"]["w"] == images.shape[2]
    steps = sorted({node["step"] for node in data["nodes"] if node["step"] is not None})
    assert steps == list(range(len(caption.split()) + 1))    # one decoder step per input word


@pytest.mark.slow
def test_char_lm_main_writes_explore_html_next_to_the_pictures(tmp_path):
    spec = importlib.util.spec_from_file_location("char_lm_script_explore",
                                                  os.path.join(EXAMPLES, "char_lm.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--smoke", "--explore", "--sample", "0", "--out", str(tmp_path)])
    path = result["paths"]["explorer"]
    assert path == str(tmp_path / "explore.html") and os.path.exists(tmp_path / "loss.png")
    html = open(path, encoding="utf-8").read()
    assert "window.minigradExplorer" in html and not re.search(r"<script[^>]+src=", html)
