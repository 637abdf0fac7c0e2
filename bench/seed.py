"""Seed a fresh site: the bench's user, a connection to the upstream simulator, the watchlists.

Run in a subprocess with the site's environment, so that the bench process never configures
Django: `python -m bench.seed` reads a JSON spec on stdin and prints {name: pk} as one JSON line.

    {"username": ..., "password": ..., "upstream_url": ..., "token": ..., "poll_interval": 1,
     "watchlists": {"name": [job IDs], ...}}
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jobsite.settings")
    import django

    django.setup()
    # Models can be imported only once Django is set up.
    from django.contrib.auth import get_user_model

    from jobsite.upstream.models import Connection
    from jobsite.watchlists.services import watchlist_create

    spec = json.load(sys.stdin)
    owner = get_user_model().objects.create_user(spec["username"], password=spec["password"])
    connection = Connection(
        name="Bench upstream",
        base_url=spec["upstream_url"],
        poll_interval=spec["poll_interval"],
        is_simulator=True,
    )
    connection.token = spec["token"]
    connection.full_clean()
    connection.save()
    pks = {
        name: watchlist_create(
            owner=owner,
            name=name,
            connection=connection,
            poll_interval=spec["poll_interval"],
            job_ids=job_ids,
        ).pk
        for name, job_ids in spec["watchlists"].items()
    }
    print(json.dumps(pks))


if __name__ == "__main__":
    main()
