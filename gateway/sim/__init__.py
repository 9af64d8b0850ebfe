"""The carrier simulator: places calls against a gateway exactly as a carrier would.

`place_call(base_url, script, options)` posts the signed voice webhook, reads the answer, opens
the signed media stream, streams the caller's audio in real time (or `speed` times faster),
plays the gateway's audio back through a model of the carrier's playback buffer (marks, clear),
presses DTMF keys, and returns a `CallReport` with what the caller said and heard, time-aligned.
Twilio is the implemented dialect (`gateway.sim.twilio`); see docs/simulator.md.
"""

from __future__ import annotations

from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import Recording, load_recording, load_script
from gateway.sim.report import CallReport, report_to_json
from gateway.sim.script import CallScript, DtmfPress, SimOptions, Utterance
from gateway.sim.timeline import format_timeline
from gateway.sim.wav import read_wav, write_wav

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
