"""The endpoint sparkline says what a reader needs at a glance: no traffic, one hour, a trend."""

from __future__ import annotations

from hookwire.ui.chart import Bucket, sparkline


def _hours(*rates: tuple[int, int]) -> list[Bucket]:
    return [Bucket(start_ms=i * 3_600_000, attempts=n, succeeded=ok) for i, (n, ok) in enumerate(rates)]


def test_no_traffic_is_written_in_the_box_not_left_blank() -> None:
    svg = str(sparkline(_hours((0, 0), (0, 0))))
    assert "no traffic" in svg and 'aria-label="no attempts in 24 h"' in svg
    assert "<polyline" not in svg


def test_one_hour_of_traffic_is_a_dot_and_two_are_a_line() -> None:
    one = str(sparkline(_hours((0, 0), (4, 3))))
    assert "<circle" in one and "no traffic" not in one and "3 of 4 attempts" in one
    two = str(sparkline(_hours((2, 2), (4, 1))))
    assert "<polyline" in two and "3 of 6 attempts" in two
