"""Telnyx Call Control requests for transfer and hang-up, and how their answers are read."""

from __future__ import annotations

import pytest

from gateway.carriers.control import CallControl, ControlOutcome
from gateway.carriers.telnyx.rest import TelnyxCallControl
from gateway.core.events import HangUp, Transfer

CALL = "v3:9X2vxPDFY2RHSJ1EdMS0RHRk"


def control() -> TelnyxCallControl:
    return TelnyxCallControl(
        "KEY0123-secret", api_base="https://api.example/", new_id=lambda: "cmd-1"
    )


def test_it_is_a_call_control() -> None:
    seam: CallControl = control()
    assert seam.carrier == "telnyx"
    assert "KEY0123" not in repr(seam)


def test_hang_up() -> None:
    request = control().request(CALL, HangUp())
    assert request.method == "POST"
    assert request.url == f"https://api.example/v2/calls/{CALL}/actions/hangup"
    assert request.headers == {
        "Authorization": "Bearer KEY0123-secret",
        "Accept": "application/json",
    }
    assert request.json == {"command_id": "cmd-1"}
    assert request.form is None
    assert request.description == "telnyx call control: hang-up"
    assert "KEY0123" not in repr(request)


def test_transfer() -> None:
    request = control().request(CALL, Transfer("+15551234567", "sales", "One moment."))
    assert request.url == f"https://api.example/v2/calls/{CALL}/actions/transfer"
    assert request.json == {"to": "+15551234567", "command_id": "cmd-1"}
    assert request.description.startswith("telnyx call control: transfer to sales")
    assert "announcement not spoken" in request.description


def test_the_call_id_is_one_path_segment() -> None:
    request = control().request("v3:a/b?c", HangUp())
    assert request.url == "https://api.example/v2/calls/v3:a%2Fb%3Fc/actions/hangup"


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, b"{}", ControlOutcome.DONE),
        (
            422,
            b'{"errors":[{"code":"90018","title":"Call has already ended"}]}',
            ControlOutcome.ALREADY_ENDED,
        ),
        (404, b"", ControlOutcome.ALREADY_ENDED),
        (422, b'{"errors":[{"code":"10015"}]}', ControlOutcome.FAILED),
        (422, b"not json", ControlOutcome.FAILED),
        (401, b"", ControlOutcome.FAILED),
        (429, b"", ControlOutcome.RETRY),
        (503, b"", ControlOutcome.RETRY),
        (408, b"", ControlOutcome.RETRY),
    ],
)
def test_outcomes(status: int, body: bytes, outcome: ControlOutcome) -> None:
    assert control().outcome(status, body) is outcome
