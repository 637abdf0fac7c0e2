"""Statuses: the service module between pages and upstream.

Keeps the last known state of every job seen, decides what is too old and asks upstream only
for that, and records each observed change of state.
"""
