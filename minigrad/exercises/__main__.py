"""``python -m minigrad.exercises`` lists the exercises;
``python -m minigrad.exercises check answers.py [NAME ...]`` checks the functions of that
file named like exercises (``def lstm_cell(...)`` ...) and exits 1 if any is wrong."""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys

from .checker import ExerciseFailed, check, list_exercises
from .registry import EXERCISES


def _load(path):
    if not os.path.isfile(path):
        raise SystemExit(f"error: no such file: {path}")
    spec = importlib.util.spec_from_file_location("student_answers", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise SystemExit(f"error: {path} does not run: {type(error).__name__}: {error}")
    return module


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigrad.exercises",
                                     description="List the exercises, or check your answers.")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("check", help="check the exercise functions defined in a Python file")
    run.add_argument("file", help="a .py file defining functions named like the exercises")
    run.add_argument("names", nargs="*", help="only these exercises (default: all found)")
    args = parser.parse_args(argv)
    if args.command is None:
        for name, tutorial, signature, summary in list_exercises():
            print(f"{name:22s} {tutorial:20s} {summary}\n{'':22s} {signature}")
        return 0
    unknown = [n for n in args.names if n not in EXERCISES]
    if unknown:
        parser.error(f"unknown exercise {unknown[0]!r}; choose from {', '.join(EXERCISES)}")
    module = _load(args.file)
    names = args.names or [n for n in EXERCISES if callable(getattr(module, n, None))]
    if not names:
        print(f"error: {args.file} defines none of: {', '.join(EXERCISES)}", file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        fn = getattr(module, name, None)
        if fn is None:
            print(f"✗ {name}: not defined in {args.file}")
            failed += 1
            continue
        try:
            if not check(name, fn):
                failed += 1
        except ExerciseFailed as error:
            print(f"✗ {error}")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
