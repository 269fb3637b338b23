"""The built docs site works offline, as in a classroom without internet: every page,
loaded in a real headless Chromium whose DNS resolves nothing but this machine, makes no
request that fails or leaves the machine, logs no error, and shows no raw LaTeX (the math
is MathML rendered at build time)."""
import functools
import http.server
import os
import subprocess
import sys
import threading

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_support  # noqa: E402

# Names resolve to nothing but this machine: any request that tries to leave it fails.
OFFLINE = ("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",)

RAW_TEX = r"/\\(frac|partial|tanh|odot|sum|prod|begin|qquad|sigma|operatorname|tilde)|\$\$/"
VISIBLE_TEXT_WITH_TEX = """
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const found = [];
while (walker.nextNode()) {
  const node = walker.currentNode;
  if (node.parentElement.closest('math, code, pre, script, style, .md-search')) continue;
  if (%s.test(node.textContent)) found.push(node.textContent.trim().slice(0, 80));
}
return found;
""" % RAW_TEX


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                             "--site-dir", str(out)], cwd=ROOT, capture_output=True, text=True,
                            timeout=600, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    assert result.returncode == 0, result.stdout + result.stderr
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield out, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    yield from browser_support.chromium_session("the offline-docs browser test", OFFLINE)


def pages(site_dir):
    for folder, _, names in os.walk(site_dir):
        for name in sorted(names):
            if name.endswith(".html") and name != "404.html":
                yield os.path.relpath(os.path.join(folder, name), site_dir).replace(os.sep, "/")


def network_problems(driver, base):
    """Requests that failed, or that went anywhere but the local server."""
    import json
    problems = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith((base, "data:", "blob:")):
                problems.append(f"request to {url}")
        elif message["method"] == "Network.loadingFailed" and not params.get("canceled"):
            problems.append(f"failed: {params.get('errorText')} ({params.get('type')})")
    return problems


def test_every_page_loads_offline_with_no_failed_request_and_no_raw_latex(site, browser):
    site_dir, base = site
    checked, math_pages = 0, 0
    browser.get("about:blank")
    browser.get_log("performance"), browser.get_log("browser")   # the browser's own start-up
    for page in pages(site_dir):
        browser.get(f"{base}/{page}")
        browser.execute_script("return document.readyState")
        problems = network_problems(browser, base)
        errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        raw = browser.execute_script(VISIBLE_TEXT_WITH_TEX)
        assert not problems, f"{page}: {problems}"
        assert not errors, f"{page}: console errors {errors}"
        assert not raw, f"{page} shows raw LaTeX: {raw}"
        math = browser.execute_script(
            "return [...document.querySelectorAll('math')].map(m => m.getBoundingClientRect().width)")
        if math:
            math_pages += 1
            assert min(math) > 0, f"{page}: a formula was not laid out"
        checked += 1
    assert checked >= 15 and math_pages >= 4


def test_tutorial_pages_offer_their_notebook_for_download(site, browser):
    site_dir, base = site
    browser.get(f"{base}/tutorials/06-lstm-gru.html")
    link = browser.find_element("css selector", ".notebook-link a")
    assert link.get_attribute("href").endswith("/notebooks/06-lstm-gru.ipynb")
    assert (site_dir / "notebooks" / "06-lstm-gru.ipynb").exists()
    assert not (site_dir / "solutions").exists()          # the solutions are not published
