"""The carrier simulator: places calls against a gateway exactly as a carrier would.

`place_call(base_url, script, options)` posts the signed voice webhook, reads the answer, opens
the signed media stream, streams the caller's audio in real time (or `speed` times faster),
plays the gateway's audio back through a model of the carrier's playback buffer (marks, clear),
presses DTMF keys, and returns a `CallReport` with what the caller said and heard, time-aligned.
Twilio is the implemented dialect (`gateway.sim.twilio`); see docs/simulator.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.sim.call import place_call
    from gateway.sim.entries import CallOutcome
    from gateway.sim.recording import Recording, load_recording, load_script
    from gateway.sim.report import CallReport, report_to_json
    from gateway.sim.script import CallScript, DtmfPress, SimOptions, Utterance
    from gateway.sim.timeline import format_timeline
    from gateway.sim.wav import read_wav, write_wav

# Re-exports load on first use (PEP 562): `gateway --help` imports gateway.sim.cli, and the
# simulator's machinery (scipy, httpx, websockets) should not slow every command down.
_EXPORTS = {
    "place_call": "call",
    "CallOutcome": "entries",
    "Recording": "recording",
    "load_recording": "recording",
    "load_script": "recording",
    "CallReport": "report",
    "report_to_json": "report",
    "CallScript": "script",
    "DtmfPress": "script",
    "SimOptions": "script",
    "Utterance": "script",
    "format_timeline": "timeline",
    "read_wav": "wav",
    "write_wav": "wav",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gateway.sim' has no attribute {name!r}")
    return getattr(importlib.import_module(f"gateway.sim.{module}"), name)


__all__ = [
    "CallOutcome",
    "CallReport",
    "CallScript",
    "DtmfPress",
    "Recording",
    "SimOptions",
    "Utterance",
    "format_timeline",
    "load_recording",
    "load_script",
    "place_call",
    "read_wav",
    "report_to_json",
    "write_wav",
]
