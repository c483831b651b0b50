"""IDs carry their creation time: retention and the end-to-end histogram read it back."""

from __future__ import annotations

import pytest

from hookwire.ids import created_ms, lowest_id, new_id


@pytest.mark.parametrize("at", [0, 1, 1_700_000_000_123, 2**48 - 1])
def test_an_id_gives_back_the_millisecond_it_was_made_at(at: int) -> None:
    assert created_ms(new_id("msg", at)) == at
    assert created_ms(lowest_id("atmpt", at)) == at


@pytest.mark.parametrize("value", ["acme", "msg_short", "msg_" + "!" * 27, "my_uid_" + "a" * 20 + "-" * 7])
def test_a_uid_is_not_read_as_an_id(value: str) -> None:
    assert created_ms(value) is None
