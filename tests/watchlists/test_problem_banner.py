"""How an upstream outage is worded: since when it fails, when jobsite tries again (a countdown the
page's script ticks, hidden from screen readers), and on home which watchlists it affects."""

from datetime import UTC, datetime, timedelta

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from jobsite.statuses.health import Problem
from jobsite.watchlists import services
from jobsite.watchlists.models import Watchlist
from jobsite.watchlists.selectors import EMPTY
from jobsite.watchlists.templatetags.job_display import outages


def problem(*, retry_at: datetime | None = None) -> Problem:
    return Problem(
        kind="upstream_error",
        message="“Production” answered with an error (HTTP 500).",
        failures=3,
        failing_since=datetime(2026, 11, 29, 14, 2, 33, tzinfo=UTC),
        retry_at=retry_at or timezone.now() + timedelta(seconds=12.2),
    )


def banner(**context) -> str:
    return " ".join(render_to_string("watchlists/_problem.html", context).split())


def test_a_polling_page_says_since_when_and_counts_down_to_the_next_try(settings):
    settings.TIME_ZONE = "UTC"
    html = banner(problem=problem(), polling=True)
    assert 'role="alert" data-error-kind="upstream_error"' in html
    assert "<strong>Live updates are failing</strong> since <time " in html
    assert 'datetime="2026-11-29T14:02:33+00:00"' in html and ">14:02</time>." in html
    assert '<span class="retry-in" data-retry-in="12"' in html and 'aria-hidden="true">in 12 s</span>' in html
    assert '<span class="sr-only">shortly</span>' in html


def test_a_try_that_is_due_says_now():
    assert 'aria-hidden="true">now</span>' in banner(problem=problem(retry_at=timezone.now()), polling=True)


def test_a_page_that_does_not_poll_says_since_when_without_a_countdown(settings):
    settings.TIME_ZONE = "UTC"
    html = banner(problem=problem())
    assert "<strong>Failing since <time " in html and "14:02</time>.</strong>" in html
    assert "data-retry-in" not in html


def test_the_quiet_note_says_since_when_too(settings):
    settings.TIME_ZONE = "UTC"
    html = banner(problem=problem(), quiet=True)
    assert 'role="alert"' not in html
    assert "(failing since <time " in html and "14:02</time>)" in html


def test_it_names_the_affected_watchlists():
    html = banner(
        problem=problem(), polling=True, affected=[Watchlist(pk=3, name="Billing"), Watchlist(pk=4, name="Sales")]
    )
    assert 'Affects <a href="/watchlists/3/">Billing</a>, <a href="/watchlists/4/">Sales</a>.' in html


def test_home_names_the_watchlists_an_outage_affects(owner_client, make_watchlist, simulator):
    make_watchlist(name="Sales")
    make_watchlist(name="Billing")
    simulator.set_fault("error_500")
    html = " ".join(owner_client.get(reverse("home")).content.decode().split())
    assert html.count('role="alert"') == 1  # one connection, one banner
    assert "Affects <a" in html and ">Billing</a>, <a" in html and ">Sales</a>." in html


def test_the_outages_cost_no_query_when_the_cards_come_with_their_health(
    make_watchlist, simulator, connection, django_assert_num_queries
):
    make_watchlist(name="Sales")
    simulator.set_fault("error_500")
    services.watchlist_refresh(watchlist=Watchlist.objects.get())  # meets the fault: the problem is recorded
    cards = [(watchlist, EMPTY) for watchlist in Watchlist.objects.select_related("connection__health")]
    with django_assert_num_queries(0):
        found = outages(cards)
    assert [(outage.problem.kind, [w.name for w in outage.affected]) for outage in found] == [
        ("upstream_error", ["Sales"])
    ]
    plain = [(watchlist, EMPTY) for watchlist in Watchlist.objects.select_related("connection")]
    with django_assert_num_queries(1):  # one read per connection
        assert len(outages(plain)) == 1
