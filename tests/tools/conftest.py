from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.tools.helpers import Logs, capture_logs

# structlog starts from its defaults before every test: tests/conftest.py `default_logging`.


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Logs]:
    yield from capture_logs(capsys)
