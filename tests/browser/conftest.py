"""A real `misinfo-risk serve` on the shipped model, with API keys, and a headless Chromium driven by Selenium.

The browser is the system's (Debian: `apt-get install chromium chromium-driver`); nothing is downloaded
at run time. Without it these tests are skipped, except where MISINFO_RISK_REQUIRE_BROWSER=1 (CI), where
its absence fails them. The browser's traffic to anything but loopback goes to a closed local port (a
proxy that is not there), so a page that needed an outside asset would show it.

Screenshots go to test-output/browser/ (ignored by git), or to $MISINFO_RISK_SCREENSHOTS.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.service.server import ServeProcess

API_KEY = "browser-test-key-0123456789"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("MISINFO_RISK_SCREENSHOTS", ROOT / "test-output" / "browser"))
REQUIRE_BROWSER = os.environ.get("MISINFO_RISK_REQUIRE_BROWSER") == "1"


def _find(*names: str) -> str | None:
    return next((path for name in names if (path := shutil.which(name))), None)


CHROMIUM = _find("chromium", "chromium-browser")
CHROMEDRIVER = _find("chromedriver")


@pytest.fixture(scope="session")
def browser_binaries() -> tuple[str, str]:
    if CHROMIUM and CHROMEDRIVER:
        return CHROMIUM, CHROMEDRIVER
    reason = "no chromium and chromedriver on PATH (Debian: apt-get install chromium chromium-driver)"
    if REQUIRE_BROWSER:
        pytest.fail(f"MISINFO_RISK_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server() -> Iterator[ServeProcess]:
    """The shipped model behind a real server, one scoring process, API keys on."""
    process = ServeProcess(["--pool-workers", "1"], workers=1, env={"RISK_API_KEYS": API_KEY})
    try:
        yield process.wait_ready()
    finally:
        process.stop()


@pytest.fixture(scope="session")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def driver(browser_binaries: tuple[str, str], downloads: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = browser_binaries
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",  # root in CI containers
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--proxy-server=http://127.0.0.1:9",  # everything but loopback goes nowhere: the outside network is blocked
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    browser = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield browser
    finally:
        browser.quit()


def score_over_http(server: ServeProcess, article: dict[str, Any]) -> dict[str, Any]:
    """The same article scored through the API directly, for comparison with what the page shows."""
    request = urllib.request.Request(
        server.url + "/v1/score",
        data=json.dumps(article).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {API_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        result: dict[str, Any] = json.loads(response.read())
    return result


def save_screenshot(driver: Any, name: str, *, width: int = 1280) -> Path:
    """A full-page PNG at `width` CSS pixels, under SCREENSHOTS; the window is put back afterwards."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    before = driver.get_window_size()
    driver.set_window_size(width, 1000)
    height = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.set_window_size(width, min(int(height) + 140, 12000))
    driver.save_screenshot(str(path))
    driver.set_window_size(before["width"], before["height"])
    return path


def requests_made(driver: Any) -> list[tuple[str, str | None]]:
    """Every (URL, reason it was blocked or None) the browser asked for since the last call (DevTools log)."""
    urls: dict[str, str] = {}
    blocked: dict[str, str] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif message["method"] == "Network.loadingFailed" and params.get("blockedReason"):
            blocked[params["requestId"]] = params["blockedReason"]
    return [(url, blocked.get(request_id)) for request_id, url in urls.items()]


def outside_requests(driver: Any, origin: str) -> list[str]:
    """URLs fetched since the last call from anywhere but `origin` (data: and blob: are local; CSP-blocked ones were never sent)."""
    made = requests_made(driver)
    assert made, "no request was logged"
    local = (origin + "/", "data:", "blob:")
    return [url for url, blocked in made if not url.startswith(local) and blocked != "csp"]


def console_problems(driver: Any) -> list[str]:
    """Console errors and warnings since the last call (a CSP violation is one)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
