"""Run `async def` tests in a fresh event loop each (no plugin needed), with a safety timeout."""

from __future__ import annotations

import asyncio
import inspect

import pytest
import structlog

ASYNC_TEST_TIMEOUT_S = 180.0


@pytest.fixture(autouse=True)
def default_logging() -> None:
    """Every test starts from structlog's defaults: a test that ran `gateway.cli.main` (which
    configures the process to print to the stdout captured then, closed since) must not leave
    later tests' log lines failing on a closed file."""
    structlog.reset_defaults()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(asyncio.wait_for(pyfuncitem.obj(**kwargs), ASYNC_TEST_TIMEOUT_S))
    return True
