"""JSON Lines, CSV and Parquet readers, input expansion and format detection, on files the tests write."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from misinfo_risk.ingest import Columns, InputError, ReadOptions, Source, count_source, detect_format, expand_inputs, read_source
from tests.batch.conftest import article, entries, rss2, write_jsonl


def items(path: Path, fmt: str, options: ReadOptions | None = None) -> list[tuple[str, dict[str, object] | None, str | None]]:
    source = Source(path.name, fmt, path=path)
    out = [
        (i.location, dict(i.fields) if i.fields is not None else None, i.error)
        for i in read_source(source, options or ReadOptions())
    ]
    assert count_source(source, options or ReadOptions()) == len(out)
    return out


def test_jsonl_lines_blank_lines_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"text": "One", "id": 7}\n\n   \n{"text": "Two"\n[1, 2]\n\xff\xfe\n{"text": "Three"}')
    got = items(path, "jsonl")
    assert [(loc, fields) for loc, fields, _ in got] == [
        ("line 1", {"text": "One", "id": "7"}),
        ("line 4", None),
        ("line 5", None),
        ("line 6", None),
        ("line 7", {"text": "Three"}),
    ]
    errors = [e for _, _, e in got]
    assert errors[1] is not None and errors[1].startswith("invalid JSON")
    assert errors[2] == "expected a JSON object, got array"
    assert errors[3] is not None and errors[3].startswith("invalid JSON")


def test_jsonl_errors_point_into_their_own_line(tmp_path: Path) -> None:
    """The location is the file's line; the message must not add orjson's "line 2 column 1" of the item alone,
    and a byte that is not UTF-8 is named (orjson says "surrogates not allowed" at char 0 for any of them)."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"text": "One"}\n{"text": \n{"text": "caf\xe9"}\n')
    got = items(path, "jsonl")
    assert [loc for loc, _, _ in got] == ["line 1", "line 2", "line 3"]
    assert got[1][2] == "invalid JSON: unexpected end of data at character 11"
    assert got[2][2] == "invalid JSON: not UTF-8: byte 0xe9 at byte 14 (invalid continuation byte); send the text as UTF-8"


