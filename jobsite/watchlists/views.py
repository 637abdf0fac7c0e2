from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from jobsite.http import HtmxHttpRequest
from jobsite.statuses.health import Problem
from jobsite.statuses.selectors import job_timeline
from jobsite.watchlists import export, selectors, services
from jobsite.watchlists.filters import SORTS, JobFilter
from jobsite.watchlists.forms import (
    AddJobsForm,
    LabelForm,
    QuickLookForm,
    RemoveJobsForm,
    WatchlistCreateForm,
    WatchlistSettingsForm,
)
from jobsite.watchlists.live import CHECKED_HEADER, RETRY_HEADER, Answer, Cursor, live_view
from jobsite.watchlists.models import Watchlist, WatchlistJob
from jobsite.watchlists.templatetags.job_display import output_size, output_text

# Longer outputs are cut on screen (a browser chokes on megabytes of <pre>); the download is whole.
OUTPUT_ON_SCREEN = 50_000


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    outcomes = services.watchlists_refresh_for_viewer(user=request.user)
    own, shared = selectors.watchlists_for_home(user=request.user)
    problems = [outcome.problem for outcome in outcomes if outcome.problem]
    context = {"watchlists": own, "shared": shared, "problems": problems, "quick_form": QuickLookForm()}
    return render(request, "watchlists/home.html", context)


@login_required
@require_POST
def quick_look(request: HttpRequest) -> HttpResponse:
    """See pasted jobs' states at once; a button there saves them as a watchlist."""
    form = QuickLookForm(request.POST)
    context: dict[str, Any] = {"form": form}
    if form.is_valid():
        parsed = form.cleaned_data["job_ids"]
        connection = form.cleaned_data["connection"]
        try:
            statuses, outcome = services.jobs_look_up(user=request.user, connection=connection, job_ids=parsed.job_ids)
        except services.CapacityExceeded as error:
            form.add_error("job_ids", str(error))
        except services.TooManyLooks as error:
            form.add_error("job_ids", str(error))
            response = render(request, "watchlists/quick_look.html", context, status=429)
            response["Retry-After"] = str(error.retry_after)
            return response
        else:
            save_form = WatchlistCreateForm(
                initial={"connection": connection, "job_ids": "\n".join(parsed.job_ids), "name": "Quick look"}
            )
            context |= {
                "statuses": statuses,
                "problem": outcome.problem,
                "parsed": parsed,
                "save_form": save_form,
                "connection": connection,
            }
            if outcome.problem is None and any(status.checked_at is None for status in statuses):
                # The watcher has yet to ask about some: the results post the same look again shortly.
                context["look_again"] = {"connection": connection.pk, "job_ids": "\n".join(parsed.job_ids)}
    return render(request, "watchlists/quick_look.html", context, status=200 if form.is_valid() else 400)


@login_required
@require_http_methods(["GET", "POST"])
def watchlist_new(request: HttpRequest) -> HttpResponse:
    form = WatchlistCreateForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        parsed = form.cleaned_data["job_ids"]
        try:
            watchlist = services.watchlist_create(
                owner=request.user,
                name=form.cleaned_data["name"],
                connection=form.cleaned_data["connection"],
                poll_interval=form.cleaned_data["poll_interval"],
                job_ids=parsed.job_ids,
            )
        except services.CapacityExceeded as error:
            form.add_error("job_ids", str(error))
        else:
            messages.success(request, f"Saved “{watchlist.name}”. {parsed.summary()}")
            return redirect(watchlist)
    return render(request, "watchlists/new.html", {"form": form})


@login_required
@require_GET
def watchlist_detail(request: HttpRequest, pk: int) -> HttpResponse:
    watchlist = selectors.watchlist_get_for_viewer(user=request.user, pk=pk)
    live = live_view(watchlist=watchlist, job_filter=JobFilter.from_params(request.GET))
    context = {
        "live": live,
        "watchlist": watchlist,
        "can_edit": watchlist.is_owned_by(request.user),
        "add_form": AddJobsForm(),
        "sorts": SORTS,
        "page_url": request.build_absolute_uri(watchlist.get_absolute_url()),
    }
    return render(request, "watchlists/detail.html", context)


