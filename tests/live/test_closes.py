"""Close classification (protocols.md A.9)."""

from __future__ import annotations

import pytest

from gateway.live.closes import (
    CloseInfo,
    CloseKind,
    classify_close,
    close_info,
    handshake_refusal,
)


@pytest.mark.parametrize(
    ("code", "reason", "go_away", "kind"),
    [
        (1000, "", False, CloseKind.NORMAL),
        (1005, "", False, CloseKind.NORMAL),
        (1000, "", True, CloseKind.RESUMABLE),
        (None, "", False, CloseKind.RESUMABLE),
        (1006, "", False, CloseKind.RESUMABLE),
        (1011, "Internal error encountered.", False, CloseKind.RESUMABLE),
        (1011, "The service is currently unavailable.", False, CloseKind.RESUMABLE),
        (1011, "Deadline expired before operation could complete.", True, CloseKind.RESUMABLE),
        (1011, "keepalive ping timeout", False, CloseKind.RESUMABLE),
        (1001, "", False, CloseKind.RESUMABLE),
        (1013, "", False, CloseKind.RESUMABLE),
        (4321, "", False, CloseKind.RESUMABLE),
        (1007, "Request contains an invalid argument.", False, CloseKind.FATAL_CONFIG),
        (1007, "Unknown name \"x\" at 'setup': Cannot find field.", True, CloseKind.FATAL_CONFIG),
        (1008, "models/x is not found for API version v1beta", False, CloseKind.FATAL_CONFIG),
        (1009, "", False, CloseKind.FATAL_CONFIG),
        (1011, "You exceeded your current quota", False, CloseKind.QUOTA),
        (1011, "RESOURCE_EXHAUSTED: try later", True, CloseKind.QUOTA),
        (1008, "Resource exhausted", False, CloseKind.QUOTA),
    ],
)
def test_classify(code: int | None, reason: str, go_away: bool, kind: CloseKind) -> None:
    assert classify_close(code, reason, go_away_seen=go_away) is kind


def test_close_info_reports_no_close_frame_as_1006() -> None:
    assert close_info(None, "", go_away_seen=False) == CloseInfo(
        1006, "", CloseKind.RESUMABLE, go_away_seen=False
    )
    assert close_info(1011, "x", go_away_seen=True).resumable
    assert not close_info(1007, "x", go_away_seen=False).resumable


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (429, CloseInfo(1011, "HTTP 429 RESOURCE_EXHAUSTED", CloseKind.QUOTA)),
        (401, CloseInfo(1008, "HTTP 401 at the opening handshake", CloseKind.FATAL_CONFIG)),
        (404, CloseInfo(1008, "HTTP 404 at the opening handshake", CloseKind.FATAL_CONFIG)),
        (500, CloseInfo(1006, "HTTP 500 at the opening handshake", CloseKind.RESUMABLE)),
        (302, CloseInfo(1006, "HTTP 302 at the opening handshake", CloseKind.RESUMABLE)),
    ],
)
def test_handshake_refusal_is_classified_like_a_close(status: int, expected: CloseInfo) -> None:
    assert handshake_refusal(status) == expected
