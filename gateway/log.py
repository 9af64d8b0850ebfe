"""Structured logging: one JSON object per line on stdout (or a console renderer for humans).

Call `configure()` once at process start. Bind a call's ids once with
`structlog.contextvars.bind_contextvars(call_sid=..., stream_sid=...)` or a bound logger; never log
audio bytes. Secrets are masked twice: by field name (anything that looks like a key, token, secret,
password or authorization header) and by value (every string registered with `register_secret`).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from gateway.call_log import merge_call_fields

# `token` but not `tokens`: usage counts such as `prompt_tokens` are numbers, not credentials.
_SECRET_FIELD = re.compile(r"(api_?key|token(?!s)|secret|password|authorization|signature)", re.I)
_MASK = "***"
_registered: set[str] = set()
# Credentials in the plain text of other libraries' log lines (websockets logs request headers
# at DEBUG): the header's or query parameter's value is masked whether registered or not.
_SECRET_HEADER = re.compile(
    r"(?i)\b(x-goog-api-key|authorization|x-twilio-signature|proxy-authorization)(\s*[:=]\s*)"
    r"[^\r\n,'\"]+"
)
_SECRET_QUERY = re.compile(r"(?i)([?&](?:key|access_token|token)=)[^&#\s'\"]+")


def register_secret(value: str | None) -> None:
    """Mask `value` wherever it appears in any logged string from now on (ignores short values)."""
    if value and len(value) >= 6:
        _registered.add(value)


def redact_text(text: str) -> str:
    """Return `text` with every registered secret replaced by a mask."""
    for secret in _registered:
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


class _RedactingFormatter(logging.Formatter):
    """The stdlib lines (libraries: uvicorn, websockets) on stderr, secrets masked like ours."""

    def format(self, record: logging.LogRecord) -> str:
        text = redact_text(super().format(record))
        text = _SECRET_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{_MASK}", text)
        return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}{_MASK}", text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            k: (_MASK if _SECRET_FIELD.search(str(k)) and v else _redact_value(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


def _redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        value = event_dict[key]
        if key != "event" and _SECRET_FIELD.search(key) and value:
            event_dict[key] = _MASK
        else:
            event_dict[key] = _redact_value(value)
    return event_dict


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Set up structlog (and the stdlib root logger) for the whole process."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False)
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            merge_call_fields,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter("%(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=numeric, handlers=[handler])


def get_logger(**initial: Any) -> structlog.stdlib.BoundLogger:
    """A structlog logger with `initial` fields bound."""
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(**initial)
    return logger
