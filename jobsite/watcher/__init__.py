"""The watcher: `manage.py watch`, the long-running process that keeps the status store fresh.

It asks upstream about every unfinished job of every watchlist at the smallest pollInterval of
the watchlists holding it (and about quick-look jobs for a while), re-checks settled ones rarely,
writes each observed change at once and beats a heartbeat. While one is alive, pages only read
the store. Several watchers split the work through the store's claims.
"""
