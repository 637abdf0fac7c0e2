"""Pages render a bounded part of any output; the job page more, the download all of it."""

from django.urls import reverse
from django.utils import timezone

from jobsite.statuses.models import JobStatus
from jobsite.watchlists.templatetags.job_display import ROW_OUTPUT_CHARS, ROW_OUTPUT_CUT, output_text
from jobsite.watchlists.views import OUTPUT_ON_SCREEN


def nested(depth: int) -> object:
    value: object = "bottom"
    for level in range(depth):
        value = {f"level{level}": [value, level]}
    return value


def store_output(job_id: str, output: object) -> None:
    JobStatus.objects.filter(job_id=job_id).update(
        state="completed", reported=True, output=output, checked_at=timezone.now(), revised_at=timezone.now()
    )


def test_a_row_shows_a_bounded_part_of_a_huge_output(owner_client, watched):
    watchlist, job = watched
    store_output(job, "x" * 1_000_000)  # a megabyte: what the store keeps at most
    page = owner_client.get(reverse("watchlist", args=[watchlist.pk])).content.decode()
    assert len(page) < 60_000
    assert "x" * ROW_OUTPUT_CHARS in page and ROW_OUTPUT_CUT.strip() in page


def test_a_deep_output_pretty_prints_only_as_far_as_a_row_shows(owner_client, watched):
    watchlist, job = watched
    deep = nested(64)
    store_output(job, deep)
    page = owner_client.get(reverse("watchlist", args=[watchlist.pk])).content.decode()
    assert len(page) < 60_000 and ROW_OUTPUT_CUT.strip() in page
    assert len(output_text(deep, 100)) == 100


def test_the_job_page_shows_more_and_the_download_keeps_everything(owner_client, watched):
    watchlist, job = watched
    store_output(job, "y" * 200_000)
    page = owner_client.get(reverse("watchlist_job", args=[watchlist.pk, job])).content.decode()
    assert "y" * OUTPUT_ON_SCREEN in page and "y" * (OUTPUT_ON_SCREEN + 1) not in page
    assert "The output is 195.3\xa0KB" in page
    download = owner_client.get(reverse("watchlist_job_output", args=[watchlist.pk, job]))
    assert download.content == b"y" * 200_000
