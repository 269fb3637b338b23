"""The examples' command lines (char_lm.py, captioning.py, vqa.py): every enumerated or
numeric flag is checked by argparse; a missing file, an unusable device or checkpoint ends
the run with one ``error:`` line and exit status 2 (``--debug``: the traceback); every run
prints the files it wrote; progress is a line every few seconds when stderr is a log."""
import importlib.util
import io
import re
import shlex
import os
import subprocess
import sys

import pytest

import minigrad

EXAMPLES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "examples"))
sys.path.insert(0, EXAMPLES)
from common import cli, config, progress  # noqa: E402

SCRIPTS = ("char_lm", "captioning", "vqa")
# Text flags that take any string (paths, the sampling prime): nothing for argparse to check.
FREE_TEXT = {"out", "data", "prime", "coco_captions", "coco_images", "vqa_questions",
             "vqa_annotations", "vqa_images"}


def load_script(name):
    spec = importlib.util.spec_from_file_location(f"{name}_script", os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scripts():
    return {name: load_script(name) for name in SCRIPTS}


def run_in_process(script, argv, capsys):
    """(exit status, stdout, stderr) of ``python examples/<script>.py ARGV``, in this process."""
    code = cli.run_script(script.main, argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_error_line(code, err, fragment):
    assert code == 2, err
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    assert fragment in errors[0], errors[0]


# -- argparse refuses bad values ------------------------------------------------------------
BAD_FLAGS = [
    ("char_lm", ["--steps", "-1"], "--steps"),
    ("char_lm", ["--seq-len", "0"], "--seq-len"),
    ("char_lm", ["--batch-size", "0"], "--batch-size"),
    ("char_lm", ["--hidden", "-3"], "--hidden"),
    ("char_lm", ["--layers", "0"], "--layers"),
    ("char_lm", ["--embedding", "2.5"], "--embedding"),
    ("char_lm", ["--dropout", "1"], "--dropout"),
    ("char_lm", ["--dropout", "-0.1"], "--dropout"),
    ("char_lm", ["--lr", "0"], "--lr"),
    ("char_lm", ["--lr", "fast"], "--lr"),
    ("char_lm", ["--lr-min", "1.5"], "--lr-min"),
    ("char_lm", ["--temperature", "-1"], "--temperature"),
    ("char_lm", ["--clip", "-5"], "--clip"),
    ("char_lm", ["--minutes", "-1"], "--minutes"),
    ("char_lm", ["--eval-every", "0"], "--eval-every"),
    ("char_lm", ["--eval-chunks", "0"], "--eval-chunks"),
    ("char_lm", ["--decay-steps", "-2"], "--decay-steps"),
    ("char_lm", ["--text-chars", "-1"], "--text-chars"),
    ("char_lm", ["--sample", "-10"], "--sample"),
    ("char_lm", ["--seed", "-1"], "--seed"),
    ("char_lm", ["--sample-seed", "-1"], "--sample-seed"),
    ("char_lm", ["--cell", "transformer"], "--cell"),
    ("char_lm", ["--optimizer", "adamw"], "--optimizer"),
    ("char_lm", ["--graph", "sequence"], "--graph"),
    ("char_lm", ["--device", "gpu"], "--device"),
    ("char_lm", ["--device", "cuda:x"], "--device"),
    ("captioning", ["--cell", "gru"], "--cell"),
    ("captioning", ["--attention", "2"], "--attention"),
    ("captioning", ["--graph", "layer"], "--graph"),
    ("captioning", ["--channels", "16,x"], "--channels"),
    ("captioning", ["--channels", "16,0"], "--channels"),
    ("captioning", ["--data", "imagenet"], "--data"),
    ("captioning", ["--steps", "-1"], "--steps"),
    ("captioning", ["--batch-size", "0"], "--batch-size"),
    ("captioning", ["--hidden", "0"], "--hidden"),
    ("captioning", ["--lr", "-0.1"], "--lr"),
    ("captioning", ["--temperature", "-0.5"], "--temperature"),
    ("captioning", ["--n-train", "0"], "--n-train"),
    ("captioning", ["--image-size", "0"], "--image-size"),
    ("captioning", ["--device", "tpu"], "--device"),
    ("vqa", ["--fusion", "sum"], "--fusion"),
    ("vqa", ["--data", "clevr"], "--data"),
    ("vqa", ["--graph", "fast"], "--graph"),
    ("vqa", ["--joint", "0"], "--joint"),
    ("vqa", ["--steps", "-1"], "--steps"),
    ("vqa", ["--baseline-steps", "-1"], "--baseline-steps"),
    ("vqa", ["--per-type", "0"], "--per-type"),
    ("vqa", ["--top-answers", "0"], "--top-answers"),
    ("vqa", ["--eval-every", "0"], "--eval-every"),
    ("vqa", ["--channels", ""], "--channels"),
    ("vqa", ["--seed", "x"], "--seed"),
]


@pytest.mark.parametrize("name,argv,flag", BAD_FLAGS, ids=[f"{n}{' '.join(a)}" for n, a, _ in BAD_FLAGS])
def test_bad_flag_values_are_refused_by_argparse(scripts, capsys, name, argv, flag):
    code, out, err = run_in_process(scripts[name], argv, capsys)
    assert_one_error_line(code, err, f"argument {flag}")
    assert out == ""                                          # refused before any work


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_numeric_or_enumerated_flag_has_a_rule_its_defaults_obey(scripts, name):
    script = scripts[name]
    for key, default in script.CONFIG.items():
        assert key in script.RULES or (isinstance(default, str) and key in FREE_TEXT), key
    assert set(script.RULES) <= set(script.CONFIG)
    parser = config.config_parser(script.__file__, script.CONFIG, "", script.RULES)
    for values in (script.CONFIG, script.SMOKE):                # the defaults pass their rules
        for key, value in values.items():
            args = parser.parse_args([f"--{key.replace('_', '-')}", str(value)])
            assert getattr(args, key) == value, key


# -- one error line for a missing file, an unusable device or checkpoint --------------------
def corrupt_checkpoint(tmp_path):
    (tmp_path / "ckpt.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    return str(tmp_path)


def foreign_checkpoint(tmp_path):
    minigrad.save({"kind": "char_lm", "model": {}}, str(tmp_path / "ckpt.npz"))
    return str(tmp_path)


def a_file(tmp_path):
    (tmp_path / "taken").write_text("not a folder")
    return str(tmp_path / "taken")


RUN_ERRORS = [
    ("char_lm", lambda t: ["--data", str(t / "missing.txt")], "--data"),
    ("char_lm", lambda t: ["--out", str(t), "--resume"], "no checkpoint at"),
    ("char_lm", lambda t: ["--out", corrupt_checkpoint(t), "--resume"], "corrupt"),
    ("char_lm", lambda t: ["--out", a_file(t)], "File exists"),
    ("char_lm", lambda t: ["--smoke", "--text-chars", "50", "--out", str(t)], "seq_len"),
    ("char_lm", lambda t: ["--smoke", "--steps", "0", "--no-pictures", "--prime", "\u2603",
                           "--out", str(t)], "not in the vocabulary"),
    ("captioning", lambda t: ["--data", "coco", "--out", str(t)], "--coco-captions"),
    ("captioning", lambda t: ["--data", "coco", "--coco-captions", str(t / "c.json"),
                              "--coco-images", str(t), "--out", str(t)], "no such file"),
    ("captioning", lambda t: ["--out", foreign_checkpoint(t), "--resume"], "not a 'captioning'"),
    ("captioning", lambda t: ["--smoke", "--channels", "4,4,4,4,4,4,4", "--out", str(t)],
     "CNN blocks halve"),
    ("vqa", lambda t: ["--data", "vqa2", "--out", str(t)], "--vqa-questions"),
    ("vqa", lambda t: ["--data", "vqa2", "--vqa-questions", str(t / "q.json"),
                       "--vqa-annotations", str(t / "a.json"), "--vqa-images", str(t),
                       "--out", str(t)], "no such file"),
    ("vqa", lambda t: ["--out", str(t), "--resume"], "no checkpoint at"),
]


@pytest.mark.parametrize("name,make_argv,fragment", RUN_ERRORS,
                         ids=[f"{n}-{f}" for n, _, f in RUN_ERRORS])
def test_mistakes_end_with_one_error_line_and_status_2(scripts, capsys, tmp_path, name,
                                                       make_argv, fragment):
    code, _, err = run_in_process(scripts[name], make_argv(tmp_path), capsys)
    assert_one_error_line(code, err, fragment)
    assert err.startswith("error: ")


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_missing_gpu_is_one_error_line(scripts, capsys, tmp_path, name):
    if minigrad.cuda.is_available():
        pytest.skip("a GPU is usable here")
    code, out, err = run_in_process(scripts[name], ["--device", "cuda", "--out", str(tmp_path / "x")],
                                    capsys)
    assert_one_error_line(code, err, "--device cuda: no CUDA GPU")
    assert out == "" and not os.path.exists(tmp_path / "x")  # checked before anything is made


def test_debug_shows_the_traceback_instead(scripts, tmp_path):
    with pytest.raises(FileNotFoundError, match="--data"):
        cli.run_script(scripts["char_lm"].main, ["--data", str(tmp_path / "no.txt"), "--debug"])


@pytest.mark.parametrize("name,argv", [("char_lm", ["--data", "missing.txt"]),
                                       ("captioning", ["--resume"]),
                                       ("vqa", ["--steps", "-1"])])
def test_the_scripts_themselves_exit_2_without_a_traceback(tmp_path, name, argv):
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, f"{name}.py"), *argv,
                        "--out", str(tmp_path / "out")], capture_output=True, text=True,
                       cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert len([line for line in r.stderr.splitlines() if "error:" in line]) == 1, r.stderr
    if "--steps" not in argv:                                 # not argparse: the line is all
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ")
        debug = subprocess.run(r.args + ["--debug"], capture_output=True, text=True,
                               cwd=tmp_path, timeout=120)
        assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_bugs_keep_their_traceback_and_ctrl_c_is_one_word(capsys):
    def buggy(argv):
        raise TypeError("a bug, not a user's mistake")

    def interrupted(argv):
        raise KeyboardInterrupt

    with pytest.raises(TypeError):
        cli.run_script(buggy, [])
    assert cli.run_script(interrupted, []) == 130
    assert capsys.readouterr().err == "interrupted\n"
    assert cli.run_script(lambda argv: None, []) == 0


def test_error_lines_read_as_one_sentence():
    assert cli.one_line(KeyError("'z' is not in the vocabulary")) == "'z' is not in the vocabulary"
    assert cli.one_line(FileNotFoundError(2, "No such file or directory", "x.txt")) == \
        "No such file or directory: 'x.txt'"
    assert cli.one_line(ValueError("two\n  lines")) == "two lines"
    assert cli.one_line(RuntimeError()) == "RuntimeError"


# -- what the rules accept ----------------------------------------------------------------
@pytest.mark.parametrize("kind,rule,good,bad", [
    (int, "> 0", ["1", "500"], ["0", "-1", "1.5", "x"]),
    (int, ">= 0", ["0", "7"], ["-1"]),
    (float, "> 0", ["1e-4", "3"], ["0", "-1e-9", "nan?"]),
    (float, "[0, 1)", ["0", "0.5", "0.999"], ["1", "-0.01"]),
    (float, "[0, 1]", ["0", "1"], ["1.01"]),
    (float, "(0, 1]", ["1", "0.1"], ["0"]),
])
def test_rules(kind, rule, good, bad):
    convert = config.checked(kind, rule)
    for text in good:
        assert convert(text) == kind(text)
    for text in bad:
        with pytest.raises(config.argparse.ArgumentTypeError, match=rule.replace("[", r"\[")
                           .replace("(", r"\(").replace(")", r"\)")):
            convert(text)


def test_list_and_device_types():
    assert config.int_list("16, 32,64") == "16,32,64"
    for text in ("", "16,", "a,b", "0,4", "-4"):
        with pytest.raises(config.argparse.ArgumentTypeError, match="positive integers"):
            config.int_list(text)
    assert [config.device_name(d) for d in ("cpu", "cuda", "cuda:1")] == ["cpu", "cuda", "cuda:1"]
    for text in ("gpu", "cuda:", "cuda:x", "cpu:0", "CPU"):
        with pytest.raises(config.argparse.ArgumentTypeError, match="cpu, cuda or cuda:N"):
            config.device_name(text)
    with pytest.raises(ValueError, match="config rule"):
        config.checked(int, "positive")


# -- the files written, and the progress lines ------------------------------------------------
@pytest.mark.parametrize("name,argv", [
    ("captioning", ["--smoke", "--steps", "2", "--eval-every", "2", "--n-train", "16",
                    "--n-test", "4"]),
    ("vqa", ["--smoke", "--steps", "2", "--baseline-steps", "1", "--eval-every", "2",
             "--n-train", "8", "--n-test", "4"]),
])
def test_runs_print_the_files_they_wrote(scripts, capsys, tmp_path, name, argv):
    code, out, err = run_in_process(scripts[name], argv + ["--out", str(tmp_path)], capsys)
    assert code == 0, err
    listed = out.split("\nwritten:\n")[1].splitlines()
    paths = [line.split()[-1] for line in listed]
    assert os.path.join(str(tmp_path), "ckpt.npz") in paths
    assert os.path.join(str(tmp_path), "loss.png") in paths
    assert len(paths) >= 4                        # and the pictures of both test splits
    assert sorted(paths) == sorted(str(p) for p in tmp_path.iterdir())   # all, and only, those
    assert "\r" not in err and len(err.splitlines()) <= 3      # a log line per training loop


def test_progress_in_a_log_is_a_line_every_interval():
    now = [0.0]
    log = io.StringIO()
    bar = progress.LogLines(total=100, desc="train", interval=10, file=log, clock=lambda: now[0])
    for i in range(100):
        now[0] += 0.25                                        # 25 s in all
        bar.update(1)
        bar.set_postfix_str(f"loss {i}")
    bar.close()
    assert log.getvalue().splitlines() == ["train: 40/100 steps | loss 39 | 0:10",
                                           "train: 80/100 steps | loss 79 | 0:20",
                                           "train: 100/100 steps | loss 99 | 0:25"]
    no_postfix = progress.LogLines(desc="eval", interval=10, file=log, clock=lambda: now[0])
    for _ in range(3):                  # a line falls due at 12 s and is written at 18 s
        now[0] += 6
        no_postfix.update(2)
    assert log.getvalue().splitlines()[3:] == ["eval: 4 steps | 0:18"]


def test_progress_is_a_tqdm_bar_only_on_a_terminal(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert isinstance(progress.progress(total=5), progress.LogLines)
    monkeypatch.setattr(sys, "stderr", Terminal())
    bar = progress.progress(total=5)
    assert type(bar).__module__.startswith("tqdm")
    bar.close()
    quiet = progress.progress(total=5, disable=True)
    quiet.update(1)
    quiet.close()
    assert "0/5" in sys.stderr.getvalue()                    # the real bar drew itself


# -- the command lines the docs show are accepted ---------------------------------------------
def documented_commands():
    """(source, script, argv) of every ``python examples/<script>.py ...`` line in the README,
    the docs and the scripts' own docstrings (continuation lines joined, comments cut)."""
    sources = [os.path.join(EXAMPLES, "..", "README.md")]
    for folder, _, names in os.walk(os.path.join(EXAMPLES, "..", "docs")):
        sources += [os.path.join(folder, n) for n in sorted(names) if n.endswith(".md")]
    sources += [os.path.join(EXAMPLES, f"{name}.py") for name in SCRIPTS]
    pattern = re.compile(r"python examples/(" + "|".join(SCRIPTS) + r")\.py([^`\n]*)")
    for source in sources:
        if not os.path.exists(source):
            continue
        with open(source, encoding="utf-8") as f:
            text = re.sub(r"\\\n\s*", " ", f.read())
        for match in pattern.finditer(text):
            yield os.path.relpath(source, EXAMPLES), match.group(1), \
                shlex.split(match.group(2).split("#")[0])


COMMANDS = sorted(set((s, n, tuple(a)) for s, n, a in documented_commands()))


def test_the_docs_show_command_lines():
    assert len(COMMANDS) >= 15 and {n for _, n, _ in COMMANDS} == set(SCRIPTS)


@pytest.mark.parametrize("source,name,argv", COMMANDS,
                         ids=[f"{s}:{n} {' '.join(a)}" for s, n, a in COMMANDS])
def test_documented_command_lines_parse(scripts, capsys, source, name, argv):
    try:
        scripts[name].parse_args(list(argv))
    except SystemExit as stop:
        if stop.code in (0, None):                 # --help: shown, and fine
            return
        pytest.fail(f"{source}: `{name}.py {' '.join(argv)}` is refused: "
                    f"{capsys.readouterr().err.strip().splitlines()[-1]}")
