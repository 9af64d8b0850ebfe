from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.tools.helpers import Logs, capture_logs


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Logs]:
    yield from capture_logs(capsys)
