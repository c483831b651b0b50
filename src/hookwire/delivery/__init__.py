"""Delivery: the worker loop, the sender, signing, retry policy, the SSRF guard."""
