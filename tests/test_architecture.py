"""The pure rings stay pure, and every part of the package imports only what its layer may.

Audio (`gateway/audio`), protocol (`gateway/live`, `gateway/carriers`), decisions
(`gateway/core`) and the options schema (`gateway/options`) are synchronous and clock-free;
time comes in as an argument. Only the shells (`gateway/shell`, the emulator, the simulator,
the CLI) may do I/O.

`LAYERS` says which part of `gateway` (a package, or a top-level module) may import which; the
picture is in docs/architecture.md. A new part must be given its place here before it can land.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gateway"
PURE_RINGS = ["audio", "live", "core", "carriers", "options", "outbound"]
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


# ---------------------------------------------------------------------------------- layering

LAYERS: dict[str, frozenset[str]] = {
    # 1. Audio: numpy and scipy only; text cleaning (gateway/text.py, merged to main with the
    #    tools branch: lone surrogates out of what the model and the backends say).
    "audio": frozenset(),
    "text": frozenset(),
    # 2. Protocols and decisions (pure). The Live protocol stands alone; the core decides with
    #    the Live vocabulary (LIVE_VOCABULARY, not the translator or the setup); the carriers'
    #    translators, webhooks and REST calls speak the core's vocabulary.
    "live": frozenset({"text"}),
    "core": frozenset({"audio", "live"}),
    "carriers": frozenset({"audio", "core", "env_reader", "log", "options"}),
    # The options schema: every setting declared once (pure declarations and coercion).
    "options": frozenset(),
    # Configuration: the environment and files read into typed values (no sockets, no loop).
    # A carrier's folder declares its own options (options), reads them (env_reader) and
    # registers its secrets with the log's redactor (log).
    "env_reader": frozenset({"options"}),
    "call_log": frozenset(),
    "log": frozenset({"call_log"}),
    "live_trust": frozenset({"env_reader"}),
    "agent_settings": frozenset({"env_reader", "live", "options"}),
    "call_settings": frozenset({"core", "env_reader", "options"}),
    # Outbound calls (pure): the dial-out request, its placeholders and status, its settings.
    "outbound": frozenset({"carriers", "env_reader", "log", "options"}),
    "settings": frozenset(
        {"agent_settings", "call_settings", "carriers", "core", "env_reader", "live"}
        | {"live_trust", "log", "options", "outbound"}
    ),
    # Call reports: what a report shows, a call's timeline (from the core's vocabulary), HTML.
    "reports": frozenset({"core", "live"}),
    "tools": frozenset(
        {"carriers", "core", "env_reader", "live", "log", "options", "settings", "text"}
    ),
    "agents": frozenset({"live", "options", "settings", "tools"}),
    "examples": frozenset({"tools"}),
    # 3. Shells (async, I/O, clocks). The gateway's serve runs the emulator in-process.
    "emulator": frozenset({"audio", "live", "log"}),
    "sim": frozenset({"audio", "carriers", "env_reader", "reports"}),
    # Cluster mode's Redis parts (async): the shell builds and drives them.
    "cluster": frozenset({"core", "log"}),
    "shell": frozenset(
        {"agents", "audio", "call_log", "carriers", "cluster", "core", "emulator", "live"}
        | {"live_trust", "log", "options", "outbound", "reports", "settings", "text", "tools"}
    ),
    "audio_report": frozenset({"audio"}),
    "cli": frozenset(
        {"agents", "audio_report", "emulator", "env_reader", "log", "settings", "shell", "sim"}
        | {"outbound", "tools"}
    ),
    "__main__": frozenset({"cli"}),
    "__init__": frozenset(),
}
LIVE_VOCABULARY = frozenset({"gateway.live.events", "gateway.live.closes"})
"""What the core may import of `gateway.live`: what Live says and how a session closed."""


def _part(path: Path, package: Path) -> str:
    """The part of the package `path` belongs to: its first folder, or its own module name."""
    relative = path.relative_to(package)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _internal_imports(package: Path) -> Iterator[tuple[str, Path, int, str]]:
    """(part, file, line, module) of every import of another module of the package."""
    prefix = package.name + "."
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.startswith(prefix):
                    yield _part(path, package), path, node.lineno, name


def _layer_violations(package: Path, layers: dict[str, frozenset[str]]) -> list[str]:
    found = []
    for part, path, line, name in _internal_imports(package):
        target = name.split(".")[1]
        where = f"{path.relative_to(package)}:{line}"
        if part not in layers:
            found.append(f"{where}: {part} has no place in LAYERS")
        elif target != part and target not in layers[part]:
            found.append(f"{where}: {part} may not import {name}")
        elif part == "core" and target == "live" and name not in LIVE_VOCABULARY:
            found.append(f"{where}: the core may import only the Live vocabulary, not {name}")
    return found


def test_every_part_of_the_package_has_a_place_in_the_layers() -> None:
    parts = {_part(path, PACKAGE) for path in PACKAGE.rglob("*.py")}
    unplaced = parts - set(LAYERS)
    assert not unplaced, f"give {unplaced} a place in LAYERS (and in docs/architecture.md)"


def test_every_import_follows_the_layers() -> None:
    assert _layer_violations(PACKAGE, LAYERS) == []


def test_the_layers_have_no_cycle() -> None:
    try:
        order = list(TopologicalSorter(LAYERS).static_order())
    except CycleError as exc:  # pragma: no cover (the failure's message)
        pytest.fail(f"the layers import each other in a cycle: {exc.args[1]}")
    assert order.index("audio") < order.index("core") < order.index("carriers")
    assert order.index("live") < order.index("core") < order.index("shell")


def test_the_layer_checker_catches_violations(tmp_path: Path) -> None:
    package = tmp_path / "gateway"
    for folder in ("audio", "core", "live"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "audio" / "bad.py").write_text("from gateway.core.events import Note\n")
    (package / "core" / "setup_user.py").write_text(
        "import gateway.live.setup\nfrom gateway.live.events import AudioChunk\n"
    )
    (package / "newcomer.py").write_text("from gateway.audio import bad\n")
    layers = {"audio": frozenset(), "core": frozenset({"audio", "live"}), "live": frozenset()}
    assert _layer_violations(package, layers) == [
        "audio/bad.py:1: audio may not import gateway.core.events",
        "core/setup_user.py:1: the core may import only the Live vocabulary, not "
        "gateway.live.setup",
        "newcomer.py:1: newcomer has no place in LAYERS",
    ]
