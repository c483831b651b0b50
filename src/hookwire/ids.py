"""Prefixed, time-sortable IDs (`app_`, `ep_`, `msg_`, `atmpt_`, `src_`, ...).

An ID is the prefix plus 27 base62 characters encoding 48 bits of milliseconds and
112 random bits, so IDs sort by creation time in both databases (plain string
order) and never collide across processes or machines. Source IDs are shorter, as
Svix's are (`src_` + 22 characters, 82 random bits): Svix's document caps them at 26
characters in all.
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DIGITS = {char: n for n, char in enumerate(_ALPHABET)}
_LENGTH = 27
_SHORT = {"src": (22, 82)}  # prefix -> (characters, random bits), where Svix's IDs are shorter

PREFIXES = ("app", "ep", "msg", "atmpt", "dlv", "src", "ingep", "req", "task", "evt")


def _base62(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, rem = divmod(number, 62)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str, now_ms: int | None = None) -> str:
    """A new ID like `msg_2KWPBgLlAfxdpx2AI54pPJ85f4W`; sortable by `now_ms`."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    length, random_bits = _SHORT.get(prefix, (_LENGTH, 112))
    value = (ms << random_bits) | (int.from_bytes(os.urandom(14), "big") >> (112 - random_bits))
    return f"{prefix}_{_base62(value, length)}"


def has_prefix(value: str, prefix: str) -> bool:
    """True when `value` looks like an ID of this type (used to tell IDs from uids)."""
    lengths = {_LENGTH, _SHORT.get(prefix, (_LENGTH, 0))[0]}
    return value.startswith(prefix + "_") and len(value) - len(prefix) - 1 in lengths


def created_ms(value: str) -> int | None:
    """The creation time (ms) an ID carries, or None when `value` is not such an ID (a uid).
    Workers read it off every successful attempt's message (the end-to-end histogram)."""
    _, sep, body = value.rpartition("_")
    if not sep or len(body) != _LENGTH:
        return None
    number = 0
    try:
        for char in body:
            number = number * 62 + _DIGITS[char]
    except KeyError:
        return None
    return number >> 112


def lowest_id(prefix: str, at_ms: int) -> str:
    """The smallest ID of this type made at `at_ms`: `id >= lowest_id(...)` selects rows created since
    then by the primary key alone (no created_at index needed)."""
    length, random_bits = _SHORT.get(prefix, (_LENGTH, 112))
    return f"{prefix}_{_base62(at_ms << random_bits, length)}"
