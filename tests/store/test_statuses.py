"""Statuses are named in the SQL and rendered from one IntEnum per table: no query carries a
bare status number, and a misspelt name stops the queries from loading at all."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from hookwire.store import queries
from hookwire.store.statuses import MessageStatus, RunStatus

_BARE = re.compile(r"(?<![:\w])status\s*(?:=|<>|!=|<|>)\s*\d|(?<![:\w])status\s+IN\s*\(\s*\d", re.I)


def _sql_files() -> dict[str, str]:
    package = resources.files("hookwire.store")
    return {
        e.name: e.read_text()
        for e in package.iterdir()
        if e.name.startswith("queries") and e.name.endswith(".sql")
    }


def test_no_query_compares_a_status_with_a_bare_number() -> None:
    found = [f"{name}: {m.group(0)}" for name, text in _sql_files().items() for m in _BARE.finditer(text)]
    assert found == []


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_named_statuses_render_as_the_enum_values(dialect: str) -> None:
    loaded = queries.load_queries(dialect)
    assert "{" not in loaded["claim_due_deliveries"].sql.replace("'{}'", "")
    release = loaded["release_delivery"].sql
    assert f"status = {MessageStatus.PENDING.value}" in release
    assert f"status = {MessageStatus.SENDING.value}" in release  # the lease fence
    assert f"status = {RunStatus.RUNNING.value}" in loaded["finish_automation_run"].sql


def test_an_unknown_status_name_fails_the_load() -> None:
    with pytest.raises(ValueError, match=r"MessageStatus\.SENT"):
        queries._render("x", "UPDATE deliveries SET status = {MessageStatus.SENT}", "sqlite")
