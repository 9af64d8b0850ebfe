"""Reading one tool's table from the tools file: typed values, defaults, and errors that name
the file, the tool and the field (`tools.toml: tool "lookup_order": timeout_s must be > 0`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from gateway.options.option import (
    Kind,
    Option,
    OptionValueError,
    Value,
    as_bool,
    as_float,
    as_int,
    as_text,
    from_toml,
)
from gateway.tools.env import MissingVariableError, expand

__all__ = ["Fields", "ToolsFileError"]


class ToolsFileError(ValueError):
    """The tools file cannot be used; the message names the file, the tool and the field."""


class Fields:
    """One tool's table, read with its defaults; every failure names the tool and field."""

    def __init__(self, table: Mapping[str, Any], defaults: Mapping[str, Any], where: str) -> None:
        self.table = table
        self.defaults = defaults
        self.where = where

    def fail(self, message: str) -> NoReturn:
        raise ToolsFileError(f"{self.where}: {message}")

    def value(self, key: str) -> Any:
        return self.table.get(key, self.defaults.get(key))

    def typed(self, key: str, kind: Kind) -> Value:
        """The key's value coerced like every option (gateway.options): one path for TOML."""
        try:
            return from_toml(Option(None, kind, "", "", profile=key), self.value(key))
        except OptionValueError as exc:
            self.fail(f"{key} {exc}")

    def text(self, key: str, default: str | None = None) -> str:
        value = as_text(self.typed(key, "text"))
        if value is None:
            if default is None:
                self.fail(f"{key} is required")
            return default
        return value

    def number(self, key: str, default: float, maximum: float, *, positive: bool) -> float:
        value = as_float(self.typed(key, "number"))
        if value is None:
            return default
        if positive and value <= 0:
            self.fail(f"{key} must be > 0")
        if value < 0:
            self.fail(f"{key} must be >= 0")
        if value > maximum:
            self.fail(f"{key} must be at most {maximum:g}")
        return float(value)

    def whole(self, key: str, default: int, minimum: int, maximum: int) -> int:
        value = as_int(self.typed(key, "int"))
        if value is None:
            return default
        if not minimum <= value <= maximum:
            self.fail(f"{key} must be between {minimum} and {maximum}")
        return value

    def flag(self, key: str) -> bool:
        return bool(as_bool(self.typed(key, "bool")))

    def expanded(
        self, key: str, text: str, environ: Mapping[str, str]
    ) -> tuple[str, tuple[str, ...]]:
        try:
            return expand(text, environ)
        except MissingVariableError as exc:
            self.fail(f"{key} uses ${{{exc.name}}}, which is not set in the environment")
