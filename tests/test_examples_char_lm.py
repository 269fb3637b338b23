"""examples/char_lm: the data side, sampling rules and the interpretable-units search
(pieces that need no training). End-to-end runs are in test_examples_char_lm_train.py."""
import os
import sys

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")
sys.path.insert(0, os.path.abspath(EXAMPLES))

from char_lm import data, sampling  # noqa: E402
from char_lm import interpretable_units as units  # noqa: E402


def test_builtin_corpus_is_english_prose():
    text = data.load_text()
    assert len(text) > 100_000
    assert "statement" in text and "\n" in text


def test_data_file_is_read_as_utf8(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("héllo\nwörld", encoding="utf-8")
    assert data.load_text(str(path)) == "héllo\nwörld"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(ValueError, match="not UTF-8"):
        data.load_text(str(bad))


def test_vocab_round_trip_through_codes():
    text = "To be, or not to be: “that” is the question.\n"
    vocab = data.Vocab(text)
    assert vocab.chars == sorted(set(text))
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and vocab.decode(ids) == text
    again = data.Vocab.from_codes(vocab.codes())
    assert again == vocab and again.decode(ids) == text
    with pytest.raises(KeyError, match="'z' is not in the vocabulary"):
        vocab.encode("z")


def test_split_keeps_the_last_tenth_for_validation():
    ids = np.arange(1000)
    train, val = data.split(ids)
    assert len(val) == 100 and val[0] == 900 and train[-1] == 899


def test_streams_cut_text_into_parallel_rows_and_shift_targets():
    ids = np.arange(26)                      # B=3 -> rows of 8: 0..7, 8..15, 16..23
    s = data.Streams(ids, batch_size=3, seq_len=3)
    assert len(s) == 2                       # (8 - 1) // 3
    x, y, reset = s.next()
    assert reset and x.shape == (3, 3)       # (T, B)
    np.testing.assert_array_equal(x[:, 0], [0, 1, 2])
    np.testing.assert_array_equal(x[:, 2], [16, 17, 18])
    np.testing.assert_array_equal(y, x + 1)
    x, y, reset = s.next()                   # the next chunk continues every row
    assert not reset
    np.testing.assert_array_equal(x[:, 1], [11, 12, 13])
    state = s.state_dict()
    x3, _, reset = s.next()                  # epoch over: back to the start, reset flagged,
    assert reset and s.epoch == 1            # and shifted by one character (epoch mod T)
    np.testing.assert_array_equal(x3[:, 0], [1, 2, 3])
    t = data.Streams(ids, batch_size=3, seq_len=3)
    t.load_state_dict(state)
    np.testing.assert_array_equal(t.next()[0], x3)


def test_streams_reject_text_too_short_and_bad_positions():
    with pytest.raises(ValueError, match="fewer than seq_len"):
        data.Streams(np.arange(20), batch_size=4, seq_len=8)
    s = data.Streams(np.arange(100), batch_size=2, seq_len=5)
    with pytest.raises(ValueError, match="outside"):
        s.load_state_dict({"position": 99, "epoch": 0})


def test_next_id_greedy_at_zero_temperature_and_seeded_otherwise():
    logits = np.array([0.1, 2.0, 1.9, -3.0])
    rng = np.random.default_rng(0)
    assert sampling.next_id(logits, 0, rng) == 1
    assert all(sampling.next_id(logits, 1e-4, rng) == 1 for _ in range(50))   # T -> 0
    draws = [sampling.next_id(logits, 1.0, np.random.default_rng(3)) for _ in range(3)]
    assert len(set(draws)) == 1
    counts = np.bincount([sampling.next_id(logits, 1.0, rng) for _ in range(4000)], minlength=4)
    p = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(counts / 4000, p, atol=0.03)
    with pytest.raises(ValueError, match="temperature"):
        sampling.next_id(logits, -1, rng)


def test_text_features_track_quotes_brackets_and_columns():
    f = units.text_features('a "b" (c[d])\n  e')
    np.testing.assert_array_equal(f["in_quote"][:6], [0, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(f["bracket_depth"][6:12], [1, 1, 2, 2, 1, 0])
    np.testing.assert_array_equal(f["line_position"][10:16], [11, 12, 0, 1, 2, 3])
    np.testing.assert_array_equal(f["indented"][12:], [0, 1, 1, 1])


def test_search_finds_the_unit_that_copies_a_feature(tmp_path):
    text = 'say "hi" and (go) now "ok" (x)\n' * 8
    feats = units.text_features(text)
    rng = np.random.default_rng(0)
    acts = rng.uniform(-0.3, 0.3, size=(len(text), 6))
    acts[:, 4] = feats["in_quote"] * 1.6 - 0.8 + rng.normal(0, 0.05, len(text))
    acts[:, 1] = -np.tanh(feats["line_position"] / 10)
    found = units.search(acts, text, top=2)
    assert found["in_quote"][0][0] == 4 and found["in_quote"][0][1] > 0.95
    assert found["line_position"][0][0] == 1 and found["line_position"][0][1] < -0.8
    r = units.correlations(acts, feats["in_quote"])
    np.testing.assert_allclose(r[4], np.corrcoef(acts[:, 4], feats["in_quote"])[0, 1])
    assert "in_quote" not in units.search(acts[:13], "no quotes\n  x", top=1)   # constant
    path = units.plot_units(text, acts, [4, 1], str(tmp_path / "cells.png"), width=40)
    assert os.path.getsize(path) > 1000
