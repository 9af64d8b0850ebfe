"""`${NAME}` references in the tools file, resolved from the environment once, at load.

`${NAME}` is replaced by the variable's value, `${NAME:-fallback}` by the fallback when the
variable is unset or empty, `$$` by a single `$`; any other `$` stays as it is. A referenced
variable that is missing (and has no fallback) is an error that names the variable, never a
value. Values put into headers are registered with the log redactor, so they are masked in
every log line from then on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

__all__ = ["MissingVariableError", "expand"]

_REFERENCE: Final = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class MissingVariableError(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"environment variable {name} is not set")
        self.name = name


def expand(text: str, environ: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """`text` with its references resolved, and the values that came from the environment."""
    used: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, fallback = match.group(1), match.group(2)
        value = environ.get(name, "")
        if value:
            used.append(value)
            return value
        if fallback is not None:
            return fallback
        raise MissingVariableError(name)

    return _REFERENCE.sub(replace, text), tuple(used)
