"""The validation boundary for upstream answers: bytes in, job entries both databases store out.

JSON allows, or Python's parser accepts, values that SQLite or PostgreSQL refuse or that break a
page later: NaN and Infinity, NUL characters, lone surrogates, integers too long to read back,
nesting deep enough to exhaust the stack, outputs of any size. `read_statuses` gives every
requested job's entry either as readable, cleaned and bounded:

- strings (keys included) with NUL and lone surrogates replaced by U+FFFD;
- NaN, Infinity, -Infinity, numbers that overflow a float and integers longer than Python reads
  back, as the text upstream sent;
- a state cut to fit its column (`states.fit_state`), shown as unknown;
- an output at most `MAX_OUTPUT_DEPTH` levels deep (deeper lists and objects replaced by
  `DEPTH_CUT_MARK`) and at most `MAX_OUTPUT_BYTES` (else its text, cut, ending in `OUTPUT_CUT_MARK`);

or, when the entry is not an object or is nested too deep to decode, as an unreadable entry
(`states.unreadable`), so one odd job never costs the others of its answer their update. Only an
answer that is not a JSON object as a whole is unreadable as a whole.

The work is done on the text, with regular expressions, wherever it can be: a walk over decoded
values in Python costs microseconds a value, and an answer may hold millions.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from jobsite.upstream import states

MAX_OUTPUT_BYTES = 1024 * 1024  # of an output's text (the string, or its JSON) in UTF-8
MAX_OUTPUT_DEPTH = 64  # levels of lists and objects an output keeps
OUTPUT_CUT_MARK = "…[cut at 1 MB by jobsite]"
DEPTH_CUT_MARK = f"…[nested deeper than {MAX_OUTPUT_DEPTH} levels, cut by jobsite]"

# What becomes a character no database stores: PostgreSQL refuses NUL in text and jsonb, and
# neither database takes a lone surrogate. Matched in the JSON text before decoding, with the
# escapes that must stay as they are: an escaped backslash (the "u0000" after it is plain text)
# and a surrogate pair (one character once decoded).
_UNSTORABLE = re.compile(
    r"\\\\"
    r"|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    r"|\\u0000|\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\x00"
)
# Integers longer than this are refused when the stored JSON is read back (CVE-2020-10735 limit).
_MAX_INT_DIGITS = sys.int_info.default_max_str_digits
_SPACE = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
# Strings, and runs of opening or closing brackets: enough to find where a nested value ends.
_STRING_OR_BRACKETS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]+|[\]}]+')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(r"\[\]|\{\}")
_TOO_DEEP = object()  # stands for a value the decoder gave up on (RecursionError)


class Unreadable(ValueError):
    """The answer as a whole cannot be read; the message says why, in a few words."""


@dataclass(frozen=True)
class ReportedJob:
    id: str
    # A string (maybe not one of the seven: the caller shows it as unknown) or None if unreadable.
    state: str | None
    output: Any  # a string, None or any JSON value, cleaned and bounded


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {dict: "object", list: "list", str: "string", type(None): "null"}.get(type(value), "value")


def decode_object(body: bytes) -> dict[str, Any]:
    """A JSON object, decoded and cleaned as `read_statuses` does; raises Unreadable otherwise."""
    value = _decode(_text(body))
    if not isinstance(value, dict):
        raise Unreadable(f"it is a JSON {json_type(value)}, not an object")
    return value


def read_statuses(body: bytes, requested: Collection[str]) -> dict[str, ReportedJob]:
    """The requested jobs an answer reports, by lower-case ID. A `null` or missing entry means
    not found; keys not requested are ignored. Raises Unreadable if the answer is no JSON object."""
    entries: dict[str, Any] = {}
    try:
        for key, value in _members(_text(body)):
            entries[key.lower()] = value  # the last of repeated keys wins, as in json.loads
    except json.JSONDecodeError:
        raise Unreadable("it is not JSON") from None
    return {
        job_id: _read_entry(job_id, entry)
        for job_id, entry in entries.items()
        if job_id in requested and entry is not None
    }


def _read_entry(job_id: str, entry: Any) -> ReportedJob:
    if entry is _TOO_DEEP:
        return ReportedJob(id=job_id, state=states.unreadable("nested too deep to read"), output=None)
    if not isinstance(entry, dict):
        why = f"a {json_type(entry)}, not an object or null"
        return ReportedJob(id=job_id, state=states.unreadable(why), output=None)
    return ReportedJob(
        id=job_id,
        state=states.normalize_state(entry.get("state")),
        output=_bounded(entry.get("output")),
    )


def _bounded(output: Any) -> Any:
    """`output` at most `MAX_OUTPUT_DEPTH` levels deep and `MAX_OUTPUT_BYTES` large."""
    if output is None or isinstance(output, bool | int | float):
        return output
    if isinstance(output, str):
        encoded = output.encode()
    else:
        try:
            text = json.dumps(output, ensure_ascii=False)
        except RecursionError:  # as deep as the decoder goes: far too deep
            text = None
        if text is None or _deeper_than(text, MAX_OUTPUT_DEPTH):
            output = _cut_deep(output)
            text = json.dumps(output, ensure_ascii=False)
        encoded = text.encode()
    if len(encoded) <= MAX_OUTPUT_BYTES:
        return output
    if not isinstance(output, str):  # cut as a page shows it, pretty-printed
        encoded = json.dumps(output, indent=2, ensure_ascii=False, sort_keys=True).encode()
    return encoded[:MAX_OUTPUT_BYTES].decode(errors="ignore") + OUTPUT_CUT_MARK


def _text(body: bytes) -> str:
    """The body as text that decodes to storable strings only. It is read in the encoding JSON
    detection finds (UTF-8, 16 or 32); a byte that is not valid there becomes U+FFFD rather than
    costing every job of the answer, and so does every NUL and lone surrogate."""
    text = body.decode(json.detect_encoding(body), errors="replace")
    return _UNSTORABLE.sub(_storable, text)


def _storable(match: re.Match[str]) -> str:
    unstorable = match.group()
    if unstorable == "\\\\" or len(unstorable) == 12:  # an escaped backslash, a surrogate pair
        return unstorable
    return "\\ufffd" if unstorable.startswith("\\") else "\ufffd"


def _number(text: str) -> float | str:
    number = float(text)
    return number if math.isfinite(number) else text  # 1e400 overflows to infinity


def _integer(text: str) -> int | str:
    return int(text) if len(text) <= _MAX_INT_DIGITS else text


def _decoder() -> json.JSONDecoder:
    """A decoder that turns non-finite and unreadably long numbers into their text, and takes
    control characters in strings as they come. A new one per answer, since a decoder's scanner
    keeps a memo that threads must not share."""
    return json.JSONDecoder(parse_float=_number, parse_int=_integer, parse_constant=str, strict=False)


def _decode(text: str) -> Any:
    try:
        return _decoder().decode(text)
    except RecursionError:
        raise Unreadable("it is nested too deep to read") from None
    except json.JSONDecodeError:
        raise Unreadable("it is not JSON") from None


def _members(text: str) -> Iterator[tuple[str, Any]]:
    """The members of the JSON object `text`, each value decoded on its own, so that one too
    deep for the decoder (`_TOO_DEEP`) costs only its own entry."""
    decoder = _decoder()
    position = _skip_space(text, 0)
    if not text.startswith("{", position):
        raise Unreadable(f"it is a JSON {json_type(_decode(text))}, not an object")
    position = _skip_space(text, position + 1)
    if text.startswith("}", position):
        position += 1
    else:
        while True:
            if not text.startswith('"', position):
                raise Unreadable("it is not JSON")
            key, position = decoder.raw_decode(text, position)  # a string, as it starts with a quote
            position = _skip_space(text, position)
            if not text.startswith(":", position):
                raise Unreadable("it is not JSON")
            position = _skip_space(text, position + 1)
            try:
                value, position = decoder.raw_decode(text, position)
            except RecursionError:
                value, position = _TOO_DEEP, _end_of_nested(text, position)
            yield key, value
            position = _skip_space(text, position)
            if text.startswith("}", position):
                position += 1
                break
            if not text.startswith(",", position):
                raise Unreadable("it is not JSON")
            position = _skip_space(text, position + 1)
    if _skip_space(text, position) != len(text):
        raise Unreadable("it is not JSON")


def _skip_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    return match.end() if match else position


def _end_of_nested(text: str, start: int) -> int:
    """Where the list or object at `start` ends, found without recursion."""
    depth = 0
    for match in _STRING_OR_BRACKETS.finditer(text, start):
        token = match.group()
        if token[0] == '"':
            continue
        if token[0] in "[{":
            depth += len(token)
        elif len(token) >= depth:
            return match.start() + depth
        else:
            depth -= len(token)
    raise Unreadable("it is not JSON")


def _deeper_than(text: str, levels: int) -> bool:
    """Whether the JSON `text` nests lists and objects more than `levels` deep: its brackets
    alone, stripped of the innermost pairs once per level."""
    brackets = _NOT_BRACKETS.sub("", _STRING.sub("", text))
    for _level in range(levels):
        if not brackets:
            return False
        brackets = _INNERMOST_PAIR.sub("", brackets)
    return bool(brackets)


def _cut_deep(value: dict | list) -> Any:
    """A copy of `value` with lists and objects deeper than `MAX_OUTPUT_DEPTH` replaced by
    `DEPTH_CUT_MARK`. It walks with a list, not recursion: the decoder goes deeper than a
    recursive walk could."""
    root = _empty_like(value)
    pending: list[tuple[Any, Any, int]] = [(value, root, 1)]
    while pending:
        source, copy, depth = pending.pop()
        if isinstance(source, dict):
            for key, item in source.items():
                copy[key] = _copy_child(item, depth, pending)
        else:
            copy.extend(_copy_child(item, depth, pending) for item in source)
    return root


def _copy_child(item: Any, depth: int, pending: list[tuple[Any, Any, int]]) -> Any:
    """A member of a list or object at `depth`: a list or object is copied later, from `pending`."""
    if not isinstance(item, dict | list):
        return item
    if depth >= MAX_OUTPUT_DEPTH:
        return DEPTH_CUT_MARK
    child = _empty_like(item)
    pending.append((item, child, depth + 1))
    return child


def _empty_like(value: dict | list) -> Any:
    return {} if isinstance(value, dict) else []
