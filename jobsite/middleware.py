"""Project-wide middleware: small, each with one job."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url

from jobsite.http import HtmxHttpRequest


def htmx_login_redirect(get_response: Callable[[HtmxHttpRequest], HttpResponseBase]):
    """A lost session in an open page: htmx follows a redirect to the login page silently and
    swaps nothing, so the page would go on showing old states and "updated 1 s ago". Tell htmx to
    load the login page instead, coming back to the page (not the partial) afterwards."""

    def middleware(request: HtmxHttpRequest) -> HttpResponseBase:
        response = get_response(request)
        login_url = resolve_url(settings.LOGIN_URL)
        if request.htmx and response.status_code == 302 and response["Location"].startswith(login_url):
            back_to = request.htmx.current_url_abs_path or "/"
            redirect = HttpResponse(status=204)
            redirect["HX-Redirect"] = f"{login_url}?{urlencode({REDIRECT_FIELD_NAME: back_to})}"
            return redirect
        return response

    return middleware
