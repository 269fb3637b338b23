"""Command-line flags from an example's CONFIG dict: one ``--flag`` per entry, each checked.

Each example keeps its settings in a ``CONFIG = dict(name=default,  # what it does)`` at
the top of its script, readable in one place; this turns every entry into a flag of the
same type whose help is that comment, so the two never drift apart. A second dict,
``RULES``, says what each flag accepts, and argparse refuses anything else with one
``error:`` line naming the flag, the value and the rule::

    RULES = dict(cell=("rnn", "lstm", "gru"),   # a tuple: the allowed values
                 steps=">= 0", lr="> 0",        # a bound on the number
                 dropout="[0, 1)",              # an interval: [ ] closed, ( ) open
                 channels=int_list)             # any function of the text (argparse type)
"""
from __future__ import annotations

import argparse
import os
import re

_BOUND = re.compile(r"^(>=|>)\s*(\S+)$")
_INTERVAL = re.compile(r"^([\[(])\s*([^,\s]+)\s*,\s*([^\])\s]+)\s*([\])])$")


def config_parser(script_path, config, description, rules=None):
    """``argparse.ArgumentParser`` with ``--name-with-dashes`` for each ``config`` key
    (default None, so the flags actually given can be told apart: ``given_flags``), each
    checked by its entry in ``rules``, and ``--debug`` (see ``common.cli.run_script``)."""
    with open(script_path, encoding="utf-8") as f:
        comments = dict(re.findall(r"^    (\w+)=.*?#\s*(.*)$", f.read(), flags=re.M))
    rules = rules or {}
    parser = argparse.ArgumentParser(prog=os.path.basename(script_path), description=description)
    for key, default in config.items():
        rule = rules.get(key)
        choices = tuple(rule) if isinstance(rule, (tuple, list)) else None
        kind = type(default) if rule is None or choices else checked(type(default), rule)
        shown = f"; {rule}" if isinstance(rule, str) else ""
        parser.add_argument("--" + key.replace("_", "-"), type=kind, default=None,
                            choices=choices,
                            help=f"{comments.get(key, '')} (default: {default!r}{shown})")
    parser.add_argument("--debug", action="store_true",
                        help="on an error, show the full traceback instead of one line")
    return parser


def checked(kind, rule):
    """An argparse ``type``: the text as a ``kind`` (int or float) obeying ``rule`` ("> 0",
    ">= 0", "[0, 1)", ...), or a callable ``rule`` itself."""
    if callable(rule):
        return rule
    test = _rule_test(rule, kind)
    expected = f"expected {'an integer' if kind is int else 'a number'} {rule}"

    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{expected}, got {text!r}") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"{expected}, got {text!r}")
        return value

    convert.__name__ = kind.__name__          # argparse names the type in some messages
    return convert


def _rule_test(rule, kind):
    """The predicate a rule string stands for; ``ValueError`` for a rule it cannot read."""
    bound, interval = _BOUND.match(rule), _INTERVAL.match(rule)
    if bound:
        op, low = bound.group(1), kind(bound.group(2))
        return (lambda v: v >= low) if op == ">=" else (lambda v: v > low)
    if interval:
        left, low, high, right = interval.groups()
        low, high = kind(low), kind(high)
        return lambda v: ((v >= low) if left == "[" else (v > low)) and (
            (v <= high) if right == "]" else (v < high))
    raise ValueError(f"config rule {rule!r}: expected '> N', '>= N' or an interval '[a, b)'")


def int_list(text):
    """An argparse ``type`` for a comma-separated list of positive integers ("16,32,64");
    returns the text, normalised ("16,32,64"), so that it can be saved in a checkpoint."""
    parts = [p.strip() for p in str(text).split(",")]
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(
            f"expected positive integers separated by commas (16,32,64), got {text!r}")
    return ",".join(str(int(p)) for p in parts)


def device_name(text):
    """An argparse ``type`` for ``--device``: "cpu", "cuda" or "cuda:N" (whether a GPU is
    there is checked when the run starts: ``common.cli.require_device``)."""
    kind, colon, index = text.partition(":")
    if kind == "cpu" and not colon or kind == "cuda" and (not colon or index.isdigit()):
        return text
    raise argparse.ArgumentTypeError(f"expected cpu, cuda or cuda:N, got {text!r}")


def given_flags(args, config):
    """The ``config`` values set on the command line."""
    return {k: v for k, v in vars(args).items() if k in config and v is not None}
