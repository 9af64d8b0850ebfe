"""`POST /calls`'s body, checked (pure): numbers, the allowlist, the profile's placeholders.

`read_order` turns the parsed JSON into a `DialOrder`, or a `Problem` naming the field and the
reason (the route answers it as JSON; no value of the request is echoed but the names of
fields, profiles, carriers and placeholders, which the caller chose and which are no secret).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from gateway.carriers.dial import MachineDetection

__all__ = ["E164", "MAX_VARIABLE_CHARS", "DialOrder", "DialPolicy", "Problem", "read_order"]

E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")
MAX_VARIABLE_CHARS: Final = 500
MAX_VARIABLES: Final = 50
_NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,63}")
_FIELDS: Final = frozenset(
    {"to", "from", "carrier", "profile", "variables", "machine_detection", "ring_timeout_s"}
)


@dataclass(frozen=True)
class DialOrder:
    """A dial-out the API accepted (not placed yet)."""

    to_number: str
    from_number: str
    carrier: str
    profile: str
    variables: Mapping[str, str] = field(default_factory=dict, repr=False)
    machine_detection: MachineDetection = MachineDetection.OFF
    ring_timeout_s: int = 30


@dataclass(frozen=True)
class Problem:
    """Why a request is refused: HTTP `status`, a `reason`, the `field` at fault."""

    status: int
    reason: str
    field: str | None = None

    def body(self) -> dict[str, str]:
        return {"error": self.reason, **({"field": self.field} if self.field else {})}


@dataclass(frozen=True)
class DialPolicy:
    """What a request is checked against."""

    allowed_prefixes: tuple[str, ...]
    carriers: tuple[str, ...]
    """Carriers that can dial now (credentials set)."""
    default_carrier: str | None
    profiles: Mapping[str, frozenset[str]]
    """Profile name -> the placeholders its texts use."""
    default_profile: str | None


def allowed(number: str, prefixes: tuple[str, ...]) -> bool:
    return any(number.startswith(prefix) for prefix in prefixes)


def _number(body: Mapping[str, Any], name: str) -> str | Problem:
    value = body.get(name)
    if not isinstance(value, str):
        return Problem(422, f"{name} is required: an E.164 number", name)
    if not E164.fullmatch(value):
        return Problem(422, f"{name} must be an E.164 number (+15551234567)", name)
    return value


def _variables(value: Any) -> dict[str, str] | Problem:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_VARIABLES:
        return Problem(422, f"variables must be an object of at most {MAX_VARIABLES} strings")
    result: dict[str, str] = {}
    for name, text in value.items():
        if not _NAME.fullmatch(name):
            return Problem(422, "variable names are lower-case identifiers", "variables")
        if not isinstance(text, str) or len(text) > MAX_VARIABLE_CHARS:
            reason = f"variable {name} must be a string of at most {MAX_VARIABLE_CHARS} characters"
            return Problem(422, reason, "variables")
        result[name] = text
    return result


def _carrier(body: Mapping[str, Any], policy: DialPolicy) -> str | Problem:
    name = body.get("carrier")
    if name is None:
        if policy.default_carrier is not None:
            name = policy.default_carrier
        elif len(policy.carriers) == 1:
            return policy.carriers[0]
        else:
            return Problem(422, "carrier is required: several (or no) carriers can dial", "carrier")
    if not isinstance(name, str) or name not in policy.carriers:
        return Problem(
            422, "carrier cannot dial out (unknown, or its credentials unset)", "carrier"
        )
    return name


def read_order(body: Any, policy: DialPolicy) -> DialOrder | Problem:
    """The request's dial-out, or why it is refused (the first problem found)."""
    if not isinstance(body, dict):
        return Problem(400, "the body must be a JSON object")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        return Problem(422, f"unknown field {unknown[0]}", unknown[0][:64])
    to_number = _number(body, "to")
    if isinstance(to_number, Problem):
        return to_number
    from_number = _number(body, "from")
    if isinstance(from_number, Problem):
        return from_number
    if not allowed(to_number, policy.allowed_prefixes):
        return Problem(403, "destination not allowed (GATEWAY_DIAL_ALLOWED_PREFIXES)", "to")
    carrier = _carrier(body, policy)
    if isinstance(carrier, Problem):
        return carrier
    profile = body.get("profile", policy.default_profile)
    if not isinstance(profile, str) or profile not in policy.profiles:
        return Problem(422, "unknown profile", "profile")
    variables = _variables(body.get("variables"))
    if isinstance(variables, Problem):
        return variables
    wanted = policy.profiles[profile]
    for name in sorted(wanted - set(variables)):
        return Problem(422, f"missing variable {name}", "variables")
    for name in sorted(set(variables) - wanted):
        reason = f"unknown variable {name} (profile {profile} has no {{{name}}})"
        return Problem(422, reason, "variables")
    try:
        detection = MachineDetection(body.get("machine_detection", "off"))
    except ValueError:
        reason = "machine_detection must be off, hang_up or leave_voicemail"
        return Problem(422, reason, "machine_detection")
    ring = body.get("ring_timeout_s", 30)
    if not isinstance(ring, int) or isinstance(ring, bool) or not 5 <= ring <= 120:
        return Problem(422, "ring_timeout_s must be whole seconds from 5 to 120", "ring_timeout_s")
    return DialOrder(to_number, from_number, carrier, profile, variables, detection, ring)
