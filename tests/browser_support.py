"""A real headless Chromium for the explorer's tests (and the docs' screenshots).

``start_chromium()`` starts Debian's ``chromium`` through ``chromedriver`` (Selenium) with a
fresh profile and everything that could reach the network switched off; ``open_page``
loads a saved page from ``file://`` and waits until ``window.minigradExplorer.ready``.
``missing_browser()`` says what is absent (None when all is there); ``chromium_session``
is the body of a test module's browser fixture.
"""
import os
import shutil
import tempfile

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000", "--hide-scrollbars")


def chromium_binary():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_browser():
    """A sentence naming what the browser tests need and do not find, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (bash scripts/install_browser.sh)"
    if chromium_binary() is None or shutil.which("chromedriver") is None:
        return "chromium / chromedriver are not installed (bash scripts/install_browser.sh)"
    return None


def start_chromium(extra_flags=()):
    """(driver, profile_dir): a headless Chromium that logs the console and the network;
    ``extra_flags`` are added to ``FLAGS`` (e.g. host-resolver rules that cut the network)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="minigrad-chromium-")
    options = webdriver.ChromeOptions()
    for flag in FLAGS + tuple(extra_flags):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = chromium_binary()
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    return driver, profile


def chromium_session(who, extra_flags=()):
    """Yield a started Chromium and stop it afterwards (``yield from`` it in a fixture). When
    the browser is missing, skip, but fail on CI (``CI`` set), where ``who`` must run."""
    import pytest

    missing = missing_browser()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{who} must run on CI, but {missing}")
        pytest.skip(missing)
    driver, profile = start_chromium(extra_flags)
    yield driver
    stop_chromium(driver, profile)


def stop_chromium(driver, profile):
    try:
        driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, path, timeout=20):
    """Load ``path`` from file:// and wait until the explorer says it is ready."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser")            # forget what earlier pages logged
    driver.get_log("performance")
    driver.get("file://" + os.path.abspath(path))
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return !!(window.minigradExplorer && window.minigradExplorer.ready)"))


def requested_urls(driver):
    """URLs the page asked for since the last open_page (Chromium's performance log)."""
    import json
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


PANELS = ("graph", "node", "flow", "states", "attention")


def screenshot_panels(driver, out_dir, prefix="explore_"):
    """A PNG of each visible panel (and the stepper) in ``out_dir``; returns their paths."""
    from selenium.webdriver.common.by import By

    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name in ("stepper",) + PANELS:
        element = driver.find_element(By.ID, name if name == "stepper" else f"panel-{name}")
        if not element.is_displayed():
            continue
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        path = os.path.join(out_dir, f"{prefix}{name}.png")
        if name == "node":       # the whole panel, not just what its scroll box shows
            driver.execute_script("arguments[0].style.maxHeight = 'none';"
                                  "arguments[0].style.position = 'absolute';"
                                  "arguments[0].style.width = '360px'", element)
        element.screenshot(path)
        if name == "node":
            driver.execute_script("arguments[0].style.maxHeight = arguments[0].style.position = "
                                  "arguments[0].style.width = ''", element)
        paths.append(path)
    return paths
