"""Upstream: the Connection model (an admin-configured Immuta endpoint) and the HTTP client.

The only code that speaks the `/jobs/statuses` contract; everything else gets typed results
and typed errors from here.
"""
