"""Reading the environment: `.env` parsing and typed, validated variable access.

`EnvReader` turns the merged environment (process over `.env`) into typed values through the
options schema (gateway.options); every refusal is a `SettingsError` that names the variable.
The settings modules (gateway.settings,
gateway/carriers/<name>/settings.py, gateway.agent_settings) all
read through it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gateway.options.option import (
    Option,
    OptionValueError,
    Value,
    as_bool,
    as_float,
    as_int,
    as_strings,
    as_text,
    from_text,
)

__all__ = ["EnvReader", "EnvWarning", "SettingsError", "parse_dotenv", "unknown_variables"]

OUR_PREFIX = "GATEWAY_"
"""Names with this prefix are the gateway's own: one it does not read is a likely typo."""


class SettingsError(ValueError):
    """A variable has a value the gateway cannot use (the message names the variable)."""


@dataclass(frozen=True)
class EnvWarning:
    """A variable the gateway does not read, set where it looks for its own (a likely typo)."""

    name: str
    source: str
    """`.env` (the file's path) or `environment`."""
    suggestion: str | None
    """The variable it probably means, if one is close."""

    def fields(self) -> dict[str, str | None]:
        """The log line's fields (never the value: it may be a secret)."""
        return {
            "variable": self.name,
            "source": self.source,
            "did_you_mean": self.suggestion,
            "message": f"{self.name} is not a gateway variable and is ignored"
            + (f"; did you mean {self.suggestion}?" if self.suggestion else ""),
        }


def parse_dotenv(text: str, source: str = ".env") -> dict[str, str]:
    """Parse `.env` text: `KEY=VALUE` lines, optional `export `, `#` comments, optional quotes.

    Values in double quotes understand `\\n`, `\\"` and `\\\\`; single quotes are literal; an
    unquoted value ends at ` #`; a quoted value may be followed by a ` # comment`. A line that is
    not an assignment, a name that is not a variable name, a quote that is not closed on its line
    or text after a closing quote raise SettingsError naming `source` and the line number, never
    the line's text (it may hold a secret).
    """
    result: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        where = f"{source} line {number}"
        if not sep:
            raise SettingsError(f"{where} is not a NAME=VALUE assignment (no '=')")
        if not key.isidentifier() or not key.isascii():
            raise SettingsError(f"{where}: the name before '=' is not a valid variable name")
        result[key] = _value(value.strip(), f"{where} ({key})")
    return result


def _value(value: str, where: str) -> str:
    if not value or value[0] not in "\"'":
        hash_at = value.find(" #")
        return value[:hash_at].rstrip() if hash_at >= 0 else value
    quote = value[0]
    out: list[str] = []
    i = 1
    while i < len(value):
        ch = value[i]
        if quote == '"' and ch == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append({"n": "\n", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
            continue
        if ch == quote:
            rest = value[i + 1 :].strip()
            if rest and not rest.startswith("#"):
                raise SettingsError(f"{where}: text after the closing quote")
            return "".join(out)
        out.append(ch)
        i += 1
    raise SettingsError(
        f"{where}: the value's opening {quote} is not closed on its line "
        "(values cannot span lines; close the quote)"
    )


def unknown_variables(
    sources: Iterable[tuple[str, Iterable[str]]], read: Iterable[str]
) -> list[EnvWarning]:
    """GATEWAY_ names set in `sources` ((source, names) pairs) that the settings never `read`,
    each with the closest name read, if any is close."""
    known = sorted({name for name in read if name.startswith(OUR_PREFIX)})
    warnings: list[EnvWarning] = []
    seen: set[str] = set()
    for source, names in sources:
        for name in sorted(names):
            if not name.startswith(OUR_PREFIX) or name in known or name in seen:
                continue
            seen.add(name)
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
            warnings.append(EnvWarning(name, source, close[0] if close else None))
    return warnings


class EnvReader:
    """Typed access to one merged environment; blank values count as unset.

    Every value goes through its `Option` (gateway.options): `get` for a declared option; the
    name-based methods (`text`, `boolean`, `integer`, `number`, `choice`) build the option on
    the spot, so both take the one coercion path and refuse alike.
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self.read: set[str] = set()
        """Every name asked for (what `unknown_variables` compares the environment with)."""

    def text(self, name: str) -> str | None:
        self.read.add(name)
        value = self._env.get(name, "").strip()
        return value or None

    def get(self, option: Option) -> Value:
        """The option's typed value; SettingsError names the variable."""
        if option.env is None:
            raise ValueError(f"{option.name} is not an environment variable")
        try:
            return from_text(option, self.text(option.env))
        except OptionValueError as exc:
            raise SettingsError(f"{option.env} {exc}") from None

    def get_text(self, option: Option) -> str | None:
        return as_text(self.get(option))

    def get_bool(self, option: Option) -> bool:
        return bool(as_bool(self.get(option)))

    def get_flag(self, option: Option) -> bool | None:
        return as_bool(self.get(option))

    def get_int(self, option: Option) -> int | None:
        return as_int(self.get(option))

    def get_float(self, option: Option) -> float | None:
        return as_float(self.get(option))

    def get_strings(self, option: Option) -> tuple[str, ...]:
        return as_strings(self.get(option))

    def boolean(self, name: str, default: bool) -> bool:
        return self.get_bool(Option(name, "bool", "", "", default=default))

    def integer(self, name: str, default: int | None, *, minimum: int = 0) -> int | None:
        return self.get_int(Option(name, "int", "", "", default=default, minimum=minimum))

    def number(self, name: str, default: float) -> float:
        value = self.get_float(Option(name, "number", "", "", default=default, minimum=0))
        return default if value is None else value

    def choice(self, name: str, choices: tuple[str, ...]) -> str | None:
        return self.get_text(Option(name, "choice", "", "", choices=choices))
