"""Request types the views are written against."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that passed django-htmx's middleware, typed as django-htmx's example app does."""

    htmx: HtmxDetails
