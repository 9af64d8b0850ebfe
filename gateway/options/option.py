"""One setting, declared once: the `Option` type and its one coercion path.

An `Option` names the environment variable, the agent-profile key (when a profile may set it),
the type, the default, the bounds or allowed values and one line of documentation. The
environment reader (`gateway.env_reader.EnvReader.get`) and the profiles loader
(`gateway.agents.loader`) both turn raw values into typed ones through `from_text` and
`from_toml` below, so a variable and its profile key accept the same values and refuse the same
ones. `scripts/gen_config_docs.py` writes `.env.example` and the tables of
docs/configuration.md from the declarations.

Pure: no I/O, no imports from the rest of the gateway, so a carrier's folder can declare its
own options with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "Kind",
    "Option",
    "OptionValueError",
    "Value",
    "as_bool",
    "as_float",
    "as_int",
    "as_strings",
    "as_text",
    "from_text",
    "from_toml",
    "render_default",
]

Kind = Literal["text", "secret", "bool", "flag", "int", "number", "choice", "list"]
"""`text`: a string (`secret`: one never echoed); `bool`: true/false with a default; `flag`:
true/false or unset (then left off the wire); `int`, `number`: bounded numbers; `choice`: one
of `choices` (any case, read lower-case); `list`: comma-separated in the environment, a list of
strings in a profile."""

Value = str | bool | int | float | tuple[str, ...] | None

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class OptionValueError(ValueError):
    """A value the option refuses; the message is the part after the option's name
    (`must be true or false, not 'maybe'`), so each reader prefixes where the value came from."""


@dataclass(frozen=True)
class Option:
    """One setting: where it is read from, what it accepts, and what it means."""

    env: str | None
    """The environment variable; None for a profile-only key."""
    kind: Kind
    doc: str
    """What it does, for the docs' table and `.env.example` (Markdown; one line)."""
    section: str
    """The docs section (and `.env.example` block) it is listed under."""
    default: Value = None
    """Unset (or blank): this value. None: unset means the server's or the code's choice."""
    profile: str | None = None
    """The key in an agent profile (`temperature`, `vad.silence_duration_ms`), if any."""
    live_field: str | None = None
    """The `LiveConfig` option it sets, so a refused Live option names this variable or key."""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    check: Callable[[Any], str | None] | None = None
    """A further check of the typed value: None, or what is wrong (`must be a sip: URI`)."""
    default_doc: str | None = None
    """The docs' default column, when the default needs words (`server default`)."""
    example: str | None = None
    """`.env.example` shows this, commented out (`# NAME=example`), instead of `NAME=default`."""
    profile_doc: str | None = None
    """The profiles table's meaning, when it differs from `doc` (docs/agents.md)."""
    profile_default_doc: str | None = None
    """The profiles table's default, when it differs from the variable's."""
    own_row: bool = True
    """False: the docs' table lists it in the previous option's row (`GATEWAY_HOST`,
    `GATEWAY_PORT`), whose meaning covers both."""

    def __post_init__(self) -> None:
        if self.env is None and self.profile is None:
            raise ValueError("an option needs an environment name, a profile key or both")
        if (self.kind == "choice") != bool(self.choices):
            raise ValueError(f"{self.name}: choices go with kind 'choice' (and only with it)")

    @property
    def name(self) -> str:
        """How errors and docs name it: the variable, else the profile key."""
        return self.env or str(self.profile)


def _bounded(option: Option, number: float) -> float:
    if option.minimum is not None and number < option.minimum:
        if option.minimum == 0 and option.kind == "number":
            raise OptionValueError("must not be negative")
        raise OptionValueError(f"must be at least {option.minimum:g}")
    if option.maximum is not None and number > option.maximum:
        raise OptionValueError(f"must be at most {option.maximum:g}")
    return number


def _checked(option: Option, value: Value) -> Value:
    if option.check is not None and value is not None:
        problem = option.check(value)
        if problem is not None:
            raise OptionValueError(problem)
    return value


def from_text(option: Option, text: str | None) -> Value:
    """The typed value of an environment string (None or blank: the default)."""
    value = (text or "").strip()
    if not value:
        return option.default
    kind = option.kind
    result: Value
    if kind in ("text", "secret"):
        result = value
    elif kind in ("bool", "flag"):
        if value.lower() in _TRUE:
            result = True
        elif value.lower() in _FALSE:
            result = False
        else:
            raise OptionValueError(f"must be true or false, not {value!r}")
    elif kind == "int":
        try:
            result = int(_bounded(option, int(value)))
        except ValueError as exc:
            if isinstance(exc, OptionValueError):
                raise
            raise OptionValueError(f"must be an integer, not {value!r}") from None
    elif kind == "number":
        try:
            number = float(value)
        except ValueError:
            raise OptionValueError(f"must be a number, not {value!r}") from None
        result = _bounded(option, number)
    elif kind == "choice":
        if value.lower() not in option.choices:
            raise OptionValueError(f"must be one of {', '.join(option.choices)}, not {value!r}")
        result = value.lower()
    else:  # list
        result = tuple(part.strip() for part in value.split(",") if part.strip())
    return _checked(option, result)


def from_toml(option: Option, value: Any) -> Value:
    """The typed value of a profile's TOML value (None: the default)."""
    if value is None:
        return option.default
    kind = option.kind
    result: Value
    if kind in ("text", "secret"):
        if not isinstance(value, str) or not value.strip():
            raise OptionValueError("must be a non-empty string")
        result = value.strip()
    elif kind in ("bool", "flag"):
        if not isinstance(value, bool):
            raise OptionValueError("must be true or false")
        result = value
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise OptionValueError("must be a whole number")
        result = int(_bounded(option, value))
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OptionValueError("must be a number")
        result = _bounded(option, float(value))
    elif kind == "choice":
        if not isinstance(value, str) or value.lower() not in option.choices:
            raise OptionValueError(f"must be one of {', '.join(option.choices)}")
        result = value.lower()
    else:  # list
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise OptionValueError("must be a list of non-empty strings")
        result = tuple(value)
    return _checked(option, result)


def render_default(option: Option) -> str:
    """The default as `.env.example` writes it (empty: unset)."""
    value = option.default
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


# Typed views of a coerced value (the kind decides which one a reader uses).


def as_text(value: Value) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    return value


def as_bool(value: Value) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"expected true/false, got {value!r}")
    return value


def as_int(value: Value) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"expected a whole number, got {value!r}")
    return value


def as_float(value: Value) -> float | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise TypeError(f"expected a number, got {value!r}")
    return None if value is None else float(value)


def as_strings(value: Value) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, tuple):
        raise TypeError(f"expected a list, got {value!r}")
    return value
