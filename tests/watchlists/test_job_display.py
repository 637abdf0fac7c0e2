"""How times and job links are written into rows."""

from datetime import UTC, datetime

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

from jobsite.watchlists.models import Watchlist
from jobsite.watchlists.templatetags.job_display import clock_time, job_url

JOB = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize("name", ["watchlist_job", "watchlist_job_label", "watchlist_job_output"])
def test_job_url_is_what_reverse_gives(name):
    watchlist = Watchlist(pk=7)
    assert job_url(name, watchlist, JOB) == reverse(name, args=[7, JOB])
    other = "6e1a3c1e-3b2f-4c1e-9a57-0d1b2c3d4e5f"
    assert job_url(name, watchlist, other) == reverse(name, args=[7, other])  # the pattern, reused


def test_job_url_follows_the_script_prefix_of_each_request():
    set_script_prefix("/jobsite/")
    try:
        assert job_url("watchlist_job", Watchlist(pk=7), JOB) == f"/jobsite/watchlists/7/jobs/{JOB}/"
    finally:
        clear_script_prefix()
    assert job_url("watchlist_job", Watchlist(pk=7), JOB) == f"/watchlists/7/jobs/{JOB}/"


def test_clock_time_shows_the_sites_time_and_the_whole_date_on_hover(settings):
    settings.TIME_ZONE = "Europe/Paris"
    html = clock_time(datetime(2026, 11, 29, 23, 30, 5, tzinfo=UTC))
    assert html == ('<time datetime="2026-11-30T00:30:05+01:00" title="2026-11-30 00:30:05 CET">00:30:05</time>')


def test_clock_time_marks_a_live_time_for_the_updated_ago_counter():
    html = clock_time(datetime(2026, 11, 29, 4, 0, tzinfo=UTC), live=True)
    assert html.startswith("<time data-live datetime=")
