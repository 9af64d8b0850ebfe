from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from tests.tools.helpers import Logs, capture_logs


@pytest.fixture(autouse=True)
def default_logging() -> None:
    # A test elsewhere may have left structlog configured to print to a captured (now closed)
    # stdout (gateway.cli.main configures the process): start from structlog's defaults.
    structlog.reset_defaults()


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Logs]:
    yield from capture_logs(capsys)