@login_required
@require_GET
def watchlist_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The htmx refresh: the whole partial, only the revised rows, or 204 when nothing moved.

    Answers 286 (htmx: stop polling) once the page stops polling. A 204 never needs to: the
    render it confirms carried the 286 already if everything had finished.
    """
    watchlist = selectors.watchlist_get_for_viewer(user=request.user, pk=pk)
    job_filter = JobFilter.from_params(request.GET)
    live = live_view(watchlist=watchlist, job_filter=job_filter, since=Cursor.parse(request.GET.get("since")))
    context = {"live": live, "watchlist": watchlist, "can_edit": watchlist.is_owned_by(request.user)}
    if live.answer is Answer.NOTHING:
        response = HttpResponse(status=204)
        # The answer most polls get: no body, so no content type and no framing policy to state.
        del response["Content-Type"]
        response.xframe_options_exempt = True
    elif live.answer is Answer.WHOLE:
        response = render(request, "watchlists/_live.html", context)
        # Morphed in (idiomorph's swap style, beyond django-htmx's reswap), so focus, typed text
        # and open outputs survive a whole refresh.
        response["HX-Reswap"] = "morph:innerHTML"
    else:
        response = render(request, "watchlists/_live_changes.html", context)
    if live.answer is not Answer.NOTHING and not live.keeps_polling:
        response.status_code = HttpResponseStopPolling.status_code
    if live.checked_at:
        response[CHECKED_HEADER] = str(int(live.checked_at.timestamp()))
    if live.problem:
        response[RETRY_HEADER] = str(live.problem.retry_in)
    return response


@login_required
@require_GET
def watchlist_job(request: HttpRequest, pk: int, job_id: UUID) -> HttpResponse:
    """One job: its state, its whole output and the history jobsite observed."""
    watchlist = selectors.watchlist_get_for_viewer(user=request.user, pk=pk)
    job = selectors.watchlist_job_get(watchlist=watchlist, job_id=str(job_id))
    return render(request, "watchlists/job.html", _job_context(watchlist=watchlist, job=job))


@login_required
@require_GET
def watchlist_job_output(request: HttpRequest, pk: int, job_id: UUID) -> HttpResponse:
    """The whole output of a job as a download: JSON when it is JSON, plain text otherwise."""
    watchlist = selectors.watchlist_get_for_viewer(user=request.user, pk=pk)
    job = selectors.watchlist_job_get(watchlist=watchlist, job_id=str(job_id))
    output = job.status.output
    if isinstance(output, str):
        response = HttpResponse(output, content_type="text/plain; charset=utf-8")
        extension = "txt"
    else:
        response = JsonResponse(output, safe=False, json_dumps_params={"indent": 2})
        extension = "json"
    response["Content-Disposition"] = f'attachment; filename="job-{job_id}-output.{extension}"'
    return response


@login_required
@require_POST
def watchlist_job_label(request: HtmxHttpRequest, pk: int, job_id: UUID) -> HttpResponse:
    """Name a job in place: htmx gets the label piece back, a plain form post the page."""
    watchlist = selectors.watchlist_get_for_owner(user=request.user, pk=pk)
    job = selectors.watchlist_job_get(watchlist=watchlist, job_id=str(job_id))
    form = LabelForm(request.POST)
    if form.is_valid():
        try:
            services.watchlist_job_label_set(job=job, label=form.cleaned_data["label"])
        except services.JobNotInWatchlist as error:
            form.add_error("label", str(error))
    if not request.htmx:
        if not form.is_valid():
            messages.error(request, " ".join(str(error) for error in form.errors["label"]))
        return redirect(watchlist)
    # 200 even for a refused label: htmx swaps only 2xx answers, and the piece shows the error.
    return render(request, "watchlists/_label.html", {"job": job, "watchlist": watchlist, "form": form})


@login_required
@require_GET
def watchlist_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
    """The current states (as the store knows them) of the jobs the filter keeps, as a download."""
    watchlist = selectors.watchlist_get_for_viewer(user=request.user, pk=pk)
    job_filter = JobFilter.from_params(request.GET)
    rows = export.export_rows(selectors.watchlist_jobs_listed(watchlist=watchlist, job_filter=job_filter).iterator())
    filename = export.export_filename(watchlist, job_filter, fmt)
    response: HttpResponseBase
    if fmt == "csv":
        response = StreamingHttpResponse(export.csv_lines(rows), content_type="text/csv; charset=utf-8")
    else:
        response = JsonResponse({"watchlist": watchlist.name, "jobs": list(rows)}, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def watchlist_edit(request: HttpRequest, pk: int) -> HttpResponse:
    watchlist = selectors.watchlist_get_for_owner(user=request.user, pk=pk)
    form = WatchlistSettingsForm(request.POST or None, instance=watchlist)
    if request.method == "POST" and form.is_valid():
        services.watchlist_update(
            watchlist=watchlist,
            name=form.cleaned_data["name"],
            poll_interval=form.cleaned_data["poll_interval"],
            visibility=form.cleaned_data["visibility"],
            shared_groups=form.cleaned_data["shared_groups"],
        )
        messages.success(request, "Settings saved.")
        return redirect(watchlist)
    return _render_manage(request, watchlist, settings_form=form)


def _render_manage(request: HttpRequest, watchlist: Watchlist, **forms) -> HttpResponse:
    context = {
        "watchlist": watchlist,
        "settings_form": WatchlistSettingsForm(instance=watchlist),
        "add_form": AddJobsForm(),
        "remove_form": RemoveJobsForm(),
        "job_count": watchlist.jobs.count(),
        **forms,
    }
    status = 400 if any(form.errors for form in forms.values()) else 200
    return render(request, "watchlists/edit.html", context, status=status)


@login_required
@require_POST
def watchlist_add_jobs(request: HttpRequest, pk: int) -> HttpResponse:
    watchlist = selectors.watchlist_get_for_owner(user=request.user, pk=pk)
    form = AddJobsForm(request.POST)
    if form.is_valid():
        parsed = form.cleaned_data["job_ids"]
        try:
            added = services.watchlist_add_jobs(watchlist=watchlist, job_ids=parsed.job_ids)
        except services.CapacityExceeded as error:
            form.add_error("job_ids", str(error))
        else:
            already = len(parsed.job_ids) - added
            note = f" {already} already in the list." if already else ""
            messages.success(request, f"Added {added} job{'' if added == 1 else 's'}. {parsed.summary()}{note}")
            return redirect(watchlist)
    return _render_manage(request, watchlist, add_form=form)


@login_required
@require_POST
def watchlist_remove_jobs(request: HttpRequest, pk: int) -> HttpResponse:
    watchlist = selectors.watchlist_get_for_owner(user=request.user, pk=pk)
    # Ticked rows send job_ids once each; the paste box sends one text. Both read as one paste.
    form = RemoveJobsForm({"job_ids": "\n".join(request.POST.getlist("job_ids"))})
    if not form.is_valid():
        return _render_manage(request, watchlist, remove_form=form)
    removed = services.watchlist_remove_jobs(watchlist=watchlist, job_ids=form.cleaned_data["job_ids"].job_ids)
    messages.success(request, f"Removed {removed} job{'' if removed == 1 else 's'}.")
    return redirect(watchlist)


@login_required
@require_http_methods(["GET", "POST"])
def watchlist_delete(request: HttpRequest, pk: int) -> HttpResponse:
    watchlist = selectors.watchlist_get_for_owner(user=request.user, pk=pk)
    if request.method == "POST":
        services.watchlist_delete(watchlist=watchlist)
        messages.success(request, f"Deleted “{watchlist.name}”.")
        return redirect("home")
    return render(request, "watchlists/delete.html", {"watchlist": watchlist, "job_count": watchlist.jobs.count()})


@login_required
@require_GET
def watchlist_job_live(request: HttpRequest, pk: int, job_id: UUID) -> HttpResponse:
    """The job page's htmx refresh: the partial its first render included, rendered again.

    Answers 286 (htmx: stop polling) once the job is settled: nothing about it will change.
    """
    watchlist = selectors.watchlist_get_for_viewer(user=request.user, pk=pk)
    outcome = services.watchlist_refresh(watchlist=watchlist)
    job = selectors.watchlist_job_get(watchlist=watchlist, job_id=str(job_id))
    context = _job_context(watchlist=watchlist, job=job, problem=outcome.problem)
    response = render(request, "watchlists/_job_live.html", context)
    if job.status.is_settled:
        response.status_code = HttpResponseStopPolling.status_code
    return response


def _job_context(*, watchlist: Watchlist, job: WatchlistJob, problem: Problem | None = None) -> dict[str, Any]:
    """What the job page and its refresh show (templates/watchlists/_job_live.html)."""
    output = output_text(job.status.output, OUTPUT_ON_SCREEN + 1)
    return {
        "watchlist": watchlist,
        "job": job,
        "timeline": job_timeline(connection=watchlist.connection, job_id=job.status.job_id),
        "output": output[:OUTPUT_ON_SCREEN],
        "output_size": output_size(job.status.output),
        "output_cut": len(output) > OUTPUT_ON_SCREEN,
        "problem": problem,  # upstream failing: the state shown is the last known one
    }
