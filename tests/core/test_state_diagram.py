"""The state diagram in docs/architecture.md is the table's: regenerated, it is unchanged."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from gateway.core.states import TABLE, CallState

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "state_diagram.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("state_diagram", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_doc_shows_the_table_as_it_is() -> None:
    """Fails when states.TABLE changed and `python scripts/state_diagram.py` was not run."""
    diagram = _script()
    text = diagram.DOC.read_text(encoding="utf-8")
    assert diagram.updated(text) == text


def test_every_state_change_of_the_table_is_an_edge_of_the_diagram() -> None:
    mermaid = _script().mermaid()
    for state, row in TABLE.items():
        for move in row.values():
            for target in move.to:
                if target is not state:
                    assert f"    {state.value} --> {target.value} : " in mermaid
    assert mermaid.count(" --> ") == 2 + sum(
        len({t for move in row.values() for t in move.to} - {state}) for state, row in TABLE.items()
    )
    assert f"[*] --> {CallState.WAITING_FOR_START.value}" in mermaid


def test_a_stale_doc_is_caught(tmp_path: Path) -> None:
    diagram = _script()
    text = diagram.DOC.read_text(encoding="utf-8")
    stale = text.replace("    ending --> ended : ", "    ending --> live : ", 1)
    assert stale != text
    assert diagram.updated(stale) == text
    with pytest.raises(ValueError, match="markers"):
        diagram.updated(text.replace(diagram.END, ""))


def test_the_script_checks_from_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
