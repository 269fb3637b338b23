"""``python -m minigrad.viz --out DIR``: render the lecture's demo figures (SVG and PNG)."""
import argparse
import os

from .demos import render_all


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigrad.viz", description=__doc__)
    parser.add_argument("--out", default="figures", help="folder for the figures (made if missing)")
    parser.add_argument("--formats", default="svg,png", help="comma-separated: svg,png,pdf")
    args = parser.parse_args(argv)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    for path in render_all(args.out, formats):
        print(f"{path}  ({os.path.getsize(path) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
