"""The review page at `/` in a real headless Chromium against a real server on the shipped model."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import API_KEY, console_problems, requests_made, save_screenshot, score_over_http
from tests.service.server import ServeProcess

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
STORY = HERE / "fabricated_story.json"  # written for these tests, in the manner of the canonical heist story
CANONICAL = HERE.parents[2] / "shared" / "examples" / "fabricated-heist-story.json"  # beside the clone in CI only
STORIES = [
    pytest.param(STORY, id="own-story"),
    pytest.param(
        CANONICAL,
        id="canonical-story",
        marks=pytest.mark.skipif(
            not CANONICAL.exists(), reason="the canonical story lives in ../shared/examples (not in a user's clone)"
        ),
    ),
]
NAMED_SIGNALS = ("unnamed_sources", "absent_official_comment", "inflated_figures")
GERMAN = (
    "Der Stadtrat hat am Dienstag den Haushalt für das kommende Jahr mit großer Mehrheit beschlossen. "
    "Die Bürgermeisterin sagte, die Stadt werde mehr Geld für Schulen, Radwege und den Nahverkehr ausgeben."
)


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def open_page(driver: Any, server: ServeProcess, *, key: bool = True) -> None:
    from selenium.webdriver.common.by import By

    driver.get(server.url + "/")
    driver.execute_script("sessionStorage.clear()")
    driver.get(server.url + "/")
    if key:
        driver.find_element(By.ID, "api-key").send_keys(API_KEY)
        driver.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()
        wait_until(lambda: "key is set" in driver.find_element(By.ID, "key-status").text, "the key to be kept")


def score_article(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "score-button").click()
    badge = driver.find_element(By.ID, "level-badge")
    return str(wait_until(lambda: badge.is_displayed() and badge.text, "a result"))


def marks(driver: Any) -> list[dict[str, Any]]:
    return list(
        driver.execute_script(
            "return Array.from(document.querySelectorAll('#article-text mark.ev')).map(m => ({"
            "section: m.dataset.section, start: +m.dataset.start, end: +m.dataset.end,"
            "signals: m.dataset.signals.split(' '), text: m.textContent}))"
        )
    )


@pytest.mark.parametrize("story", STORIES)
def test_fabricated_story_is_high_with_the_named_signals_highlighted_at_their_offsets(
    driver: Any, server: ServeProcess, story: Path
) -> None:
    from selenium.webdriver.common.by import By

    article = json.loads(story.read_text(encoding="utf-8"))
    expected = score_over_http(server, article)
    assert expected["level"] == "high"
    requests_made(driver), console_problems(driver)  # start both logs afresh

    open_page(driver, server)
    driver.find_element(By.ID, "article-file").send_keys(str(story))  # a dropped or chosen .json article
    wait_until(lambda: driver.find_element(By.ID, "text").get_attribute("value") == article["text"], "the file to load")
    assert driver.find_element(By.ID, "title").get_attribute("value") == (article.get("title") or "")
    assert score_article(driver) == "High risk"

    facts = driver.find_element(By.ID, "facts").text
    assert f"{expected['score']:.2f}" in facts and expected["model_version"] in facts and "English (en" in facts
    assert "news" in facts
    shown = marks(driver)
    by_signal = {s["name"]: s for s in expected["signals"]}
    assert set(NAMED_SIGNALS) <= by_signal.keys()
    for name, signal in by_signal.items():
        for ev in signal["evidence"]:
            # the highlight pieces of this signal inside the span tile it exactly and spell its text
            pieces = sorted(
                (
                    m
                    for m in shown
                    if name in m["signals"] and m["section"] == ev["section"] and ev["start"] <= m["start"] < ev["end"]
                ),
                key=lambda m: m["start"],
            )
            assert pieces and pieces[0]["start"] == ev["start"] and pieces[-1]["end"] == ev["end"], (name, ev)
            assert all(a["end"] == b["start"] for a, b in zip(pieces, pieces[1:], strict=False)), (name, ev)
            assert "".join(p["text"] for p in pieces) == ev["text"]
            source = article[ev["section"]]
            assert source[ev["start"] : ev["end"]] == ev["text"]
    covered = {(n, m["section"], m["start"]) for m in shown for n in m["signals"]}
    spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for s in expected["signals"]:
        for ev in s["evidence"]:
            spans.setdefault((s["name"], ev["section"]), []).append((ev["start"], ev["end"]))
    for name, section, start in covered:  # and nothing is highlighted that the result does not hold
        assert any(a <= start < b for a, b in spans[(name, section)]), (name, section, start)

    # each named signal is listed with its contribution; a highlight tells its description on keyboard focus
    listed = driver.find_element(By.ID, "signals").text
    for name in NAMED_SIGNALS:
        assert name in listed
    first = next(
        m
        for m in driver.find_elements(By.CSS_SELECTOR, "mark.ev")
        if "absent_official_comment" in m.get_attribute("data-signals")
    )
    tip = driver.find_element(By.ID, first.get_attribute("aria-describedby"))
    assert not tip.is_displayed()
    driver.execute_script("arguments[0].focus()", first)
    assert tip.is_displayed()
    signal = by_signal["absent_official_comment"]
    assert signal["description"] in tip.text and f"+{signal['contribution']:.2f}" in tip.text

    # the riskiest sentences are numbered in the text and quoted below it
    ranks = driver.find_elements(By.CSS_SELECTOR, "#article-text .rank")
    assert [r.get_attribute("data-rank") for r in ranks] and len(ranks) == 3
    top = max(expected["sentences"], key=lambda s: s["contribution"])
    quoted = driver.find_elements(By.CSS_SELECTOR, "#sentences li")[0].text
    assert article[top["section"]][top["start"] : top["end"]][:40] in quoted
    assert "triage score, not a verdict" in driver.find_element(By.CLASS_NAME, "about").text.lower()

    name = "article-high" if story == STORY else "canonical-story-high"
    save_screenshot(driver, name)
    save_screenshot(driver, name + "-phone", width=390)
    driver.set_window_size(390, 900)
    driver.execute_script("document.activeElement.blur()")
    assert driver.execute_script(OVERFLOWING) == []  # nothing wider than a phone
    driver.set_window_size(1280, 1000)
    assert_same_origin_only(driver, server)


OVERFLOWING = """
const width = document.documentElement.clientWidth;
return Array.from(document.querySelectorAll('body *')).filter(e => e.getClientRects().length && e.getBoundingClientRect().right > width + 1
  && !e.closest('.table-wrap')).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
