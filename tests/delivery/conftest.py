"""Fixtures shared by the delivery tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.delivery.test_worker import Workers


@pytest.fixture
async def workers() -> AsyncIterator[Workers]:
    """Makes workers with real aiohttp senders; closes their sessions at the end."""
    made = Workers()
    yield made
    for close in made.closers:
        await close()
