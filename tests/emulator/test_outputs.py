"""Duration strings."""

from __future__ import annotations

import pytest

from gateway.emulator.outputs import duration


@pytest.mark.parametrize(
    ("seconds", "text"), [(50.0, "50s"), (1.5, "1.5s"), (0.0, "0s"), (0.125, "0.125s")]
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text
