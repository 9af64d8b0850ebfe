"""The tools file (`GATEWAY_TOOLS_FILE`, TOML) read and checked into a `Toolbox`.

The format is documented in docs/tools.md. Every mistake stops the load with a `ToolsFileError`
whose message names the file, the tool and the field (`tools.toml: tool "lookup_order":
timeout_s must be > 0`); unknown fields are mistakes too, so a typo cannot silently turn a
setting off. `${NAME}` references (gateway.tools.env) are resolved here, once; the values used
in headers are registered as secrets so no log line can show them.
"""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from gateway.carriers import twiml
from gateway.core.digits import DigitCollection
from gateway.live.protocol import Scheduling
from gateway.log import register_secret
from gateway.tools.base import (
    DEFAULT_MAX_RESULT_BYTES,
    DEFAULT_TIMEOUT_S,
    Handler,
    ToolLimits,
    ToolSpec,
)
from gateway.tools.builtin import (
    DEFAULT_DIGITS_DESCRIPTION,
    DEFAULT_HANG_UP_DESCRIPTION,
    DEFAULT_TRANSFER_DESCRIPTION,
    Destination,
    DigitsHandler,
    HangUpHandler,
    TransferHandler,
    transfer_parameters,
)
from gateway.tools.fields import Fields, ToolsFileError
from gateway.tools.http_tool import IDEMPOTENT_METHODS, METHODS, HttpHandler, placeholders
from gateway.tools.python_tool import CONTEXT_PARAMETER, PythonHandler
from gateway.tools.schema import SchemaError, to_live_schema
from gateway.tools.threads import ToolThreads
from gateway.tools.toolbox import Tool, Toolbox

__all__ = ["KINDS", "ToolsFileError", "load_toolbox", "parse_toolbox"]

KINDS: Final = ("http", "python", "transfer", "hang_up", "collect_digits")
_COMMON: Final = frozenset(
    {"name", "kind", "description", "timeout_s", "max_result_bytes", "redact_args"}
    | {"non_blocking", "scheduling"}
)
_FIELDS: Final = {
    "http": _COMMON
    | {"parameters", "method", "url", "headers", "args_in", "retries", "retry_backoff_s"},
    "python": _COMMON | {"parameters", "function"},
    "transfer": _COMMON | {"destinations"},
    "hang_up": _COMMON,
    "collect_digits": _COMMON
    | {"max_digits", "end_key", "first_digit_timeout_s", "inter_digit_timeout_s", "redact"},
}
_DEFAULTS: Final = frozenset(
    {"timeout_s", "max_result_bytes", "redact_args", "retries", "retry_backoff_s"}
)
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})
_E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")
_DESTINATION_NAME: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_HEADER_NAME: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
MAX_TIMEOUT_S: Final = 300.0
MIN_RESULT_BYTES: Final = 256
MAX_RESULT_BYTES: Final = 1024 * 1024
MAX_RETRIES: Final = 5
MAX_RUNNING_PER_CALL: Final = 1000
MAX_THREADS: Final = 256