"""


def assert_same_origin_only(driver: Any, server: ServeProcess) -> None:
    made = requests_made(driver)
    assert made and all(url.startswith(server.url + "/") and blocked is None for url, blocked in made), made
    problems = console_problems(driver)
    assert not problems, problems


def test_german_article_is_not_assessed(driver: Any, server: ServeProcess) -> None:
    from selenium.webdriver.common.by import By

    open_page(driver, server)
    driver.find_element(By.ID, "title").send_keys("Stadtrat beschließt Haushalt")
    driver.find_element(By.ID, "text").send_keys(GERMAN)
    assert score_article(driver) == "Not assessed"
    reason = driver.find_element(By.ID, "reason").text
    assert "unsupported_language" in reason and "German" in reason
    assert "German (de" in driver.find_element(By.ID, "facts").text
    assert "Score" not in driver.find_element(By.ID, "facts").text  # no number is made up
    assert driver.find_elements(By.CSS_SELECTOR, "mark.ev") == []
    save_screenshot(driver, "article-not-assessed")


def test_without_the_key_the_page_loads_and_says_a_key_is_needed(driver: Any, server: ServeProcess) -> None:
    from selenium.webdriver.common.by import By

    open_page(driver, server, key=False)
    assert "requires an API key" in driver.find_element(By.ID, "key-status").text
    driver.find_element(By.ID, "text").send_keys("Officials said the council approved the budget on Tuesday.")
    driver.find_element(By.ID, "score-button").click()
    alert = driver.find_element(By.ID, "alert")
    wait_until(alert.is_displayed, "the error")
    assert "API key" in alert.text
    assert driver.switch_to.active_element == driver.find_element(By.ID, "api-key")


def batch_articles(n: int) -> list[dict[str, Any]]:
    """n distinct articles: calm council reports, sensational claims, and now and then a German one."""
    out = []
    for i in range(n):
        if i % 10 == 9:
            out.append({"id": f"de-{i}", "title": "Stadtrat", "text": GERMAN})
        elif i % 3 == 0:
            out.append(
                {
                    "id": f"claim-{i}",
                    "title": f"SHOCKING: insiders say cure number {i} WORKS",
                    "text": f"Sources indicate that cure {i} was hidden by officials, who have yet to comment. "
                    "Millions of people were cured, insiders say. Share this before it is deleted!!! "
                    "What they don't want you to know is chilling.",
                }
            )
        else:
            out.append(
                {
                    "id": f"council-{i}",
                    "title": f"Council approves budget for district {i}",
                    "text": f"The council of district {i} voted 7-2 on Tuesday to approve next year's budget, the mayor's "
                    "office said in a statement. The plan sets aside money for road repairs and new bus lanes, and "
                    "a spokeswoman said work would begin in March.",
                }
            )
    return out


def test_a_50_article_jsonl_file_gives_a_sorted_table_and_a_50_row_csv(
    driver: Any, server: ServeProcess, tmp_path: Path, downloads: Path
) -> None:
    from selenium.webdriver.common.by import By

    articles = batch_articles(50)
    upload = tmp_path / "articles.jsonl"
    upload.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    open_page(driver, server)
    driver.find_element(By.ID, "show-batch").click()
    driver.find_element(By.ID, "batch-file").send_keys(str(upload))
    driver.find_element(By.ID, "batch-button").click()
    rows = wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "#batch-rows tr"), "the table")
    assert len(rows) == 50

    table = driver.execute_script(
        "return Array.from(document.querySelectorAll('#batch-rows tr')).map(tr => ({kind: tr.dataset.kind,"
        "index: +tr.dataset.index, score: tr.children[2].textContent}))"
    )
    kinds = [r["kind"] for r in table]
    assert kinds.count("not_assessed") == 5 and "low" in kinds and {"high", "medium"} & set(kinds)
    scores = [float(r["score"]) for r in table if r["kind"] not in ("not_assessed", "error")]
    assert scores == sorted(scores, reverse=True) and len(scores) == 45
    assert kinds[45:] == ["not_assessed"] * 5  # unscored last
    save_screenshot(driver, "batch-table")
    save_screenshot(driver, "batch-table-phone", width=390)
    driver.set_window_size(390, 900)
    assert driver.execute_script(OVERFLOWING) == []  # the table scrolls inside its own box
    driver.set_window_size(1280, 1000)

    # level filters hide and show rows
    low = kinds.count("low")
    driver.find_element(By.CSS_SELECTOR, ".level-filter[value=low]").click()
    assert sum(1 for r in driver.find_elements(By.CSS_SELECTOR, "#batch-rows tr") if r.is_displayed()) == 50 - low
    driver.find_element(By.CSS_SELECTOR, ".level-filter[value=low]").click()

    # downloads: 50 rows each, in the file's order
    for stale in downloads.glob("articles-scores.*"):
        stale.unlink()
    driver.find_element(By.ID, "download-csv").click()
    driver.find_element(By.ID, "download-jsonl").click()
    csv_path = downloads / "articles-scores.csv"
    jsonl_path = downloads / "articles-scores.jsonl"
    wait_until(lambda: csv_path.exists() and jsonl_path.exists(), "the downloads")
    with csv_path.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert len(records) == 50
    assert [r["id"] for r in records] == [a["id"] for a in articles]
    by_index = {r["index"]: r for r in table}
    for i, record in enumerate(records):
        shown = by_index[i]["score"]
        assert (record["score"] == "") == (shown == "\u2014")
        if record["score"]:
            assert f"{float(record['score']):.2f}" == shown
    results = [json.loads(line) for line in jsonl_path.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in results] == [a["id"] for a in articles]

    # any row opens in the article view, with its highlights
    top = driver.find_element(By.CSS_SELECTOR, "#batch-rows tr button")
    top.click()
    assert driver.find_element(By.ID, "article-view").is_displayed()
    first = articles[table[0]["index"]]
    assert driver.find_element(By.ID, "text").get_attribute("value") == first["text"]
    assert driver.find_elements(By.CSS_SELECTOR, "mark.ev")
    assert "from articles.jsonl" in driver.find_element(By.ID, "result-heading").text


def test_a_csv_file_with_quoted_fields_is_read_like_the_batch_command_reads_it(
    driver: Any, server: ServeProcess, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    upload = tmp_path / "few.csv"
    with upload.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "title", "text", "extra"])
        writer.writeheader()
        writer.writerow({"id": "q1", "title": 'He said "no", twice', "text": "Line one, with a comma.\nLine two.", "extra": "x"})
        writer.writerow({"id": "q2", "title": "", "text": "   ", "extra": ""})
    open_page(driver, server)
    driver.find_element(By.ID, "show-batch").click()
    driver.find_element(By.ID, "batch-file").send_keys(str(upload))
    driver.find_element(By.ID, "batch-button").click()
    rows = wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "#batch-rows tr"), "the table")
    assert [r.get_attribute("data-kind") for r in rows][-1] == "error"  # the blank text is the service's error
    assert "must contain non-whitespace" in rows[-1].text
    assert 'He said "no", twice' in rows[0].text


def test_a_dropped_text_file_fills_the_form(driver: Any, server: ServeProcess) -> None:
    from selenium.webdriver.common.by import By

    open_page(driver, server)
    driver.execute_script(
        "const data = new DataTransfer();"
        "data.items.add(new File(['Dropped text, line one.\\nLine two.'], 'note.txt', {type: 'text/plain'}));"
        "document.getElementById('text').dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));"
    )
    wait_until(
        lambda: driver.find_element(By.ID, "text").get_attribute("value") == "Dropped text, line one.\nLine two.", "the drop"
    )
    assert "Loaded note.txt" in driver.find_element(By.ID, "article-status").text


def test_a_json_array_file_is_read_as_a_batch(driver: Any, server: ServeProcess, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    upload = tmp_path / "array.json"
    upload.write_text(json.dumps(batch_articles(4), indent=2), encoding="utf-8")
    open_page(driver, server)
    driver.find_element(By.ID, "show-batch").click()
    driver.find_element(By.ID, "batch-file").send_keys(str(upload))
    driver.find_element(By.ID, "batch-button").click()
    rows = wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "#batch-rows tr"), "the table")
    assert len(rows) == 4 and "error" not in {r.get_attribute("data-kind") for r in rows}


def test_a_file_over_the_batch_limit_is_refused_before_anything_is_sent(
    driver: Any, server: ServeProcess, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    upload = tmp_path / "big.jsonl"
    upload.write_text("".join(json.dumps({"text": f"Item {i}."}) + "\n" for i in range(1001)), encoding="utf-8")
    open_page(driver, server)
    requests_made(driver)
    driver.find_element(By.ID, "show-batch").click()
    driver.find_element(By.ID, "batch-file").send_keys(str(upload))
    driver.find_element(By.ID, "batch-button").click()
    alert = driver.find_element(By.ID, "alert")
    wait_until(alert.is_displayed, "the refusal")
    assert "holds 1001 articles" in alert.text and "at most 1000" in alert.text
    assert not any("/v1/" in url for url, _ in requests_made(driver))


def tab_through(driver: Any, presses: int) -> list[str]:
    """Press Tab from the top of the page and record which element has focus, first and after each press."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver.execute_script("document.querySelector('.skip').focus()")  # the page's first control: Tab on from there
    seen = [driver.execute_script(IDENTIFY, None)]
    for _ in range(presses):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        seen.append(driver.execute_script(IDENTIFY, None))
    return seen


