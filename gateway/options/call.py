"""The call's policy options: timeouts, buffers and the reconnect policy the bridge decides by.

They set fields of `gateway.core.options.BridgeOptions` (and its `ReconnectPolicy`), read by
gateway.call_settings; the shell keeps only socket-level waits. Fields a deployment has no
reason to tune stay internal: see docs/configuration.md, "Call policy".
"""

from __future__ import annotations

from typing import Any, Final

from gateway.options.core import CALL
from gateway.options.option import Option

__all__ = ["CALL_OPTIONS"]


def _positive(value: Any) -> str | None:
    return None if 0 < float(value) < float("inf") else "must be a positive number of seconds"


def _positive_ms(value: Any) -> str | None:
    return None if 0 < float(value) < float("inf") else "must be a positive number of ms"


def _finite(value: Any) -> str | None:
    return None if float(value) < float("inf") else "must be a finite number"


LIVE_CONNECT_TIMEOUT_S = Option(
    "GATEWAY_LIVE_CONNECT_TIMEOUT_S", "number", "how long a call gives a Live session to be "
    "ready (opened and set up) once the stream started, and each reconnect attempt likewise; "
    "then the next attempt or the fallback", CALL, default=10.0, minimum=0, check=_positive,
)  # fmt: skip
CONNECT_BUFFER_MS = Option(
    "GATEWAY_CONNECT_BUFFER_MS", "number", "caller audio held while the first session connects "
    "(sent once it is ready); beyond it the oldest is dropped", CALL, default=5000.0, minimum=0,
    check=_finite,
)  # fmt: skip
MARK_INTERVAL_MS = Option(
    "GATEWAY_MARK_INTERVAL_MS", "number", "how often, at most, a playback mark follows the "
    "agent's audio to the carrier while it flows (its echo says the caller heard it); the end "
    "of each answer always gets one. `0`: a mark after every model audio chunk "
    "([audio.md](audio.md#marks-and-messages-to-the-carrier))", CALL, default=200.0, minimum=0,
    check=_finite,
)  # fmt: skip
RECONNECT_BUFFER_MS = Option(
    "GATEWAY_RECONNECT_BUFFER_MS", "number", "caller audio held while a session is replaced "
    "(sized for five backed-off attempts); beyond it the oldest is dropped, counted", CALL,
    default=30000.0, minimum=0, check=_finite,
)  # fmt: skip
RECONNECT_MAX_ATTEMPTS = Option(
    "GATEWAY_RECONNECT_MAX_ATTEMPTS", "int", "reconnect attempts per outage before the call "
    "falls back ([sessions.md](sessions.md))", CALL, default=5, minimum=1,
)  # fmt: skip
RECONNECT_MAX_ATTEMPTS_PER_CALL = Option(
    "GATEWAY_RECONNECT_MAX_ATTEMPTS_PER_CALL", "int", "reconnect attempts per call, over every "
    "outage and planned handover (a Live connection lasts about ten minutes: 60 covers ten "
    "hours); at least `GATEWAY_RECONNECT_MAX_ATTEMPTS`", CALL, default=60, minimum=1,
)  # fmt: skip
RECONNECT_BACKOFF_MS = Option(
    "GATEWAY_RECONNECT_BACKOFF_MS", "number", "wait before the second attempt, doubled per "
    "attempt after that up to the maximum (the first attempt goes at once; waits are jittered "
    "±50 %)", CALL, default=250.0, minimum=0, check=_finite,
)  # fmt: skip
RECONNECT_BACKOFF_MAX_MS = Option(
    "GATEWAY_RECONNECT_BACKOFF_MAX_MS", "number", "the longest wait between attempts", CALL,
    default=4000.0, minimum=0, check=_finite, own_row=False,
)  # fmt: skip
HANDOVER_QUIET_MS = Option(
    "GATEWAY_HANDOVER_QUIET_MS", "number", "a planned handover (`goAway`) waits for the caller "
    "to have been quiet this long", CALL, default=300.0, minimum=0, check=_finite,
)  # fmt: skip
ENDING_GRACE_MS = Option(
    "GATEWAY_ENDING_GRACE_MS", "number", "after the agent's last words: how long past their "
    "estimated end of playout to wait for the carrier's last mark", CALL, default=2000.0,
    minimum=0, check=_positive_ms,
)  # fmt: skip
WRAP_UP_MAX_S = Option(
    "GATEWAY_WRAP_UP_MAX_S", "number", "a transfer or hang-up waits at most this long for the "
    "agent's last words to be heard", CALL, default=15.0, minimum=0, check=_positive,
)  # fmt: skip
HANDOFF_TIMEOUT_S = Option(
    "GATEWAY_HANDOFF_TIMEOUT_S", "number", "after the carrier's REST API was asked to move or end "
    "the call: how long to wait for the carrier to end the stream before the gateway ends it",
    CALL, default=10.0, minimum=0, check=_positive,
)  # fmt: skip
MODEL_AUDIO_AHEAD_MAX_S = Option(
    "GATEWAY_MODEL_AUDIO_AHEAD_MAX_S", "number", "model audio held ahead of the caller's playout "
    "at most; a model sending faster than real time past it loses the rest of that turn's audio, "
    "counted", CALL, default=60.0, minimum=0, check=_positive,
)  # fmt: skip

CALL_OPTIONS: Final[tuple[Option, ...]] = (
    LIVE_CONNECT_TIMEOUT_S, CONNECT_BUFFER_MS, RECONNECT_BUFFER_MS, RECONNECT_MAX_ATTEMPTS,
    RECONNECT_MAX_ATTEMPTS_PER_CALL, RECONNECT_BACKOFF_MS, RECONNECT_BACKOFF_MAX_MS,
    HANDOVER_QUIET_MS, ENDING_GRACE_MS, WRAP_UP_MAX_S, HANDOFF_TIMEOUT_S, MODEL_AUDIO_AHEAD_MAX_S,
    MARK_INTERVAL_MS,
)  # fmt: skip
