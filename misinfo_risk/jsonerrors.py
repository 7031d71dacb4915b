"""What is wrong with a JSON document that failed to parse, in words that point at the problem.

orjson reports any byte sequence that is not UTF-8 as "str is not valid UTF-8: surrogates not allowed" at
line 1, column 1 (char 0), wherever the bad byte is and whatever it is (a Latin-1 "é", a lone continuation
byte); that sends the reader to the wrong place and the wrong cause. These helpers find the byte instead.
"""

from __future__ import annotations

import json
from typing import Any


def utf8_problem(data: bytes) -> str | None:
    """Where and why `data` is not UTF-8 (positions count bytes from 1), or None if it is.

    >>> utf8_problem(b'{"text": "caf\\xe9"}')
    'not UTF-8: byte 0xe9 at byte 14 (invalid continuation byte); send the text as UTF-8'
    >>> utf8_problem(b'{"text": "caf\\xc3\\xa9"}') is None
    True
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8: byte 0x{data[exc.start]:02x} at byte {exc.start + 1:,} ({exc.reason}); send the text as UTF-8"
    return None


def json_problem(data: bytes, exc: json.JSONDecodeError, *, one_line: bool) -> str:
    """Why `data` (a whole body, or `one_line` of a JSON Lines file or NDJSON stream) is not JSON.

    For one line the position is "at character N" (from 1): the exception's own "line 1" / "line 2" counts
    lines of that one item (the second being its line end), not of the file or request it came from.
    """
    return utf8_problem(data) or (f"{exc.msg} at character {exc.pos + 1:,}" if one_line else str(exc))


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages to clients who sent JSON (not "NoneType", "dict").

    >>> [json_type(v) for v in (None, True, 3, 2.5, "a", [1], {"a": 1})]
    ['null', 'boolean', 'number', 'number', 'string', 'array', 'object']
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
