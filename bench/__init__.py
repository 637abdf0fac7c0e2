"""jobsite's benchmark: the README's production set-up on loopback, measured the way the issue asks.

Run it from the project folder, with `pip install -e '.[bench]'` and `apt-get install wrk`, and
PostgreSQL and Redis on 127.0.0.1 (as for the tests on PostgreSQL):

    python -m bench [--quick] [--json PATH] [--only NAME] [--no-watcher | --no-fallback]
                    [--viewers N,N,…] [--seconds S] [--profile DIR]

It builds the site twice, from scratch each time: with `manage.py watch` keeping the store fresh
("watcher"), and without it, when pages ask upstream themselves ("fallback"). On each it runs
the scenarios (see `scenarios.py`) and prints one table per scenario, with both set-ups side by
side and PASS/FAIL against the issue's targets (`report.py`). It is a measurement, not a test:
it exits 0 whether targets pass or not, and 1 only if it could not measure.

One concern per module:

    processes.py   child processes in their own process groups, always stopped; CPU from /proc
    upstream.py    the Immuta simulator in its own process, driven over a pipe; who was asked when
    seed.py        the site's user, connection and watchlists (runs under Django, in a subprocess)
    servers.py     one complete set-up: database, Redis, migrate, seed, gunicorn, the watcher
    pages.py       what the bench reads in the site's HTML (the live cursor, the CSRF token)
    viewers.py     the load generator: viewers polling like htmx, asyncio + aiohttp, one process
    throughput.py  wrk
    browser.py     headless Chromium through Playwright
    scenarios.py   the measurements
    results.py     the figures they produce
    report.py      targets, tables and JSON
    profiling.py   py-spy profiles of the site during each measurement (`--profile DIR`)

Nothing but 127.0.0.1 is contacted. The bench is no part of the shipped package.
"""
