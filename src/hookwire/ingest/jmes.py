"""Filters and transformations: JMESPath expressions, compiled once and checked on input.

A filter is a predicate over the event body (`type == 'invoice.paid'`); a
transformation is a projection that becomes the forwarded body
(`{id: id, amount: data.object.amount}`). JMESPath is declarative: no code runs.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

from hookwire.errors import ValidationFailed


@lru_cache(maxsize=1024)
def compile_expression(expression: str) -> ParsedResult:
    return jmespath.compile(expression)


def check_expression(expression: str | None, field: str) -> str | None:
    """The expression if it parses; a 422 naming the field otherwise."""
    if expression is None or expression == "":
        return None
    try:
        compile_expression(expression)
    except JMESPathError as exc:
        raise ValidationFailed.field([field], f"invalid JMESPath expression: {exc}") from None
    return expression


def passes(expression: str | None, document: Any) -> bool:
    if not expression:
        return True
    try:
        return bool(compile_expression(expression).search(document))
    except JMESPathError:
        return False


def transform(expression: str | None, document: Any) -> Any:
    if not expression:
        return document
    return compile_expression(expression).search(document)
