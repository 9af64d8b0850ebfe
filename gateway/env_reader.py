"""Reading the environment: `.env` parsing and typed, validated variable access.

`EnvReader` turns the merged environment (process over `.env`) into typed values; every refusal
is a `SettingsError` that names the variable. The settings modules (gateway.settings,
gateway/carriers/<name>/settings.py, gateway.agent_settings) all read through it.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["EnvReader", "SettingsError", "parse_dotenv"]


class SettingsError(ValueError):
    """A variable has a value the gateway cannot use (the message names the variable)."""


def parse_dotenv(text: str) -> dict[str, str]:
    """Parse `.env` text: `KEY=VALUE` lines, optional `export `, `#` comments, optional quotes.

    Values in double quotes understand `\\n`, `\\"` and `\\\\`; single quotes are literal; an
    unquoted value ends at ` #`. Lines that are not assignments are skipped.
    """
    result: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            body = value[1:-1]
            out: list[str] = []
            i = 0
            while i < len(body):
                ch = body[i]
                if ch == "\\" and i + 1 < len(body):
                    nxt = body[i + 1]
                    out.append({"n": "\n", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
                    i += 2
                    continue
                out.append(ch)
                i += 1
            value = "".join(out)
        elif len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        else:
            hash_at = value.find(" #")
            if hash_at >= 0:
                value = value[:hash_at].rstrip()
        result[key] = value
    return result


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class EnvReader:
    """Typed access to one merged environment; blank values count as unset."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def boolean(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise SettingsError(f"{name} must be true or false, not {value!r}")

    def integer(self, name: str, default: int | None, *, minimum: int = 0) -> int | None:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise SettingsError(f"{name} must be an integer, not {value!r}") from None
        if number < minimum:
            raise SettingsError(f"{name} must be at least {minimum}")
        return number

    def number(self, name: str, default: float) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise SettingsError(f"{name} must be a number, not {value!r}") from None
        if number < 0:
            raise SettingsError(f"{name} must not be negative")
        return number

    def choice(self, name: str, choices: tuple[str, ...]) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        if value.lower() not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
        return value.lower()
