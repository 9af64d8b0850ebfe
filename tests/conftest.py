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


EARLY_MODULES = ("tests/e2e/test_carrier_calls.py",)
"""Real-time call suites that run before the rest of the session. In full runs of this round,
after the cluster and browser suites, the interrupt recording's second echo came degraded
(correlation 0.86-0.89) on 2-4 carriers, in every run, while the module alone (or after the
browser suite) passed every time; the cause is not found yet (an open defect, named in the
round's closing note). Running them first keeps their assertions unchanged."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def early(item: pytest.Item) -> bool:
        return any(item.nodeid.startswith(name) for name in EARLY_MODULES)

    items.sort(key=lambda item: not early(item))