def load_toolbox(
    path: Path, environ: Mapping[str, str], *, clock: Callable[[], float] = time.monotonic
) -> Toolbox:
    """Read and check the tools file at `path`; `${NAME}` references come from `environ`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ToolsFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ToolsFileError(f"{path.name}: not valid TOML ({exc})") from None
    return parse_toolbox(data, environ, label=path.name, clock=clock, source=str(path))


def parse_toolbox(
    data: Mapping[str, Any],
    environ: Mapping[str, str],
    *,
    label: str = "tools file",
    clock: Callable[[], float] = time.monotonic,
    source: str = "",
) -> Toolbox:
    """The `Toolbox` for an already parsed tools file (`label` names it in errors)."""
    unknown = sorted(set(data) - {"defaults", "limits", "tools"})
    if unknown:
        raise ToolsFileError(f"{label}: unknown top-level field {unknown[0]!r}")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, Mapping):
        raise ToolsFileError(f"{label}: [defaults] must be a table")
    extra = sorted(set(defaults) - _DEFAULTS)
    if extra:
        raise ToolsFileError(f"{label}: defaults: unknown field {extra[0]!r}")
    entries = data.get("tools", [])
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise ToolsFileError(f"{label}: tools must be an array of tables ([[tools]])")
    limits = _limits(data.get("limits", {}), label)
    threads = ToolThreads(limits.threads)
    tools: list[Tool] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        name = entry.get("name")
        where = f'{label}: tool "{name}"' if isinstance(name, str) else f"{label}: tools[{index}]"
        tool = _tool(Fields(entry, defaults, where), environ, threads)
        if tool.spec.name in seen:
            raise ToolsFileError(f"{where}: another tool has the same name")
        seen.add(tool.spec.name)
        tools.append(tool)
    return Toolbox(tools, clock=clock, source=source, limits=limits, threads=threads)


def _limits(table: Any, label: str) -> ToolLimits:
    if not isinstance(table, Mapping):
        raise ToolsFileError(f"{label}: [limits] must be a table")
    fields = Fields(table, {}, f"{label}: limits")
    extra = sorted(set(table) - {"max_running_per_call", "threads"})
    if extra:
        fields.fail(f"unknown field {extra[0]!r}")
    default = ToolLimits()
    return ToolLimits(
        max_running_per_call=fields.whole(
            "max_running_per_call", default.max_running_per_call, 1, MAX_RUNNING_PER_CALL
        ),
        threads=fields.whole("threads", default.threads, 1, MAX_THREADS),
    )


def _tool(fields: Fields, environ: Mapping[str, str], threads: ToolThreads) -> Tool:
    name = fields.text("name")
    kind = fields.text("kind")
    if kind not in KINDS:
        fields.fail(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    unknown = sorted(set(fields.table) - _FIELDS[kind])
    if unknown:
        fields.fail(f"unknown field {unknown[0]!r} for kind {kind!r}")
    handler: Handler
    parameters = _parameters(fields, kind)
    if kind == "http":
        handler = _http(fields, parameters, environ)
    elif kind == "python":
        handler = _python(fields, threads)
    elif kind == "transfer":
        destinations = _destinations(fields, environ)
        handler = TransferHandler(destinations)
        parameters = transfer_parameters(destinations)
    elif kind == "collect_digits":
        handler = DigitsHandler(_digits(fields, name))
    else:
        handler = HangUpHandler()
    builtin_text = {
        "transfer": DEFAULT_TRANSFER_DESCRIPTION,
        "collect_digits": DEFAULT_DIGITS_DESCRIPTION,
    }.get(kind, DEFAULT_HANG_UP_DESCRIPTION)
    description = fields.text("description", builtin_text if kind in KINDS[2:] else None)
    non_blocking = fields.flag("non_blocking")
    scheduling = _scheduling(fields, non_blocking)
    spec = ToolSpec(
        name=name,
        description=description,
        kind=kind,
        parameters=parameters,
        timeout_s=fields.number("timeout_s", DEFAULT_TIMEOUT_S, MAX_TIMEOUT_S, positive=True),
        max_result_bytes=fields.whole(
            "max_result_bytes", DEFAULT_MAX_RESULT_BYTES, MIN_RESULT_BYTES, MAX_RESULT_BYTES
        ),
        redact_args=fields.flag("redact_args"),
        non_blocking=non_blocking,
        scheduling=scheduling,
    )
    tool = Tool(spec, handler)
    try:
        tool.declaration()  # checks the name the way Live does
    except ValueError as exc:
        fields.fail(f"name: {exc}")
    return tool


def _digits(fields: Fields, name: str) -> DigitCollection:
    end_key = fields.text("end_key", "#")
    if end_key not in ("#", "*", "none"):
        fields.fail('end_key must be "#", "*" or "none"')
    return DigitCollection(
        name,
        max_digits=fields.whole("max_digits", 16, 1, 64),
        end_key="" if end_key == "none" else end_key,
        first_digit_timeout_ms=1000
        * fields.number("first_digit_timeout_s", 15.0, MAX_TIMEOUT_S, positive=True),
        inter_digit_timeout_ms=1000
        * fields.number("inter_digit_timeout_s", 5.0, MAX_TIMEOUT_S, positive=True),
        redact=fields.flag("redact"),
    )


def _parameters(fields: Fields, kind: str) -> dict[str, Any] | None:
    raw = fields.table.get("parameters")
    if raw is None:
        return None
    try:
        schema = to_live_schema(raw)
    except SchemaError as exc:
        fields.fail(str(exc))
    if kind == "python" and CONTEXT_PARAMETER in schema.get("properties", {}):
        fields.fail(f"parameters.properties.{CONTEXT_PARAMETER}: the name is reserved for the call")
    return schema


def _scheduling(fields: Fields, non_blocking: bool) -> Scheduling | None:
    value = fields.table.get("scheduling")
    if value is None:
        return None
    choices = ", ".join(s.value for s in Scheduling)
    if not isinstance(value, str) or value.upper() not in Scheduling.__members__:
        fields.fail(f"scheduling must be one of {choices}")
    if not non_blocking:
        fields.fail("scheduling only applies to a non_blocking tool (set non_blocking = true)")
    return Scheduling[value.upper()]


def _http(
    fields: Fields, parameters: Mapping[str, Any] | None, environ: Mapping[str, str]
) -> HttpHandler:
    method = fields.text("method", "GET").upper()
    if method not in METHODS:
        fields.fail(f"method must be one of {', '.join(sorted(METHODS))}")
    url, _ = fields.expanded("url", fields.text("url"), environ)
    scheme, sep, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    if not sep or scheme.lower() not in ("http", "https") or not host:
        fields.fail("url must be an http:// or https:// URL with a host")
    if "{" in host or "}" in host or "{" in _without_placeholders(url):
        fields.fail("url: only {argument} templates after the host are allowed")
    properties = (parameters or {}).get("properties", {})
    required = (parameters or {}).get("required", [])
    for name in placeholders(url):
        if name not in properties or name not in required:
            fields.fail(f"url uses {{{name}}}, which must be a required parameter")
    args_in = fields.text("args_in", "json" if method in _BODY_METHODS else "query")
    if args_in not in ("json", "query"):
        fields.fail('args_in must be "json" or "query"')
    if args_in == "json" and method in ("GET", "HEAD", "OPTIONS"):
        fields.fail(f'args_in = "json" needs a method with a body, not {method}')
    if "retries" in fields.table and method not in IDEMPOTENT_METHODS:
        fields.fail(f"retries only apply to idempotent methods, not {method} (sent once)")
    retries = fields.whole("retries", 1, 0, MAX_RETRIES) if method in IDEMPOTENT_METHODS else 0
    return HttpHandler(
        method=method,
        url=url,
        headers=_headers(fields, environ),
        args_in="json" if args_in == "json" else "query",
        attempt_timeout_s=fields.number(
            "timeout_s", DEFAULT_TIMEOUT_S, MAX_TIMEOUT_S, positive=True
        ),
        retries=retries,
        retry_backoff_s=fields.number("retry_backoff_s", 0.2, 5.0, positive=False),
    )


def _without_placeholders(url: str) -> str:
    return re.sub(r"\{[A-Za-z_][A-Za-z0-9_]*\}", "", url)


def _headers(fields: Fields, environ: Mapping[str, str]) -> dict[str, str]:
    raw = fields.table.get("headers", {})
    if not isinstance(raw, Mapping):
        fields.fail("headers must be a table of strings")
    headers = {"Accept": "application/json"}
    for name, template in raw.items():
        if not _HEADER_NAME.fullmatch(name):
            fields.fail(f"headers: {name!r} is not a valid header name")
        if not isinstance(template, str):
            fields.fail(f"headers.{name} must be a string")
        value, secrets = fields.expanded(f"headers.{name}", template, environ)
        if "\r" in value or "\n" in value:
            fields.fail(f"headers.{name} must be one line")
        for secret in secrets:
            register_secret(secret)
        headers[name] = value
    return headers


def _python(fields: Fields, threads: ToolThreads) -> PythonHandler:
    reference = fields.text("function")
    try:
        return PythonHandler.from_reference(reference, threads)
    except ValueError as exc:
        fields.fail(f"function: {exc}")


def _destinations(fields: Fields, environ: Mapping[str, str]) -> dict[str, Destination]:
    raw = fields.table.get("destinations")
    if not isinstance(raw, Mapping) or not raw:
        fields.fail("destinations must be a table of name = number or sip: URI (at least one)")
    destinations: dict[str, Destination] = {}
    for name, entry in raw.items():
        key = f"destinations.{name}"
        if not _DESTINATION_NAME.fullmatch(name):
            fields.fail(f"{key}: names are letters, digits, _ . - (at most 64)")
        description = ""
        if isinstance(entry, Mapping):
            extra = sorted(set(entry) - {"target", "description"})
            if extra:
                fields.fail(f"{key}: unknown field {extra[0]!r}")
            description = entry.get("description", "")
            if not isinstance(description, str):
                fields.fail(f"{key}.description must be a string")
            entry = entry.get("target")
        if not isinstance(entry, str):
            fields.fail(f"{key} must be a number or sip: URI (or a table with target)")
        target, _ = fields.expanded(key, entry.strip(), environ)
        if not (_E164.fullmatch(target) or target.lower().startswith(("sip:", "sips:"))):
            fields.fail(f"{key} must be an E.164 number (+15551234567) or a sip: URI")
        try:
            twiml.dial(target)
        except ValueError as exc:
            fields.fail(f"{key}: {exc}")
        destinations[name] = Destination(target, description.strip())
    return destinations
