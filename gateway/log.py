"""Structured logging: one JSON object per line on stdout (or a console renderer for humans).

Call `configure()` once at process start. Bind a call's ids once with
`structlog.contextvars.bind_contextvars(call_sid=..., stream_sid=...)` or a bound logger; never log
audio bytes. Secrets are masked twice: by field name (anything that looks like a key, token, secret,
password or authorization header) and by value (every string registered with `register_secret`).

Every line the process writes is in the chosen format, JSON by default: the gateway's own lines on
stdout, and on stderr the stdlib logging of libraries (uvicorn, websockets, asyncio's "Task
exception was never retrieved"), Python warnings, uncaught exceptions and unraisable ones, each
rendered by the same structlog processors (`logger` names the library). Writing a log line never
raises: when a stream is gone (`gateway serve | head` exited), its file descriptor is pointed at
/dev/null and the process goes on, so a signal still drains and stops it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import MutableMapping
from types import TracebackType
from typing import Any, TextIO

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


def _redact_library_text(text: str) -> str:
    text = redact_text(text)
    text = _SECRET_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{_MASK}", text)
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}{_MASK}", text)


def _redact_foreign(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Library lines are free text: mask credential headers and query parameters in them."""
    for key in ("event", "exception"):
        value = event_dict.get(key)
        if isinstance(value, str):
            event_dict[key] = _redact_library_text(value)
    return event_dict


class SafeStream:
    """A text stream for log lines that never raises: once writing fails (a closed pipe, a full
    disk), the file descriptor is pointed at /dev/null and later lines are dropped quietly."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                self._stream.write(text)
            except (OSError, ValueError):
                self._break()
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._break()

    def _break(self) -> None:
        self.broken = True
        try:  # Python's own flush at exit then writes to /dev/null instead of failing again
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass


_safe_streams: dict[int, SafeStream] = {}


def _safe(stream: TextIO) -> SafeStream:
    """One SafeStream per stream object (stdout, stderr), shared by every writer."""
    safe = _safe_streams.get(id(stream))
    if safe is None or safe._stream is not stream:
        safe = _safe_streams[id(stream)] = SafeStream(stream)
    return safe


class _SafeHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler whose errors (a broken stream) are dropped, not printed to stderr."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - stdlib's name
        pass


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
    """Set up structlog, the stdlib root logger, warnings and the exception hooks for the whole
    process: every line in `fmt` (`json` or `console`)."""
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
        logger_factory=structlog.PrintLoggerFactory(file=_safe(sys.stdout)),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(allow=["thread_name"]),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact_foreign,
            _redact,
            renderer,
        ],
    )
    handler = _SafeHandler(_safe(sys.stderr))
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    # httpx logs every request at INFO; the gateway logs its own decisions about them (tool
    # calls, call control), so its lines are kept for DEBUG.
    logging.getLogger("httpx").setLevel(
        logging.DEBUG if numeric <= logging.DEBUG else logging.WARNING
    )
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_thread_exception
    sys.unraisablehook = _log_unraisable


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    logging.getLogger("gateway").critical("process.uncaught_exception", exc_info=(kind, value, tb))


def _log_thread_exception(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    exc_info = (args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)
    name = args.thread.name if args.thread is not None else None
    logging.getLogger("gateway").error(
        "thread.uncaught_exception", exc_info=exc_info, extra={"thread_name": name}
    )


def _log_unraisable(args: Any) -> None:
    exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
    what = args.err_msg or "Exception ignored in"
    logging.getLogger("gateway").warning(
        "%s: %s", what, _describe(args.object), exc_info=exc_info if args.exc_value else None
    )


def _describe(obj: Any) -> str:
    try:
        return repr(obj)[:200]
    except Exception:  # a broken __repr__ must not break the hook
        return object.__repr__(obj)


def get_logger(**initial: Any) -> structlog.stdlib.BoundLogger:
    """A structlog logger with `initial` fields bound."""
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(**initial)
    return logger
