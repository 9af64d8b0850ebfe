"""A protocol-faithful Gemini Live emulator (see docs/emulator.md).

`LiveEmulator` serves `BidiGenerateContent` on ws:// or wss://; `Scenario` scripts tool calls,
goAway and closes; `Recorder` keeps what each session received.
"""

from gateway.emulator.config import EmulatorConfig, ReplyMode
from gateway.emulator.recorder import Recorder, SessionRecord
from gateway.emulator.scenario import Scenario, SetupRejection, TimedAction, ToolCallRule
from gateway.emulator.server import LiveEmulator

__all__ = [
    "EmulatorConfig",
    "LiveEmulator",
    "Recorder",
    "ReplyMode",
    "Scenario",
    "SessionRecord",
    "SetupRejection",
    "TimedAction",
    "ToolCallRule",
]