def test_jsonl_with_a_byte_order_mark_reads_its_first_line(tmp_path: Path) -> None:
    """Windows tools write a UTF-8 BOM first: line 1 was "invalid JSON: UTF-8 byte order mark (BOM) is not supported"."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "One", "id": "a"}\n{"text": "Two"}\n')
    assert items(path, "jsonl") == [("line 1", {"text": "One", "id": "a"}, None), ("line 2", {"text": "Two"}, None)]
    only_bom = tmp_path / "empty.jsonl"
    only_bom.write_bytes(b"\xef\xbb\xbf\n")
    assert items(only_bom, "jsonl") == []


def test_csv_with_another_delimiter_says_which(tmp_path: Path) -> None:
    """A semicolon CSV (what many European spreadsheets save) was only "no 'text' column in the CSV header ['text;id']"."""
    path = tmp_path / "in.csv"
    path.write_text('text;id\n"The council met.";a1\n', encoding="utf-8")
    [(location, fields, error)] = items(path, "csv")
    assert location == "source" and fields is None and error is not None
    assert error.startswith("no 'text' column in the CSV header ['text;id']") and "--delimiter ';'" in error, error
    assert items(path, "csv", ReadOptions(delimiter=";"))[0][1] == {"text": "The council met.", "id": "a1"}
    plain = tmp_path / "plain.csv"
    plain.write_text("body,id\nx,1\n", encoding="utf-8")
    assert items(plain, "csv")[0][2] == "no 'text' column in the CSV header ['body', 'id']"


def test_csv_with_configured_columns_quoted_newlines_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "guid,headline,body,when\n"
        '1,"First, with comma","Line one\nline two",2024-03-01T09:30:00Z\n'
        "2,Second,Body two,\n"
        "3,Too,many,cells,here\n"
        "\n"
        "4,,Body four,not a date\n",
        encoding="utf-8",
    )
    columns = Columns.parse(["id=guid", "title=headline", "text=body", "published_at=when"])
    got = items(path, "csv", ReadOptions(columns=columns))
    assert got == [
        (
            "row 1",
            {"id": "1", "title": "First, with comma", "text": "Line one\nline two", "published_at": "2024-03-01T09:30:00Z"},
            None,
        ),
        ("row 2", {"id": "2", "title": "Second", "text": "Body two"}, None),
        ("row 3", None, "row has 5 cells; the header has 4"),
        ("row 4", {"id": "4", "text": "Body four", "published_at": "not a date"}, None),
    ]


def test_tsv_and_a_csv_without_the_text_column(tmp_path: Path) -> None:
    tsv = tmp_path / "in.tsv"
    tsv.write_text("text\ttitle\nTab separated\tT\n", encoding="utf-8")
    assert items(tsv, "tsv") == [("row 1", {"text": "Tab separated", "title": "T"}, None)]
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("body,title\nx,y\n", encoding="utf-8")
    [(location, fields, error)] = items(wrong, "csv")
    assert location == "source" and fields is None and error is not None and "no 'text' column" in error


def test_parquet_rows_typed_values_and_mapping(tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    table = pa.table(
        {
            "doc_id": pa.array([10, 11, 12], pa.int64()),
            "content": ["First text", None, "Third text"],
            "title": ["A", "B", None],
            "ts": pa.array([datetime(2024, 1, 2, tzinfo=UTC)] * 3, pa.timestamp("s", tz="UTC")),
            "unused": [1, 2, 3],
        }
    )
    pq.write_table(table, path, row_group_size=2)
    columns = Columns.parse(["id=doc_id", "text=content", "published_at=ts"])
    got = items(path, "parquet", ReadOptions(columns=columns))
    assert [loc for loc, _, _ in got] == ["row 1", "row 2", "row 3"]
    assert got[0][1] == {"id": "10", "text": "First text", "title": "A", "published_at": datetime(2024, 1, 2, tzinfo=UTC)}
    assert got[1][1] is not None and got[1][1]["text"] is None  # parse_article reports it, in place


def test_corrupt_parquet_is_one_source_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    [(location, _, error)] = items(path, "parquet")
    assert location == "source" and error is not None and error.startswith("unreadable Parquet")


def test_feed_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(rss2(entries(20)))
    [(location, _, error)] = items(path, "feed", ReadOptions(max_feed_bytes=1_000))
    assert location == "source" and error is not None and "the limit is 1,000" in error


def test_expand_inputs_globs_urls_order_and_exclusions(tmp_path: Path) -> None:
    for name in ("b.jsonl", "a.jsonl", "c.csv"):
        write_jsonl(tmp_path / name, [article(0)])
    (tmp_path / "sub").mkdir()
    write_jsonl(tmp_path / "sub" / "d.jsonl", [article(1)])
    url = "https://feeds.example/rss.xml"
    names = expand_inputs([str(tmp_path / "c.csv"), str(tmp_path / "**" / "*.jsonl"), url, str(tmp_path / "a.jsonl")],
                          exclude=[tmp_path / "b.jsonl"])  # fmt: skip
    assert names == [str(tmp_path / "c.csv"), str(tmp_path / "a.jsonl"), str(tmp_path / "sub" / "d.jsonl"), url]
    with pytest.raises(InputError, match="no file matches"):
        expand_inputs([str(tmp_path / "*.parquet")])
    with pytest.raises(InputError, match="no such file"):
        expand_inputs([str(tmp_path / "missing.jsonl")])


def test_detect_format_by_extension_then_content(tmp_path: Path) -> None:
    sniffed = {"feed": rss2(entries(1)), "jsonl": b'{"text": "x"}\n', "csv": b"text,title\nx,y\n"}
    for expected, data in sniffed.items():
        path = tmp_path / f"noext-{expected}"
        path.write_bytes(data)
        assert detect_format(str(path)) == expected
    pq.write_table(pa.table({"text": ["x"]}), tmp_path / "noext-parquet")
    assert detect_format(str(tmp_path / "noext-parquet")) == "parquet"
    assert detect_format("https://example.org/news") == "feed"
    assert [detect_format(f"x{ext}") for ext in (".ndjson", ".tsv", ".pq", ".atom", ".rdf")] == [
        "jsonl",
        "tsv",
        "parquet",
        "feed",
        "feed",
    ]