# a stable name for an element: its id, else its tag and position among the page's elements
IDENTIFY = """
const e = arguments[0] || document.activeElement;
return e.id ? '#' + e.id : e.tagName.toLowerCase() + '@' + Array.prototype.indexOf.call(document.querySelectorAll('*'), e);
"""
CONTROLS = """
return Array.from(document.querySelectorAll('a[href], button, input, textarea, select, [tabindex]'))
  .filter(e => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden')
  .map(e => e);
"""


def test_keyboard_alone_reaches_every_control(driver: Any, server: ServeProcess, tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    open_page(driver, server)
    driver.find_element(By.ID, "text").send_keys("Insiders say the figures are chilling. Sources indicate more to come.")
    driver.find_element(By.ID, "text").send_keys(Keys.TAB, Keys.TAB, Keys.ENTER)  # to the Score button, by keyboard
    wait_until(lambda: driver.find_element(By.ID, "level-badge").text, "a result")
    controls = {driver.execute_script(IDENTIFY, e) for e in driver.execute_script(CONTROLS)}
    reached = tab_through(driver, len(controls) + 5)
    assert controls <= set(reached), controls - set(reached)

    # the batch view, switched to and used by keyboard only
    upload = tmp_path / "two.jsonl"
    upload.write_text("\n".join(json.dumps(a) for a in batch_articles(3)) + "\n", encoding="utf-8")
    driver.find_element(By.ID, "show-batch").send_keys(Keys.ENTER)
    assert driver.find_element(By.ID, "batch-view").is_displayed()
    driver.find_element(By.ID, "batch-file").send_keys(str(upload))
    driver.execute_script("document.getElementById('batch-file').focus()")
    ActionChains(driver).send_keys(Keys.TAB, Keys.ENTER).perform()  # Tab to "Score file", press it
    wait_until(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#batch-rows tr")) == 3, "the table")
    controls = {driver.execute_script(IDENTIFY, e) for e in driver.execute_script(CONTROLS)}
    reached = tab_through(driver, len(controls) + 5)
    assert controls <= set(reached), controls - set(reached)
    save_screenshot(driver, "batch-keyboard")
