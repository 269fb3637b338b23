"""The exercise checker: a correct answer passes, a planted wrong one fails with a message
that names the wrong output or gradient, the index of its first wrong element and both
values; ``python -m minigrad.exercises`` lists and checks files."""
import os
import subprocess
import sys

import pytest

from minigrad import exercises

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SOLUTIONS = os.path.join(ROOT, "docs", "solutions")


def solution(name):
    namespace = {}
    with open(os.path.join(SOLUTIONS, f"{name}.py"), encoding="utf-8") as f:
        exec(compile(f.read(), f"{name}.py", "exec"), namespace)
    return namespace[name]


@pytest.mark.parametrize("name", sorted(exercises.EXERCISES))
def test_the_solution_passes(name, capsys):
    assert exercises.check(name, solution(name)) is True
    assert capsys.readouterr().out.startswith(f"✓ {name}:")


def rnn_step_without_b_hh(x, h, w_ih, w_hh, b_ih, b_hh):
    return (x @ w_ih.T + b_ih + h @ w_hh.T).tanh()


def lstm_cell_with_c_cut(x, h, c, w_ih, w_hh, b_ih, b_hh):
    gates = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i, f, g, o = gates.chunk(4, dim=1)
    c_next = f.sigmoid() * c.detach() + i.sigmoid() * g.tanh()    # right values, no gradient to c
    return o.sigmoid() * c_next.tanh(), c_next


def lstm_cell_gates_swapped(x, h, c, w_ih, w_hh, b_ih, b_hh):
    f, i, g, o = (x @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, dim=1)
    c_next = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c_next.tanh(), c_next


def gru_cell_lecture_z(x, h, w_ih, w_hh, b_ih, b_hh):
    x_r, x_z, x_n = (x @ w_ih.T + b_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (h @ w_hh.T + b_hh).chunk(3, dim=1)
    r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
    n = (x_n + r * h_n).tanh()
    return z * n + (1 - z) * h


def cell_through_numpy(x, h, w_ih, w_hh, b_ih, b_hh):
    import minigrad
    return minigrad.tensor((x @ w_ih.T + b_ih + h @ w_hh.T + b_hh).tanh().numpy(),
                           dtype=minigrad.float64)


def bptt_without_the_sum_through_time(xs, h0, w_ih, w_hh, b, dh):
    import numpy as np
    hs = [h0]
    for x in xs:
        hs.append(np.tanh(x @ w_ih.T + hs[-1] @ w_hh.T + b))
    d = [np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros_like(b)]
    for t in reversed(range(len(xs))):
        d_pre = dh[t] * (1 - hs[t + 1] ** 2)                     # forgot what step t+1 hands back
        d[0] += d_pre.T @ xs[t]
        d[1] += d_pre.T @ hs[t]
        d[2] += d_pre.sum(axis=0)
    return d[0], d[1], d[2], d_pre @ w_hh


def sampling_times_temperature(logits, temperature, u):
    import minigrad
    probs = minigrad.softmax(logits * temperature, 0)
    return probs, 0


def tbptt_without_detach(xs, h0, w_ih, w_hh, b_ih, b_hh, k):
    h = h0
    for start in range(0, len(xs), k):
        loss = 0.0
        for t in range(start, min(start + k, len(xs))):
            h = (xs[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh).tanh()
            loss = loss + (h ** 2).sum()
        loss.backward()
    return w_hh.grad, h


WRONG = [
    ("rnn_step", rnn_step_without_b_hh, r"rnn_step \(case: seed 0, batch 1\): h_next\[0, \d\] is -?[\d.e-]+, expected -?[\d.e-]+"),
    ("rnn_step", cell_through_numpy, r"h_next is not connected to the inputs' graph"),
    ("lstm_cell", lstm_cell_with_c_cut, r"the gradient with respect to c\[0, 0\] is 0, expected"),
    ("lstm_cell", lstm_cell_gates_swapped, r"h_next\[0, \d\] is .*, expected"),
    ("gru_cell", gru_cell_lecture_z, r"h_next\[0, \d\] is .*, expected .*elements differ"),
    ("bptt_by_hand", bptt_without_the_sum_through_time, r"d_w_ih\[\d, \d\] is .*, expected"),
    ("temperature_sampling", sampling_times_temperature, r"probs\[\d\] is .*, expected"),
    ("truncated_bptt", tbptt_without_detach, r"your function raised RuntimeError: .*second time"),
]


@pytest.mark.parametrize("name, fn, message", WRONG, ids=[w[1].__name__ for w in WRONG])
def test_a_wrong_answer_is_caught_with_the_first_wrong_element(name, fn, message):
    with pytest.raises(exercises.ExerciseFailed, match=message):
        exercises.check(name, fn, verbose=False)


def test_a_function_not_written_yet_is_reported_not_failed(capsys):
    def lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
        raise NotImplementedError
    assert exercises.check("lstm_cell", lstm_cell) is False
    assert "not written yet" in capsys.readouterr().out


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown exercise 'lstm'.*'lstm_cell'"):
        exercises.check("lstm", solution("lstm_cell"))
    with pytest.raises(TypeError, match="fn must be a function, got int"):
        exercises.check("lstm_cell", 3)


def test_command_line_lists_and_checks_files(tmp_path):
    run = lambda *args: subprocess.run([sys.executable, "-m", "minigrad.exercises", *args],  # noqa: E731
                                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    listing = run()
    assert listing.returncode == 0
    assert all(name in listing.stdout for name in exercises.EXERCISES)
    good = run("check", os.path.join(SOLUTIONS, "gru_cell.py"))
    assert good.returncode == 0 and good.stdout.startswith("✓ gru_cell")
    answers = tmp_path / "answers.py"
    answers.write_text("def rnn_step(x, h, w_ih, w_hh, b_ih, b_hh):\n"
                       "    return (x @ w_ih.T + h @ w_hh.T).tanh()\n")
    bad = run("check", str(answers))
    assert bad.returncode == 1 and bad.stdout.startswith("✗ rnn_step") and "expected" in bad.stdout
    missing = run("check", str(tmp_path / "nope.py"))
    assert missing.returncode != 0 and "error: no such file" in missing.stderr
    assert "Traceback" not in missing.stderr
