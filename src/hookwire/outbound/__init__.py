"""Outbound use-cases: applications, event types, endpoints, messages and attempts.

The API, the dashboard and the CLI call these functions; nothing above this layer
touches the store directly.
"""
