"""Sessions, resumption handles and setup admission. Synchronous: time is an argument.

A session outlives its connections: a resume with a valid handle attaches a new connection to
the session and restores the conversation memory stored with that handle.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.emulator.config import EmulatorConfig
from gateway.emulator.conversation import Memory
from gateway.emulator.dialect import check_model, check_setup_version
from gateway.emulator.recorder import Recorder, SessionRecord
from gateway.emulator.scenario import Scenario
from gateway.emulator.schema import ClientMessageError

__all__ = ["Session", "SessionRegistry"]

_MAX_HANDLES = 10_000


@dataclass
class Session:
    session_id: str
    record: SessionRecord
    memory: Memory = field(default_factory=Memory)
    active: object | None = None
    """The connection attached now (None between connections)."""
    connections: int = 0


@dataclass(frozen=True)
class _Handle:
    session_id: str
    memory: Memory
    issued_at_s: float


class SessionRegistry:
    def __init__(
        self,
        config: EmulatorConfig,
        scenario: Scenario,
        recorder: Recorder,
        is_open: Callable[[object], bool] = lambda _connection: True,
    ) -> None:
        self._is_open = is_open
        self.config = config
        self.scenario = scenario
        self.recorder = recorder
        self.sessions: dict[str, Session] = {}
        self._handles: dict[str, _Handle] = {}
        rejection = scenario.reject_setups
        self._rejections_left = rejection.count if rejection else 0

    def admit(
        self, *, key: str | None, setup: dict[str, Any], api_version: str, now_s: float
    ) -> tuple[Session, Memory]:
        """The session a valid setup opens or resumes, with the memory to start from.

        Raises ClientMessageError with production's close code: a bad key or missing model 1007,
        an unknown model 1008 (or one of the other backend), a field the API version lacks 1007
        (gateway.emulator.dialect), a non-AUDIO modality 1007, an unknown or expired handle 1008, a
        resume while the session's old socket is still open 1011; scripted rejections as given.
        """
        allowed = self.config.api_keys
        if allowed is not None and key not in allowed:
            raise ClientMessageError(1007, "API key not valid. Please pass a valid API key.")
        if self._rejections_left > 0 and self.scenario.reject_setups is not None:
            self._rejections_left -= 1
            rejection = self.scenario.reject_setups
            raise ClientMessageError(rejection.code, rejection.reason)
        model = setup.get("model")
        if not isinstance(model, str) or not model:
            raise ClientMessageError(1007, "Request contains an invalid argument. Missing model.")
        backend = self.config.backend
        check_model(backend, model, api_version, self.config.models)
        check_setup_version(backend, setup, api_version)
        modalities = setup.get("generationConfig", {}).get("responseModalities", ["AUDIO"])
        if modalities != ["AUDIO"]:
            raise ClientMessageError(
                1007, "Request contains an invalid argument. This emulator speaks AUDIO only."
            )
        handle = setup.get("sessionResumption", {}).get("handle")
        if not handle:
            session_id = uuid.uuid4().hex
            session = Session(session_id, self.recorder.new_session(session_id))
            self.sessions[session_id] = session
            return session, Memory()
        entry = self._handles.get(handle)
        if entry is None or now_s - entry.issued_at_s > self.config.handle_ttl_s:
            raise ClientMessageError(1008, "The session resumption handle is invalid or expired.")
        session = self.sessions[entry.session_id]
        if session.active is not None and self._is_open(session.active):
            raise ClientMessageError(1011, "The session is still attached to another connection.")
        return session, entry.memory

    def issue_handle(self, session: Session, memory: Memory, now_s: float) -> str:
        """A fresh handle that restores `memory` into `session`."""
        handle = secrets.token_urlsafe(24)
        self._handles[handle] = _Handle(session.session_id, memory, now_s)
        session.record.handles.append((session.connections, handle))
        if len(self._handles) > _MAX_HANDLES:  # forget expired handles now and then
            ttl = self.config.handle_ttl_s
            self._handles = {h: e for h, e in self._handles.items() if now_s - e.issued_at_s <= ttl}
        return handle
