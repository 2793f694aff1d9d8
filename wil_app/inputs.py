"""The one gate of every page input: what a link, an uploaded file or the ``WIL_POLICY`` environment brings
is read here into a value or a visible, quoted message, never an exception.

Every reader of the page's inputs (``state`` for links, ``workshop`` for ``?quiz=``/``?tour=``, ``tabs``
for ``?tab=``, ``upload`` for CSV files, ``tabs/share`` for JSON configurations, ``policy`` for
``WIL_POLICY``) goes through these helpers:

- ``read_json_object``: JSON text refused by its declared size and its nesting depth before it is parsed
  (a scan of the brackets, no recursion), integers of more than ``MAX_DIGITS`` digits refused, a UTF-8
  byte-order mark accepted, and anything but an object refused;
- ``whole_number``: a small whole number in a range, from ASCII digits only, its length checked before
  ``int`` (which refuses more than 4,300 digits with an exception);
- ``pick_name``: a name among a few (a tab's title), matched leniently (case, spaces and punctuation);
- ``never_raises``: the last line of defence around a whole reader: an unforeseen exception becomes the
  reader's fallback and a message naming what could not be read, so a page still shows.

Messages quote what was received through ``wil_app.text.quoted`` (short, printable ASCII).
"""

from __future__ import annotations

import json
import re
from typing import Callable, TypeVar

from .text import quoted

T = TypeVar("T")

MAX_DIGITS = 30  # digits of an integer in JSON: every budget and field is far below 10**30
STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')  # JSON strings, whose brackets do not nest
BOM = b"\xef\xbb\xbf"


class InputError(ValueError):
    """An input refused, with the message the page shows."""


def nesting_depth(data: bytes) -> int:
    """How deep ``data``'s JSON arrays and objects nest (strings left out), without parsing it."""
    depth = deepest = 0
    for match in re.finditer(rb"[\[\]{}]", STRINGS.sub(b'""', data)):
        depth += 1 if match.group() in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest


def _bounded_int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > MAX_DIGITS:
        raise InputError(f"an integer of {len(digits):,} digits (at most {MAX_DIGITS} are read)")
    return int(text)


def read_json_object(data: bytes | str, what: str, max_bytes: int, max_depth: int) -> dict:
    """The JSON object in ``data`` (``what`` names it in messages), or ``InputError`` with the reason.

    Refused before parsing: more than ``max_bytes`` bytes, arrays and objects nested deeper than
    ``max_depth``. A UTF-8 byte-order mark before the JSON is accepted."""
    data = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if len(data) > max_bytes:
        raise InputError(f"{what} has {len(data):,} bytes, more than the {max_bytes:,} it may have")
    data = data.removeprefix(BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{what} is not UTF-8 text (byte {error.start:,} is {data[error.start]:#04x})") from None
    depth = nesting_depth(data)
    if depth > max_depth:
        raise InputError(f"{what} nests {depth:,} levels deep; a configuration nests at most {max_depth}")
    try:
        document = json.loads(text, parse_int=_bounded_int)
    except InputError as error:
        raise InputError(f"{what} holds {error}") from None
    except (ValueError, RecursionError) as error:
        raise InputError(f"{what} is not JSON ({str(error)[:120]})") from None
    if not isinstance(document, dict):
        raise InputError(f"{what} must be a JSON object {{...}}, got {json_kind(document)}")
    return document


def json_kind(value: object) -> str:
    """What a JSON value is, in words (for a message)."""
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "true/false", int: "a number",
             float: "a number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def whole_number(raw: object, low: int, high: int) -> int | None:
    """``raw`` (a URL's text) as a whole number in [low, high], or None: ASCII digits only, and only as
    many as ``high`` has (so ``int`` never sees thousands of digits)."""
    text = str(raw).strip() if raw is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > len(str(high)):
        return None
    value = int(text)
    return value if low <= value <= high else None


def squashed(text: str) -> str:
    """``text`` in lower case with everything but letters and digits left out (for lenient matching)."""
    return "".join(char for char in text.casefold() if char.isalnum())


def pick_name(raw: object, names: list[str]) -> str | None:
    """The one of ``names`` that ``raw`` names: exactly, or ignoring case, spaces and punctuation, or as the
    start of a single name (``Share`` for ``Share & export``, what a link with an unencoded ``&`` keeps);
    None if none or several match."""
    text = str(raw) if raw is not None else ""
    if text in names:
        return text
    wanted = squashed(text[:200])
    if len(wanted) < 3:
        return None
    same = [name for name in names if squashed(name) == wanted]
    if len(same) == 1:
        return same[0]
    starting = [name for name in names if squashed(name).startswith(wanted)]
    return starting[0] if len(starting) == 1 else None


def last_value(key: str, raw: object, problems: list[str]) -> str | None:
    """A URL key's value (the last if the key was repeated, which ``problems`` is told)."""
    if isinstance(raw, (list, tuple)):
        if not raw:
            return None
        problems.append(f"{key} was given {len(raw)} times; using the last")
        raw = raw[-1]
    return None if raw is None else str(raw)


def never_raises(read: Callable[[], tuple[T, list[str]]], fallback: Callable[[], T],
                 what: str) -> tuple[T, list[str]]:
    """``read()``, a value and its problems; or, if it raises anything, ``fallback()`` and a message
    naming ``what`` could not be read: the page shows a message instead of an exception."""
    try:
        return read()
    except Exception as error:  # the last line of defence: every page input gives a value or a message
        return fallback(), [f"{what} could not be read ({type(error).__name__}: {quoted(error, 120)}); "
                            "using the default"]
