"""Whatever a URL carries, no page answers 500.

Every GET view is fuzzed as the watchlist's owner with hypothesis: the parameters the views read
(`state`, `q`, `sort`, `page`, `since`) and one they don't, each given anything from junk
percent-escapes (`%00`, `%ff`) to numbers of thousands of digits and strings of 10,000 characters.
JobFilter.from_params and Cursor.parse are where those values are read; their own tests follow.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from django.http import QueryDict
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jobsite.watchlists.filters import MAX_PAGE, MAX_QUERY, SORTS, JobFilter
from jobsite.watchlists.live import Cursor
from jobsite.watchlists.selectors import SUMMARY_STATES

from .conftest import new_ids

FUZZ = settings(
    deadline=None,
    database=None,  # no examples kept from run to run: each run explores afresh
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Every GET view, with its number of examples: more for those that read parameters than for those
# that must merely ignore them.
READS_PARAMETERS = 100
IGNORES_PARAMETERS = 50
GET_VIEWS = {
    "home": IGNORES_PARAMETERS,
    "watchlist_new": IGNORES_PARAMETERS,
    "watchlist": READS_PARAMETERS,
    "watchlist_live": READS_PARAMETERS,
    "watchlist_export_csv": READS_PARAMETERS,
    "watchlist_export_json": READS_PARAMETERS,
    "watchlist_edit": IGNORES_PARAMETERS,
    "watchlist_delete": IGNORES_PARAMETERS,
    "watchlist_job": IGNORES_PARAMETERS,
    "watchlist_job_live": IGNORES_PARAMETERS,
    "watchlist_job_output": IGNORES_PARAMETERS,
}
NOT_OF_A_WATCHLIST = {"home", "watchlist_new"}
OF_A_JOB = {"watchlist_job", "watchlist_job_live", "watchlist_job_output"}

JUNK_ESCAPES = ["%00", "%ff", "%", "%zz", "%c3", "%ed%a0%80", "%f0%28%8c", "%0d%0a", "%7C", "%26", "%3D", "%2B"]
JUNK_RAW = ["+", "=", "&", ";", "|", "#", "-", ":", ".", "T", "0", "9", "é"]
# Sent as they are: broken escapes, separators, bits of numbers and dates.
raw_values = st.lists(st.sampled_from(JUNK_ESCAPES + JUNK_RAW), max_size=12).map("".join)
# Any character (surrogates cannot travel in a URL), escaped as a browser would.
text_values = st.text(st.characters(codec="utf-8"), max_size=40).map(lambda s: quote(s, safe=""))
number_values = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["0", "-1", "1e9", "1_000", "٣", "²", "0x10", " 7 ", "9" * 5000]),
)
long_values = st.sampled_from(["x", "%00", "9", "é", "|", "%ff", "-"]).map(lambda s: s * 10_000)
word_values = st.sampled_from([*SUMMARY_STATES, *SORTS, "FAILED", "active ", "everything"])
cursor_values = st.tuples(st.text(max_size=10), number_values, raw_values | text_values).map(
    lambda parts: quote("|".join(parts), safe="|")
)
values = st.one_of(raw_values, text_values, number_values, long_values, word_values, cursor_values)
params = st.fixed_dictionaries(
    {"q": values, "sort": values, "page": values, "since": values, "unasked": values},
    optional={"state": st.lists(values, max_size=4)},
)


def query_string(drawn: dict) -> str:
    pairs = [(key, value) for key, value in drawn.items() if key != "state"]
    pairs += [("state", value) for value in drawn.get("state", [])]
    return "&".join(f"{key}={value}" for key, value in pairs)


def answer(client, url: str):
    """The response, streamed content read (a CSV export only runs its query as it streams)."""
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)
    return response


@pytest.fixture
def watchlist(make_watchlist):
    watchlist = make_watchlist(new_ids(3))
    watchlist.jobs.update(label="Snowflake sync")
    return watchlist


def view_url(name: str, watchlist) -> str:
    if name in NOT_OF_A_WATCHLIST:
        return reverse(name)
    if name in OF_A_JOB:
        return reverse(name, args=[watchlist.pk, watchlist.jobs.first().status.job_id])
    return reverse(name, args=[watchlist.pk])


@pytest.mark.parametrize("name", GET_VIEWS)
def test_no_url_parameter_makes_a_get_view_fail(owner_client, watchlist, name):
    url = view_url(name, watchlist)

    @settings(FUZZ, max_examples=GET_VIEWS[name])
    @given(drawn=params)
    @example(drawn={"q": "%00", "sort": "", "page": "9" * 5000, "since": "", "unasked": ""})
    @example(
        drawn={"q": "a%00b", "sort": "state", "page": str(10**30), "since": "x|1|2024-13-45T00:00:00", "unasked": ""}
    )
    @example(drawn={"q": "x" * 10_000, "sort": "x", "page": "-5", "since": "%ff", "unasked": "%ff", "state": ["%00"]})
    def fuzz(drawn):
        response = answer(owner_client, f"{url}?{query_string(drawn)}")
        assert response.status_code < 500, query_string(drawn)[:500]

    fuzz()


# A real cursor's fingerprint with a forged revision and render time: the refresh then compares
# revisions and reads rows revised since that time, the path a random string never reaches.
rendered_values = st.one_of(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.integers(min_value=-23 * 60, max_value=23 * 60).map(
            lambda minutes: timezone(timedelta(minutes=minutes))
        ),
    ).map(datetime.isoformat),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+05:00",
            "0001-01-01T00:00:01+00:00",
            "9999-12-31T23:59:59-05:00",
            "2024-02-30T00:00:00Z",
            "2024-01-01T25:00:00Z",
            "2024-01-01T00:00:00+99:00",
            "2024-01-01T00:00:00",
            "",
        ]
    ),
    raw_values,
)


def test_no_forged_cursor_makes_the_refresh_fail(owner_client, watchlist):
    url = reverse("watchlist_live", args=[watchlist.pk])
    since = re.search(r'name="since" value="([^"]+)"', owner_client.get(url).content.decode()).group(1)
    fingerprint = html.unescape(since).rsplit("|", 2)[0]

    @settings(FUZZ, max_examples=READS_PARAMETERS)
    @given(revision=number_values, rendered=rendered_values)
    @example(revision="5", rendered="0001-01-01T00:00:00+05:00")
    @example(revision="5", rendered="9999-12-31T23:59:59-05:00")
    @example(revision="²", rendered=datetime.now(UTC).isoformat())
    def fuzz(revision, rendered):
        response = owner_client.get(url, {"since": f"{fingerprint}|{revision}|{rendered}"})
        assert response.status_code < 500

    fuzz()


@pytest.mark.parametrize(
    "path",
    [
        "/watchlists/99999999999999999999999999/",
        "/watchlists/99999999999999999999999999/live/",
        "/watchlists/9223372036854775808/export.csv",
        "/watchlists/{pk}/jobs/00000000-0000-0000-0000-000000000000/",
        "/watchlists/{pk}/jobs/00000000-0000-0000-0000-000000000000/live/",
    ],
)
def test_it_answers_404_for_an_out_of_range_or_unknown_key(owner_client, watchlist, path):
    assert answer(owner_client, path.format(pk=watchlist.pk)).status_code == 404


def parsed(query: str) -> JobFilter:
    return JobFilter.from_params(QueryDict(query))


@pytest.mark.parametrize(
    ("value", "page"),
    [("", 1), ("0", 1), ("-3", 1), ("abc", 1), ("2", 2), (" 4 ", 4), ("9" * 5000, 1), (str(10**30), MAX_PAGE)],
)
def test_the_filter_reads_any_page_as_one_from_1_to_its_maximum(value, page):
    assert parsed(f"page={quote(value)}").page == page


def test_the_filter_drops_control_characters_from_a_search_and_cuts_it():
    assert parsed("q=%00snow%09flake%7f%0a").query == "snowflake"
    assert len(parsed("q=" + "x" * 10_000).query) == MAX_QUERY


def test_the_filter_ignores_states_and_sorts_it_does_not_know():
    job_filter = parsed("state=failed&state=FAILED&state=%00&state=bogus&sort=%ff")
    assert (job_filter.states, job_filter.sort) == (("failed",), "added")


@pytest.mark.parametrize(
    "since",
    [
        "",
        "no bars",
        "fp|²|2024-01-01T00:00:00+00:00",
        "fp|-1|2024-01-01T00:00:00+00:00",
        "fp|" + "9" * 5000 + "|2024-01-01T00:00:00+00:00",
        "fp|1|2024-02-30T00:00:00+00:00",
        "fp|1|2024-01-01T00:00:00",
        "fp|1|0001-01-01T00:00:00+05:00",
        "fp|1|9999-12-31T23:59:59-05:00",
        "fp|1|1999-12-31T23:59:59+00:00",
    ],
)
def test_the_cursor_parser_refuses_what_the_site_never_rendered(since):
    assert Cursor.parse(since) is None


def test_the_cursor_parser_reads_what_the_site_renders():
    rendered = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert Cursor.parse(str(Cursor("1.5:ok:q=a%7Cb", 42, rendered))) == Cursor("1.5:ok:q=a%7Cb", 42, rendered)


def test_a_page_past_the_last_shows_the_last(owner_client, watchlist, monkeypatch):
    monkeypatch.setattr("jobsite.watchlists.live.PAGE_SIZE", 2)
    page = owner_client.get(reverse("watchlist", args=[watchlist.pk]), {"page": "99"}).content.decode()
    assert page.count('<tr id="job-') == 1
    assert '<b aria-current="page">2</b>' in page
    assert "?page=2" in page  # the refresh asks for the page shown


def test_a_search_with_a_nul_finds_what_it_would_without(owner_client, watchlist):
    page = owner_client.get(reverse("watchlist", args=[watchlist.pk]), {"q": "snow\x00flake"}).content.decode()
    assert page.count('<tr id="job-') == 3
