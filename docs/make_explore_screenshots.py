"""Screenshots of the explorer's panels for the docs (docs/img/explore_*.png).

    python examples/char_lm.py --explore --layers 1 --hidden 128 --seq-len 50 --minutes 4 \
        --out runs/explore
    python docs/make_explore_screenshots.py runs/explore/explore.html [--captioning FILE]

Opens the page in headless Chromium (tests/browser_support.py), steps the backward pass
to the middle, selects the shared weight W_hh, hovers a time step, selects a quoted range
of the text, and writes one PNG per panel. Also prints the page's size and load time.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import browser_support  # noqa: E402


def stage(driver):
    """Put the page in the state the tutorial describes."""
    driver.execute_script("""
        var x = minigradExplorer, n = x.numSteps;
        x.step(Math.round(n * 0.35));
        var e = x.state().edge;
        if (e) x.focus(e.dst, 800);
        var w = x.nodes.find(function (d) { return d.label.indexOf('weight_hh') >= 0; });
        if (w) x.select(w.id);
        var T = x.state().bars.length;
        if (T) x.hoverStep(Math.max(0, T - 4));
        var s = x.data.text;
        if (s) {
            var a = s.chars.indexOf('"'), b = a >= 0 ? s.chars.indexOf('"', a + 1) : -1;
            if (a >= 0 && b > a) x.matchRange(a, b);
            if (x.state().matches.length) x.setUnit(x.state().unitKind, x.state().matches[0][0]);
        }
    """)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page")
    parser.add_argument("--captioning", help="a captioning example's explore.html (attention panel)")
    parser.add_argument("--out", default=os.path.join(HERE, "img"))
    args = parser.parse_args()
    driver, profile = browser_support.start_chromium()
    try:
        t0 = time.perf_counter()
        browser_support.open_page(driver, args.page)
        print(f"{args.page}: {os.path.getsize(args.page):,} bytes, opened in "
              f"{time.perf_counter() - t0:.2f} s (page ready "
              f"{driver.execute_script('return minigradExplorer.loadMs'):.0f} ms after navigation)")
        stage(driver)
        for path in browser_support.screenshot_panels(driver, args.out):
            print("wrote", path)
        if args.captioning:
            browser_support.open_page(driver, args.captioning)
            driver.execute_script("minigradExplorer.showWord(1)")
            for path in browser_support.screenshot_panels(driver, args.out, "explore_captioning_"):
                if path.endswith(("attention.png", "graph.png")):
                    print("wrote", path)
                else:
                    os.remove(path)
    finally:
        browser_support.stop_chromium(driver, profile)


if __name__ == "__main__":
    main()
