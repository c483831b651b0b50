"""Receiving webhooks from providers: verify the sender first, then store what arrived.

The verification rules live in `hookwire.ingest.providers` as pure functions so the
HTTP layer only has to build an `InboundRequest`, pick a provider by source type, and
act on the `Verdict`.
"""
