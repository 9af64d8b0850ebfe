"""Emulator configuration checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.emulator.config import EmulatorConfig


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"speed": 0}, "speed"),
        ({"chunk_ms": 0}, "positive"),
        ({"certfile": Path("c.pem")}, "both"),
    ],
)
def test_bad_configs(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EmulatorConfig(**kwargs)  # type: ignore[arg-type]
