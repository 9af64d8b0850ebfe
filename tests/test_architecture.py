"""The pure rings stay pure: no asyncio, sockets, clocks, threads or `async def` in them.

Audio (`gateway/audio`), protocol (`gateway/live`, `gateway/carriers`), decisions
(`gateway/core`) and the options schema (`gateway/options`) are synchronous and clock-free;
time comes in as an argument. Only the shells (`gateway/shell`, the emulator, the simulator,
the CLI) may do I/O.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gateway"
PURE_RINGS = ["audio", "live", "core", "carriers", "options"]
FORBIDDEN_MODULES = {
    "asyncio", "socket", "ssl", "selectors", "threading", "multiprocessing", "concurrent",
    "time", "datetime", "subprocess", "websockets", "starlette", "uvicorn", "httpx",
    "urllib.request", "http", "anyio", "trio", "requests", "gateway.shell", "gateway.emulator",
    "gateway.sim",
}  # fmt: skip


def _pure_files() -> list[Path]:
    return sorted(p for ring in PURE_RINGS for p in (PACKAGE / ring).rglob("*.py"))


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            if any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES):
                found.append(f"{path.name}:{node.lineno} imports {name}")
        if isinstance(node, ast.AsyncFunctionDef | ast.Await | ast.AsyncFor | ast.AsyncWith):
            found.append(f"{path.name}:{node.lineno} uses {type(node).__name__}")
    return found


def test_the_audio_ring_exists() -> None:
    assert (PACKAGE / "audio" / "resample.py").exists()


@pytest.mark.parametrize("path", _pure_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pure_ring_module_has_no_io_clock_or_async(path: Path) -> None:
    assert _violations(path) == []


def test_the_checker_catches_violations(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import time\nfrom asyncio import sleep\nasync def f():\n    await sleep(1)\n")
    assert _violations(bad) == [
        "bad.py:1 imports time",
        "bad.py:2 imports asyncio",
        "bad.py:3 uses AsyncFunctionDef",
        "bad.py:4 uses Await",
    ]
