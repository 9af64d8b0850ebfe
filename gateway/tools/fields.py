"""Reading one tool's table from the tools file: typed values, defaults, and errors that name
the file, the tool and the field (`tools.toml: tool "lookup_order": timeout_s must be > 0`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

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

    def text(self, key: str, default: str | None = None) -> str:
        value = self.value(key)
        if value is None:
            if default is None:
                self.fail(f"{key} is required")
            return default
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{key} must be a non-empty string")
        return value.strip()

    def number(self, key: str, default: float, maximum: float, *, positive: bool) -> float:
        value = self.value(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"{key} must be a number")
        if positive and value <= 0:
            self.fail(f"{key} must be > 0")
        if value < 0:
            self.fail(f"{key} must be >= 0")
        if value > maximum:
            self.fail(f"{key} must be at most {maximum:g}")
        return float(value)

    def whole(self, key: str, default: int, minimum: int, maximum: int) -> int:
        value = self.value(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{key} must be a whole number")
        if not minimum <= value <= maximum:
            self.fail(f"{key} must be between {minimum} and {maximum}")
        return value

    def flag(self, key: str) -> bool:
        value = self.value(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.fail(f"{key} must be true or false")
        return value

    def expanded(
        self, key: str, text: str, environ: Mapping[str, str]
    ) -> tuple[str, tuple[str, ...]]:
        try:
            return expand(text, environ)
        except MissingVariableError as exc:
            self.fail(f"{key} uses ${{{exc.name}}}, which is not set in the environment")
