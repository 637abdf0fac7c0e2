"""What every page may need to tell staff about the services jobsite leans on."""

from __future__ import annotations

from django.http import HttpRequest

from jobsite.cache import cache_degraded


def degraded_services(request: HttpRequest) -> dict[str, bool]:
    """For staff only: the cache is down (pages still answer, a little slower)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_staff:
        return {}
    return {"cache_degraded": cache_degraded()}
