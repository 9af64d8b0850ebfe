"""Classification of Live connection closes (protocols.md A.9). Pure: code + reason + goAway seen.

The client reports; the caller decides. The kinds:

- `NORMAL`: a 1000/1005 close without a `goAway` first (usually our own close).
- `RESUMABLE`: reconnect with the last resumption handle, with backoff. Any close after a
  `goAway`; 1006 (no close frame: network drop, proxy reap); 1011 internal / unavailable /
  deadline / keepalive; 1001, 1012, 1013, 1014; codes we do not know.
- `FATAL_CONFIG`: 1007 and 1008 (bad setup, unknown model, feature not enabled, bad key) and
  protocol bugs (1002, 1003, 1009, 1010). Retrying cannot help; fix the configuration.
- `QUOTA`: any close whose reason mentions quota or RESOURCE_EXHAUSTED. Retrying now will fail
  the same way; fall back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CloseInfo", "CloseKind", "classify_close", "close_info", "handshake_refusal"]

ABNORMAL_CLOSURE = 1006


class CloseKind(StrEnum):
    NORMAL = "normal"
    RESUMABLE = "resumable"
    FATAL_CONFIG = "fatal_config"
    QUOTA = "quota"


_FATAL_CODES = frozenset({1002, 1003, 1007, 1008, 1009, 1010})
_NORMAL_CODES = frozenset({1000, 1005})
_QUOTA_MARKERS = ("quota", "resource_exhausted", "resource exhausted")


@dataclass(frozen=True)
class CloseInfo:
    """How a Live connection ended. `code` 1006 when there was no close frame."""

    code: int
    reason: str
    kind: CloseKind
    go_away_seen: bool = False

    @property
    def resumable(self) -> bool:
        return self.kind is CloseKind.RESUMABLE


def classify_close(code: int | None, reason: str, *, go_away_seen: bool) -> CloseKind:
    """The kind of a close with `code` (None: no close frame) and `reason` (see module doc)."""
    lowered = reason.lower()
    if any(marker in lowered for marker in _QUOTA_MARKERS):
        return CloseKind.QUOTA
    if code in _FATAL_CODES:
        return CloseKind.FATAL_CONFIG
    if go_away_seen:
        return CloseKind.RESUMABLE
    if code in _NORMAL_CODES:
        return CloseKind.NORMAL
    return CloseKind.RESUMABLE


def close_info(code: int | None, reason: str, *, go_away_seen: bool) -> CloseInfo:
    """A `CloseInfo` for a close (None code becomes 1006, as the SDK reports it)."""
    return CloseInfo(
        code=ABNORMAL_CLOSURE if code is None else code,
        reason=reason,
        kind=classify_close(code, reason, go_away_seen=go_away_seen),
        go_away_seen=go_away_seen,
    )


def handshake_refusal(status: int) -> CloseInfo:
    """Classify an opening handshake the server refused with HTTP `status`, as if it were a close.

    429 is quota; other 4xx (wrong path, key or permission) are configuration, reported as 1008;
    anything else (5xx, odd statuses) is transient, reported as 1006.
    """
    if status == 429:
        return close_info(1011, "HTTP 429 RESOURCE_EXHAUSTED", go_away_seen=False)
    reason = f"HTTP {status} at the opening handshake"
    if 400 <= status < 500:
        return close_info(1008, reason, go_away_seen=False)
    return close_info(None, reason, go_away_seen=False)
