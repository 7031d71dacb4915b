"""Entity declarations are refused whatever encoding a feed declares (cp037, cp500, UTF-7, UTF-16/32):
in the readers, in a real `misinfo-risk serve` (POST /v1/feeds/score) and in a real `misinfo-risk batch` run."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from misinfo_risk.ingest import parse_feed
from tests.service.server import ServeProcess

# Small on purpose: if a check lets it through, feedparser expands it to 10,000 "lol"s, not gigabytes.
ENTITIES = '<!DOCTYPE rss [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' + (
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
)
BODY = (
    '<rss version="2.0"><channel><title>Gazette</title><item><title>Café opens</title><guid>g1</guid>'
    "<description>The café opened on Tuesday, the council said in a statement. {text}</description></item></channel></rss>"
)


def document(encoding: str, *, entities: bool) -> bytes:
    """A feed in `encoding`, declared in its XML declaration (a BOM first for the utf-16/utf-32 labels)."""
    label = {"utf-16-le": "utf-16", "utf-16-be": "utf-16", "utf-32-le": "utf-32", "utf-8-sig": "utf-8"}.get(encoding, encoding)
    text = f'<?xml version="1.0" encoding="{label}"?>' + (ENTITIES if entities else "")
    text += BODY.format(text="&d;" if entities else "Plain words.")
    data = text.encode(encoding)
    if encoding == "utf-7":
        # Python's UTF-7 encoder writes "<" as itself; "+ADw-" is the same character, and hides the markup from a byte scan.
        data = data.replace(b"<!", b"+ADw-!")
    return data


ENCODINGS = ["cp037", "cp500", "utf-7", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-8-sig", "iso-8859-1"]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_entity_declarations_are_refused_in_every_encoding(encoding: str) -> None:
    [item] = list(parse_feed(document(encoding, entities=True), "feed.xml"))
    assert (item.location, item.fields) == ("source", None)
    assert item.error is not None and item.error.startswith("unsafe XML refused: entity declarations are not allowed")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_safe_feed_in_every_encoding_is_read_exactly(encoding: str) -> None:
    [item] = list(parse_feed(document(encoding, entities=False), "feed.xml"))
    assert item.error is None and item.fields is not None
    assert (item.fields["title"], item.fields["text"]) == (
        "Café opens",
        "The café opened on Tuesday, the council said in a statement. Plain words.",
    )


REFUSED = ["cp037", "cp500", "utf-7", "utf-16", "utf-32-le"]


@pytest.fixture(scope="module")
def server(tiny_artifact: Path) -> Iterator[ServeProcess]:
    process = ServeProcess(["--artifact", str(tiny_artifact), "--pool-workers", "0"], workers=1)
    try:
        yield process.wait_ready()
    finally:
        process.stop()


def post_feed(server: ServeProcess, body: bytes) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        f"{server.url}/v1/feeds/score", data=body, headers={"Content-Type": "application/rss+xml"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize("encoding", REFUSED)
def test_the_service_answers_422_for_entities_in_any_encoding(server: ServeProcess, encoding: str) -> None:
    status, body = post_feed(server, document(encoding, entities=True))
    assert status == 422, body
    assert str(body["detail"]).startswith("The feed in the body cannot be read: unsafe XML refused: entity declarations")
    status, body = post_feed(server, document(encoding, entities=False))
    assert (status, body["scored"]) == (200, 1), body


def test_the_batch_command_gives_an_error_row_for_entities_in_any_encoding(tiny_artifact: Path, tmp_path: Path) -> None:
    names: list[str] = []
    for encoding in REFUSED:
        (tmp_path / f"{encoding}.xml").write_bytes(document(encoding, entities=True))
        names.append(str(tmp_path / f"{encoding}.xml"))
    (tmp_path / "safe.xml").write_bytes(document("cp500", entities=False))
    out = tmp_path / "out.jsonl"
    argv = [sys.executable, "-m", "misinfo_risk", "batch", *names, str(tmp_path / "safe.xml")]
    done = subprocess.run(
        [*argv, "--output", str(out), "--artifact", str(tiny_artifact), "--workers", "1", "--progress", "off"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # 1: some items could not be scored
    assert "Traceback" not in done.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["location"], (r["error"] or "")[:60]) for r in rows] == [
        *[("source", "unsafe XML refused: entity declarations are not allowed (ent")] * len(REFUSED),
        ("entry 1", ""),
    ]
    assert rows[-1]["title"] == "Café opens" and rows[-1]["score"] is not None
