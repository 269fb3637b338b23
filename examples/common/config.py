"""Command-line flags from an example's CONFIG dict: one ``--flag`` per entry.

Each example keeps its settings in a ``CONFIG = dict(name=default,  # what it does)`` at
the top of its script, readable in one place; this turns every entry into a flag of the
same type whose help is that comment, so the two never drift apart.
"""
from __future__ import annotations

import argparse
import re


def config_parser(script_path, config, description, choices=None):
    """``argparse.ArgumentParser`` with ``--name-with-dashes`` for each ``config`` key
    (default None, so the flags actually given can be told apart: ``given_flags``)."""
    with open(script_path, encoding="utf-8") as f:
        comments = dict(re.findall(r"^    (\w+)=.*?#\s*(.*)$", f.read(), flags=re.M))
    parser = argparse.ArgumentParser(description=description)
    for key, default in config.items():
        parser.add_argument("--" + key.replace("_", "-"), type=type(default), default=None,
                            choices=(choices or {}).get(key),
                            help=f"{comments.get(key, '')} (default: {default!r})")
    return parser


def given_flags(args, config):
    """The ``config`` values set on the command line."""
    return {k: v for k, v in vars(args).items() if k in config and v is not None}
