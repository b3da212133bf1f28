"""Durations as Go's time.Duration: an int64 of nanoseconds."""

from __future__ import annotations

import pytest

from compose.stackfile.units import parse_duration


@pytest.mark.parametrize("value", [1.8e299, float("inf"), float("nan"), "3000000h", -1e12])
def test_a_duration_beyond_gos_int64_is_an_error_not_a_crash(value):
    """Found by the model fuzz test: stop_grace_period: 1.8e299 raised OverflowError."""
    with pytest.raises(ValueError, match="out of range"):
        parse_duration(value)
    assert parse_duration("300000h") == 300000 * 3_600_000_000_000  # 34 years: fine
