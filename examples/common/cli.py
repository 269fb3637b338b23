"""What the three example scripts share at their edges: how they fail, what they check
before starting, and how they say what they wrote.

    if __name__ == "__main__":
        sys.exit(run_script(main))

A mistake on the command line or in the files it names (a missing ``--data`` file,
``--device cuda`` on a machine without a GPU, an unreadable checkpoint) ends the run with
one line ``error: ...`` on stderr and exit status 2, as argparse does for a bad flag, not a
traceback; ``--debug`` shows the traceback instead. Errors of other kinds (a bug in the
code: ``TypeError``, ``AttributeError``, ...) keep their traceback.
"""
from __future__ import annotations

import os
import sys

# What a user's input can cause: bad values or files (ValueError, KeyError, OSError),
# a missing optional package (ImportError), an unusable checkpoint or device (RuntimeError,
# which CheckpointError is).
USER_ERRORS = (ValueError, KeyError, OSError, ImportError, RuntimeError)
USAGE_ERROR = 2          # argparse's exit status for a bad command line


def run_script(main, argv=None):
    """Run ``main(argv)`` and return the exit status: 0, or 2 after one ``error:`` line on
    stderr for a user's mistake (argparse's own errors also exit 2); 130 on Ctrl-C."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    try:
        main(argv)
    except SystemExit as stop:                      # argparse: --help (0) or a bad flag (2)
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except KeyboardInterrupt:
        if debug:
            raise
        print("interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as error:
        if debug:
            raise
        print(f"error: {one_line(error)} (--debug shows the traceback)", file=sys.stderr)
        return USAGE_ERROR
    return 0


def one_line(error):
    """The error's message on one line: ``KeyError``'s quotes dropped, OS errors as
    "No such file or directory: 'x.txt'", whitespace runs (newlines) made single spaces."""
    if isinstance(error, KeyError) and len(error.args) == 1 and isinstance(error.args[0], str):
        text = error.args[0]
    elif isinstance(error, OSError) and error.strerror and error.filename is not None:
        text = f"{error.strerror}: {error.filename!r}"
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())


def require_device(device):
    """``device`` when arrays can be made there, else ``RuntimeError`` naming the flag."""
    import minigrad

    if device.startswith("cuda") and not minigrad.cuda.is_available():
        raise RuntimeError(f"--device {device}: no CUDA GPU is usable here (it needs CuPy, "
                           "the 'cuda' extra, and a visible GPU); use --device cpu")
    return device


def require_paths(cfg, files=(), folders=()):
    """Check that ``cfg[key]`` names an existing file (for each key in ``files``) or folder
    (``folders``) before any work starts; ``FileNotFoundError`` naming the flag otherwise."""
    for keys, exists, what in ((files, os.path.isfile, "file"), (folders, os.path.isdir, "folder")):
        for key in keys:
            if not exists(cfg[key]):
                flag = "--" + key.replace("_", "-")
                raise FileNotFoundError(f"{flag} {cfg[key]!r}: no such {what}")


def print_written(paths):
    """Print ``{what: path}``, the files a run wrote, one per line under "written:"."""
    print("\nwritten:")
    for what, path in paths.items():
        print(f"  {what:26s} {path}")
