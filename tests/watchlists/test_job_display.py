"""How times and job links are written into rows."""

from datetime import UTC, datetime

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix
from django.utils import timezone

from jobsite.watchlists.templatetags.job_display import clock_time, job_url

JOB = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize("name", ["watchlist_job", "watchlist_job_label", "watchlist_job_output"])
def test_job_url_is_what_reverse_gives(name):
    assert job_url(name, 7, JOB) == reverse(name, args=[7, JOB])
    assert job_url(name, 8, JOB) == reverse(name, args=[8, JOB])


def test_job_url_follows_the_script_prefix():
    set_script_prefix("/jobsite/")
    try:
        assert job_url("watchlist_job", 7, JOB) == f"/jobsite/watchlists/7/jobs/{JOB}/"
    finally:
        clear_script_prefix()
    assert job_url("watchlist_job", 7, JOB) == f"/watchlists/7/jobs/{JOB}/"


def test_clock_time_shows_the_local_time_and_the_whole_date_on_hover():
    moment = datetime(2026, 11, 29, 23, 30, 5, tzinfo=UTC)
    with timezone.override("Europe/Paris"):
        html = clock_time(moment)
    assert html == (
        '<time datetime="2026-11-30T00:30:05+01:00" title="2026-11-30 00:30:05 CET">00:30:05</time>'
    )


def test_clock_time_marks_a_live_time_for_the_updated_ago_counter():
    html = clock_time(datetime(2026, 11, 29, 4, 0, tzinfo=UTC), live=True)
    assert html.startswith("<time data-live datetime=")
