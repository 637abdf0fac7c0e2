"""Hypothesis strategies for hostile statuses answers, written as raw JSON text: what JSON allows
or Python's parser accepts, and what no database or page should choke on."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from jobsite.upstream.answers import MAX_OUTPUT_BYTES, MAX_OUTPUT_DEPTH, OUTPUT_CUT_MARK
from jobsite.upstream.states import MAX_STATE_LENGTH, STATES
from tests.upstream.fakes import job_id

EXAMPLES = 150  # per property: enough to meet every kind of value many times, quick enough to run always
# No example database: a failure prints its example, and every run starts afresh.
hostile_settings = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Escapes and characters, in a JSON string, that some database refuses, or that look as if.
AWKWARD = [
    *["\\u0000", "\\udfff", "\\uDFFF", "\\ud800", "\\ud83d\\ude00", "\\ud83d", "\\udc00\\ud800"],
    *["\\\\", "\\\\u0000", '\\"', "\\n", "\\u2028", "é", "😀"],
    *["\x00", "\x07"],  # raw control characters: JSON forbids them, jobsite reads them anyway
]
ODD_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "-0", "9" * 5000, "-" + "7" * 4400]


def _string(pieces: list[str]) -> str:
    return '"' + "".join(pieces) + '"'


strings = st.lists(
    st.one_of(st.text(max_size=8).map(lambda text: json.dumps(text)[1:-1]), st.sampled_from(AWKWARD)), max_size=6
).map(_string)
numbers = st.one_of(
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(ODD_NUMBERS),
)
scalars = st.one_of(st.sampled_from(["null", "true", "false"]), numbers, strings)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(strings, children), max_size=4).map(
            lambda members: "{" + ",".join(f"{key}: {value}" for key, value in members) + "}"
        ),
    ),
    max_leaves=12,
)


def nested(levels: int) -> str:
    """Objects and lists in turn, `levels` deep: {"a": [{"a": [...]}]}."""
    opening = "".join('{"a": ' if level % 2 == 0 else "[" for level in range(levels))
    closing = "".join("}" if level % 2 == 0 else "]" for level in reversed(range(levels)))
    return opening + "1" + closing


# Rare on purpose: each costs a few milliseconds to a few hundred.
HUGE = [
    nested(MAX_OUTPUT_DEPTH + 5),
    nested(300),
    nested(5000),  # deeper than the decoder goes
    "[" * 5000 + "]" * 5000,
    json.dumps("x" * (MAX_OUTPUT_BYTES + 10)),
    json.dumps({"rows": ["é" * 1000] * 600}),  # over the cap in UTF-8, not in characters
]
huge = st.sampled_from(HUGE)
outputs = st.one_of(values, values, values, values, values, values, values, huge)
states = st.one_of(
    st.sampled_from(STATES).map(json.dumps),
    st.sampled_from(STATES).map(lambda state: json.dumps([state])),
    strings,
    st.text(min_size=MAX_STATE_LENGTH + 1, max_size=MAX_STATE_LENGTH + 40).map(json.dumps),
    st.lists(strings, max_size=3).map(lambda items: "[" + ",".join(items) + "]"),
    values,
)


@st.composite
def entries(draw: st.DrawFn) -> str:
    """A job's entry: most often an object with some of state, output and extra fields, else
    anything at all (null, a list, a string, a number, nesting too deep to decode)."""
    if draw(st.integers(0, 3)) == 0:
        return draw(st.one_of(values, huge))
    members = []
    if draw(st.booleans()):
        members.append(f'"state": {draw(states)}')
    if draw(st.booleans()):
        members.append(f'"output": {draw(outputs)}')
    members.extend(f"{key}: {value}" for key, value in draw(st.lists(st.tuples(strings, values), max_size=2)))
    return "{" + ", ".join(draw(st.permutations(members))) + "}"


CONTROL = job_id(999)  # a well-formed entry in every answer: it must always be stored
CONTROL_ENTRY = json.dumps({"id": CONTROL, "state": "completed", "output": {"ok": True}})


@dataclass(frozen=True)
class HostileAnswer:
    asked: list[str]  # job IDs, the control job included
    body: bytes


@st.composite
def answers(draw: st.DrawFn) -> HostileAnswer:
    """An answer object about up to four jobs and the control job, keys maybe upper-cased, with
    junk keys beside them, in any order, spaced any way."""
    asked = [job_id(number) for number in range(draw(st.integers(1, 4)))]
    members = [(CONTROL, CONTROL_ENTRY)]
    members += [(key.upper() if draw(st.booleans()) else key, draw(entries())) for key in asked]
    members += draw(st.lists(st.tuples(strings.map(lambda text: text[1:-1]), values), max_size=2))
    space = draw(st.sampled_from(["", " ", "\n  ", "\t"]))
    text = "{" + space + f",{space}".join(f'"{key}":{space}{value}' for key, value in draw(st.permutations(members)))
    return HostileAnswer(asked=[*asked, CONTROL], body=(text + space + "}").encode())


def depth(value: Any) -> int:
    """Levels of lists and objects in `value`, counted without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def assert_storable(state: str | None, output: Any) -> None:
    """What both databases store and a page renders: checked the way they would fail."""
    assert state is None or (0 < len(state) <= MAX_STATE_LENGTH and not UNSTORABLE.search(state))
    text = json.dumps(output, allow_nan=False, ensure_ascii=False)  # no NaN or Infinity left
    assert not UNSTORABLE.search(text)  # keys and strings: no NUL, no lone surrogate
    text.encode()  # as a page would
    assert depth(output) <= MAX_OUTPUT_DEPTH
    size = len(output.encode()) if isinstance(output, str) else len(text.encode())
    assert size <= MAX_OUTPUT_BYTES + len(OUTPUT_CUT_MARK.encode())
