"""Cluster mode: this replica's dial-outs (`DialOuts`) kept in step with Redis (`DialStateStore`).

The replica that places a dial-out writes its record (`push`); the carrier's answer webhook,
progress and machine-detection callbacks, the media stream and `GET /calls/{id}` may reach any
replica, which reads the record first (`pull`, `pull_call`) so that `DialOuts` there knows the
dial-out (its agent rebuilt from the profile's name and the request's variables: every replica
loads the same profiles file), then writes what it changed (`push`). Two writes of one dial-out
merge (`gateway.outbound.status.merged`). Redis unavailable: the replica goes on with what it
knows (a warning), as without cluster mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.agents.profile import AgentProfile
from gateway.cluster.dial_state import DialStateStore
from gateway.cluster.link import ClusterUnavailableError
from gateway.core.answering import OutboundPolicy
from gateway.log import get_logger
from gateway.outbound.status import DialOut, decode, encode, merged
from gateway.shell.dial_outs import DialOuts

__all__ = ["DialShare", "Rebuild"]

_log = get_logger(component="dial")
Rebuild = Callable[[DialOut, dict[str, str]], tuple[AgentProfile, OutboundPolicy] | None]


class DialShare:
    def __init__(self, dials: DialOuts, store: DialStateStore, rebuild: Rebuild) -> None:
        self.dials = dials
        self.store = store
        self._rebuild = rebuild

    async def pull(self, dial_id: str) -> DialOut | None:
        """The dial-out `dial_id` as the cluster knows it (also kept here)."""
        try:
            record = await self.store.load(dial_id)
        except ClusterUnavailableError:
            _log.warning("dial.shared_state_unavailable", dial_id=dial_id)
            return self.dials.get(dial_id)
        return self._adopt(record) or self.dials.get(dial_id)

    async def pull_call(self, call_id: str) -> DialOut | None:
        """The dial-out whose carrier call id is `call_id` (None: not a dial-out)."""
        if not call_id:
            return None
        try:
            record = await self.store.load_call(call_id)
        except ClusterUnavailableError:
            _log.warning("dial.shared_state_unavailable", call_sid=call_id)
            return self.dials.by_call(call_id)
        return self._adopt(record) or self.dials.by_call(call_id)

    async def push_call(self, call_id: str) -> None:
        """`push` the dial-out whose carrier call id is `call_id` (if it is one)."""
        dial = self.dials.by_call(call_id)
        if dial is not None:
            await self.push(dial.id)

    async def push(self, dial_id: str) -> None:
        """Write this replica's view of `dial_id` (merged with the stored one) to Redis."""
        local = self.dials.get(dial_id)
        if local is None:
            return
        variables = self.dials.variables(dial_id)

        def change(stored: dict[str, Any] | None) -> dict[str, Any]:
            dial, known = local, variables
            if stored is not None:
                try:
                    dial = merged(decode(stored["dial"]), local)
                    known = dict(stored.get("variables") or variables)
                except (KeyError, TypeError, ValueError):
                    pass  # an unreadable record: this replica's view replaces it
            return {"dial": encode(dial), "variables": known}

        def call_ids(record: dict[str, Any]) -> list[str]:
            dial = record["dial"]
            return [str(c) for c in (dial["carrier_call_id"], dial["leg_id"]) if c]

        try:
            record = await self.store.save(dial_id, change, call_ids)
        except ClusterUnavailableError:
            _log.warning("dial.shared_state_unavailable", dial_id=dial_id)
            return
        self._adopt(record)

    def _adopt(self, record: dict[str, Any] | None) -> DialOut | None:
        if record is None:
            return None
        try:
            dial = decode(record["dial"])
            variables = {str(k): str(v) for k, v in dict(record.get("variables") or {}).items()}
        except (KeyError, TypeError, ValueError):
            _log.warning("dial.shared_state_unreadable")
            return None
        return self.dials.adopt(dial, variables, self._rebuild)
