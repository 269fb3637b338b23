"""examples/char_lm.py end to end, in --smoke size (seconds): every mode runs, --resume
continues exactly, sampling is deterministic with a seed, the hello toy spells "hello",
and broken or mismatched checkpoints fail with a clear message."""
import importlib.util
import os
import sys

import numpy as np
import pytest

EXAMPLES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "examples"))
sys.path.insert(0, EXAMPLES)

from char_lm.data import Vocab  # noqa: E402
from char_lm.sampling import sample  # noqa: E402
from common.checkpoint import CheckpointError  # noqa: E402


@pytest.fixture(scope="module")
def char_lm():
    spec = importlib.util.spec_from_file_location("char_lm_script",
                                                  os.path.join(EXAMPLES, "char_lm.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


QUIET = ["--smoke", "--no-pictures", "--sample", "0"]


def test_smoke_run_writes_checkpoint_sample_and_pictures(char_lm, tmp_path, capsys):
    result = char_lm.main(["--smoke", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert result["step"] == char_lm.SMOKE["steps"]
    assert "--- sample" in out and "interpretable cells" in out
    for what in ("checkpoint", "loss curve", "gradient flow", "interpretable cells"):
        assert os.path.getsize(result["paths"][what]) > 0, what
        assert result["paths"][what] in out                  # the paths are printed
    train_losses = result["history"]["train"][1]
    assert all(np.isfinite(train_losses)) and train_losses[0] < 5.0   # ~ log(vocab) at start
    if char_lm.pictures.have_dot():
        assert os.path.getsize(result["paths"]["unrolled graph (flow)"]) > 0


@pytest.mark.parametrize("extra", [["--cell", "rnn", "--optimizer", "sgd", "--lr", "0.5"],
                                   ["--cell", "gru", "--optimizer", "adagrad", "--layers", "2"],
                                   ["--minutes", "0.001", "--clip", "0"],
                                   ["--graph", "layer", "--cell", "lstm", "--layers", "2"]])
def test_smoke_run_every_cell_and_optimizer(char_lm, tmp_path, extra):
    result = char_lm.main(QUIET + ["--out", str(tmp_path)] + extra)
    losses = result["history"]["train"][1]
    assert result["step"] >= 1 and all(np.isfinite(losses))
    assert result["history"]["val"][0][-1] == result["step"]   # a validation at the end


def test_data_flag_reads_any_text_file(char_lm, tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("the quick brown fox jumps over the lazy dog. " * 200, encoding="utf-8")
    result = char_lm.main(QUIET + ["--out", str(tmp_path / "run"), "--data", str(path)])
    assert result["vocab"] == Vocab("the quick brown fox jumps over the lazy dog.")


def test_resume_continues_exactly(char_lm, tmp_path):
    """N steps in one run == N/2 steps, then --resume to N: same losses, bit for bit (the
    weights, Adam's moments, the data position, the carried hidden state and the random
    state of dropout all come back from the checkpoint). 7 chunks per epoch, so the run
    also crosses epochs (state reset, shifted chunk boundaries)."""
    small = ["--text-chars", "2000", "--seq-len", "64", "--layers", "2", "--dropout", "0.3"]
    whole = char_lm.main(QUIET + small + ["--out", str(tmp_path / "a"), "--steps", "12",
                                          "--eval-every", "4"])
    char_lm.main(QUIET + small + ["--out", str(tmp_path / "b"), "--steps", "5",
                                  "--decay-steps", "12", "--eval-every", "4"])
    resumed = char_lm.main(QUIET + ["--out", str(tmp_path / "b"), "--steps", "12", "--resume"])
    assert resumed["step"] == 12
    assert resumed["history"]["train"][1] == whole["history"]["train"][1]
    for a, b in zip(whole["model"].parameters(), resumed["model"].parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_sampling_from_a_checkpoint_is_deterministic_with_a_seed(char_lm, tmp_path, capsys):
    run = char_lm.main(QUIET + ["--out", str(tmp_path)])
    model, vocab = run["model"], run["vocab"]
    one = sample(model, vocab, 60, prime="The ", temperature=1.0, seed=5)
    assert one == sample(model, vocab, 60, prime="The ", temperature=1.0, seed=5)
    assert one != sample(model, vocab, 60, prime="The ", temperature=1.0, seed=6)
    assert one.startswith("The ") and len(one) == 64
    greedy = sample(model, vocab, 30, prime="The ", temperature=0, seed=1)
    assert greedy == sample(model, vocab, 30, prime="The ", temperature=1e-6, seed=2)
    capsys.readouterr()
    again = char_lm.main(["--out", str(tmp_path), "--resume", "--steps", "0", "--sample", "30",
                          "--temperature", "0", "--prime", "The ", "--no-pictures"])
    assert again["step"] == run["step"]                      # no training, just sampling
    assert greedy in capsys.readouterr().out


def test_hello_toy_learns_to_spell_hello(char_lm, tmp_path):
    result = char_lm.main(["--hello", "--out", str(tmp_path)])
    assert result["spelled"] == "hello"
    assert result["losses"][-1] < result["losses"][0]
    if char_lm.pictures.have_dot():
        assert all(os.path.getsize(p) > 0 for p in result["paths"].values())


def test_resume_without_a_checkpoint_says_so(char_lm, tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        char_lm.main(QUIET + ["--out", str(tmp_path), "--resume"])


def test_corrupt_checkpoint_gives_a_clear_error(char_lm, tmp_path):
    (tmp_path / "ckpt.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(CheckpointError, match="corrupt, truncated or not a minigrad checkpoint"):
        char_lm.main(QUIET + ["--out", str(tmp_path), "--resume"])


def test_mismatched_checkpoint_names_the_settings(char_lm, tmp_path):
    char_lm.main(QUIET + ["--out", str(tmp_path), "--steps", "2"])
    with pytest.raises(ValueError, match=r"hidden=32.*asks for hidden=48"):
        char_lm.main(QUIET + ["--out", str(tmp_path), "--resume", "--hidden", "48"])
    other = tmp_path / "other"
    other.mkdir()
    import minigrad
    minigrad.save({"kind": "captioning", "model": {}}, str(other / "ckpt.npz"))
    with pytest.raises(CheckpointError, match="'captioning' checkpoint, not a 'char_lm'"):
        char_lm.main(QUIET + ["--out", str(other), "--resume"])


def test_sequence_graph_trains_like_the_per_step_graph_and_still_draws_steps(char_lm, tmp_path):
    """--graph layer only changes how the graph is recorded: the same losses, and the
    gradient-flow picture still gets one gradient per step."""
    runs = [char_lm.main(QUIET + ["--out", str(tmp_path / graph), "--graph", graph])
            for graph in ("steps", "layer")]
    np.testing.assert_allclose(runs[1]["history"]["train"][1], runs[0]["history"]["train"][1],
                               rtol=1e-5)
    model = char_lm.CharRNN(20, "lstm", 8, 1, 4, graph="layer")
    flow = char_lm.pictures.gradient_flow(model, list(range(6)))
    assert flow.shape == (5,) and (flow > 0).all()
    assert model.rnn.graph == "layer"
