"""/docs and /redoc render their list of operations with the outside network blocked (local assets only)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.browser.conftest import console_problems, outside_requests, requests_made, save_screenshot
from tests.browser.test_review_page import wait_until
from tests.service.server import ServeProcess

pytestmark = pytest.mark.e2e


def operations(server: ServeProcess) -> list[tuple[str, str, str]]:
    with urllib.request.urlopen(server.url + "/openapi.json", timeout=30) as response:
        spec = json.loads(response.read())
    return [(method.upper(), path, op.get("summary", "")) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_swagger_ui_lists_every_operation_offline(driver: Any, server: ServeProcess) -> None:
    from selenium.webdriver.common.by import By

    expected = operations(server)
    assert len(expected) >= 6
    requests_made(driver), console_problems(driver)  # start both logs afresh
    driver.get(server.url + "/docs")
    blocks = wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, ".opblock-summary"), "Swagger UI's operations")
    shown = {
        (
            b.find_element(By.CLASS_NAME, "opblock-summary-method").text,
            b.find_element(By.CLASS_NAME, "opblock-summary-path").get_attribute("data-path"),
        )
        for b in blocks
    }
    assert {(m, p) for m, p, _ in expected} == shown
    save_screenshot(driver, "docs-swagger")
    assert outside_requests(driver, server.url) == []
    assert console_problems(driver) == []


def test_redoc_lists_every_operation_offline(driver: Any, server: ServeProcess) -> None:
    from selenium.webdriver.common.by import By

    expected = operations(server)
    requests_made(driver), console_problems(driver)
    driver.get(server.url + "/redoc")
    wait_until(lambda: len(driver.find_elements(By.CSS_SELECTOR, "h2")) >= len(expected), "ReDoc's operations")
    headings = {h.text for h in driver.find_elements(By.CSS_SELECTOR, "h2")}
    assert {summary for _, _, summary in expected} <= headings
    save_screenshot(driver, "docs-redoc")
    # ReDoc's bundle always tries its "API docs by Redocly" logo from its CDN; the page's CSP stops it (it is never sent)
    assert outside_requests(driver, server.url) == []
    problems = console_problems(driver)
    assert all("cdn.redoc.ly/redoc/logo-mini.svg" in p for p in problems), problems
