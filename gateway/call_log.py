"""Log fields shared by every task of one call, and changed while the call runs.

`structlog.contextvars` binds a field for the current task only (each task starts from a copy of
its parent's context), so a field known only later, such as the call's current Live session, would
never reach the lines of the tasks started before it. `new_call_fields()`, called in the call's
task before it starts the others, gives the call one shared mapping; `set_call_field()` from any
of its tasks changes what every line of the call carries from then on (the Live session, rebound
when a session replaces another). A field that is not known yet is absent, never null.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

__all__ = ["merge_call_fields", "new_call_fields", "set_call_field"]

_FIELDS: ContextVar[dict[str, Any] | None] = ContextVar("gateway_call_fields", default=None)


def new_call_fields() -> None:
    """Start this task's own (empty) set of call fields; tasks it starts from now on share it."""
    _FIELDS.set({})


def set_call_field(name: str, value: Any) -> None:
    """Set `name` on every line of the calling task's call (None removes it)."""
    fields = _FIELDS.get()
    if fields is None:
        fields = {}
        _FIELDS.set(fields)
    if value is None:
        fields.pop(name, None)
    else:
        fields[name] = value


def merge_call_fields(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: the call's fields, unless the line sets them itself."""
    fields = _FIELDS.get()
    if fields:
        for name, value in fields.items():
            event_dict.setdefault(name, value)
    return event_dict
