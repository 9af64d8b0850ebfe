"""`POST /calls`'s body, checked: every refusal names its field, none echoes a value."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.carriers.dial import MachineDetection
from gateway.outbound.request import DialOrder, DialPolicy, Problem, read_order

POLICY = DialPolicy(
    allowed_prefixes=("+1555", "+44"),
    carriers=("signalwire", "twilio"),
    default_carrier="twilio",
    profiles={"default": frozenset(), "reminders": frozenset({"customer_name", "day"})},
    default_profile="default",
)


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"to": "+15550104242", "from": "+15550100000"}
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def test_a_minimal_request_takes_the_defaults() -> None:
    assert read_order(body(), POLICY) == DialOrder(
        "+15550104242", "+15550100000", "twilio", "default", {}, MachineDetection.OFF, 30
    )


def test_a_full_request() -> None:
    order = read_order(
        body(
            carrier="signalwire",
            profile="reminders",
            variables={"customer_name": "Ada", "day": "Tuesday"},
            machine_detection="leave_voicemail",
            ring_timeout_s=20,
        ),
        POLICY,
    )
    assert order == DialOrder(
        "+15550104242",
        "+15550100000",
        "signalwire",
        "reminders",
        {"customer_name": "Ada", "day": "Tuesday"},
        MachineDetection.LEAVE_VOICEMAIL,
        20,
    )


@pytest.mark.parametrize(
    ("request_body", "problem"),
    [
        ([], Problem(400, "the body must be a JSON object")),
        (body(extra=1), Problem(422, "unknown field extra", "extra")),
        (body(to=None), Problem(422, "to is required: an E.164 number", "to")),
        (body(to="15550104242"), Problem(422, "to must be an E.164 number (+15551234567)", "to")),
        (body(to="+1555"), Problem(422, "to must be an E.164 number (+15551234567)", "to")),
        (body(**{"from": 5}), Problem(422, "from is required: an E.164 number", "from")),
        (
            body(to="+33612345678"),
            Problem(403, "destination not allowed (GATEWAY_DIAL_ALLOWED_PREFIXES)", "to"),
        ),
        (
            body(carrier="exotel"),
            Problem(422, "carrier cannot dial out (unknown, or its credentials unset)", "carrier"),
        ),
        (body(profile="sales"), Problem(422, "unknown profile", "profile")),
        (
            body(profile="reminders", variables={"day": "Monday"}),
            Problem(422, "missing variable customer_name", "variables"),
        ),
        (
            body(variables={"coupon": "X"}),
            Problem(422, "unknown variable coupon (profile default has no {coupon})", "variables"),
        ),
        (
            body(variables={"Bad Name": "X"}),
            Problem(422, "variable names are lower-case identifiers", "variables"),
        ),
        (
            body(profile="reminders", variables={"customer_name": 1, "day": "M"}),
            Problem(
                422,
                "variable customer_name must be a string of at most 500 characters",
                "variables",
            ),
        ),
        (
            body(machine_detection="yes"),
            Problem(
                422,
                "machine_detection must be off, hang_up or leave_voicemail",
                "machine_detection",
            ),
        ),
        (
            body(ring_timeout_s=True),
            Problem(422, "ring_timeout_s must be whole seconds from 5 to 120", "ring_timeout_s"),
        ),
    ],
)
def test_refusals(request_body: Any, problem: Problem) -> None:
    assert read_order(request_body, POLICY) == problem


def test_an_empty_allowlist_refuses_every_destination() -> None:
    policy = DialPolicy((), ("twilio",), None, {"default": frozenset()}, "default")
    refused = read_order(body(), policy)
    assert isinstance(refused, Problem)
    assert refused.status == 403


def test_without_a_default_one_dialing_carrier_is_taken_several_must_be_named() -> None:
    one = DialPolicy(("+1",), ("plivo",), None, {"default": frozenset()}, "default")
    order = read_order(body(), one)
    assert isinstance(order, DialOrder)
    assert order.carrier == "plivo"
    two = DialPolicy(("+1",), ("plivo", "twilio"), None, {"default": frozenset()}, "default")
    assert read_order(body(), two) == Problem(
        422, "carrier is required: several (or no) carriers can dial", "carrier"
    )


def test_a_problem_body_never_holds_the_values() -> None:
    refused = read_order(body(to="+33612345678"), POLICY)
    assert isinstance(refused, Problem)
    assert "+336" not in str(refused.body())
