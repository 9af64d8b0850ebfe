"""The async Live client: one WebSocket to Gemini Live (or the emulator), typed events out.

`connect()` opens the socket, sends `setup`, and waits (with a timeout) for `setupComplete`. The
returned `LiveSession` sends encoded client messages and yields parsed events. When the socket
closes, `session.close_info` says how (see gateway.live.closes); the caller decides whether to
resume, fall back or end the call. Credentials travel in headers only and are registered with the
log redactor; URLs are logged without their query string.

Keepalive (protocols.md A.7): the `websockets` default (ping every 20 s, give up 20 s later) has
killed live calls whose pongs came back 8-30 s late. We ping every 30 s and wait up to 60 s for
the pong: a half-open socket is still found within ~90 s (the close is then a 1011 "keepalive
ping timeout", classified resumable), while a slow pong no longer ends a call. Both are settings.
Between pings no receive timeout applies: a Live session is legitimately silent while the caller
is silent, and a dead peer is the keepalive's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.protocol import State

from gateway import __version__
from gateway.live.closes import CloseInfo, CloseKind, close_info, handshake_refusal
from gateway.live.endpoints import (
    Backend,
    LiveEndpoint,
    custom_endpoint,
    developer_endpoint,
    vertex_endpoint,
)
from gateway.live.events import GoAway, Ignored, LiveEvent, SetupComplete
from gateway.live.protocol import (
    MAX_FRAME_BYTES,
    ToolResult,
    encode_activity_end,
    encode_activity_start,
    encode_audio,
    encode_audio_stream_end,
    encode_client_content,
    encode_setup,
    encode_text,
    encode_tool_response,
    parse_server_message,
)
from gateway.live.setup import LiveConfig
from gateway.live_trust import live_ssl_context
from gateway.log import get_logger, redact_text, register_secret
from gateway.settings import Settings
from gateway.shell.deadline import Deadline

__all__ = [
    "ClientOptions",
    "LiveClosedError",
    "LiveConnectError",
    "LiveSession",
    "connect",
    "endpoint_from_settings",
    "vertex_access_token",
]

_log = get_logger(component="live")
MESSAGE_TOO_BIG = 1009
VERTEX_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


@dataclass(frozen=True)
class ClientOptions:
    open_timeout_s: float = 10.0
    setup_timeout_s: float = 10.0
    send_timeout_s: float = 5.0
    close_timeout_s: float = 3.0
    ping_interval_s: float | None = 30.0
    ping_timeout_s: float | None = 60.0
    max_message_bytes: int = MAX_FRAME_BYTES
    ssl_context: ssl.SSLContext | None = None
    """Trust for wss:// (None: the system's default trust store)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientOptions:
        return cls(
            setup_timeout_s=settings.live_setup_timeout_s,
            ping_interval_s=settings.live_ping_interval_s,
            ping_timeout_s=settings.live_ping_timeout_s,
            ssl_context=live_ssl_context(settings.live_ca_file) if settings.live_ca_file else None,
        )


class LiveConnectError(Exception):
    """The session could not be opened; `close` classifies why (the caller decides)."""

    def __init__(self, message: str, close: CloseInfo) -> None:
        super().__init__(redact_text(message))
        self.close = close


class LiveClosedError(Exception):
    """A send on a session whose socket has closed; `close` says how it closed."""

    def __init__(self, close: CloseInfo) -> None:
        super().__init__(f"Live session closed: {close.code} {redact_text(close.reason)}")
        self.close = close


def _loggable(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    return redact_text(f"{parts.scheme}://{parts.netloc}{parts.path}")


def _handshake_close(exc: Exception) -> CloseInfo:
    """Classify a failed opening handshake like a close (the decision lives in live.closes)."""
    if isinstance(exc, InvalidStatus):
        return handshake_refusal(exc.response.status_code)
    if isinstance(exc, InvalidURI | ValueError):
        return close_info(1008, "invalid Live URL", go_away_seen=False)
    return close_info(None, f"connect failed: {type(exc).__name__}", go_away_seen=False)


def _close_of(exc: ConnectionClosed, *, go_away_seen: bool) -> CloseInfo:
    """The server's close frame, else ours (e.g. 1011 keepalive timeout), else none (1006).

    A 1009 we sent first is our client refusing a message over `max_message_bytes`: not a
    configuration fault but one bad message, so the session is replaced (resumed at its last
    handle, the message lost) and the call goes on; a server that keeps sending such messages
    exhausts the reconnect attempts and the call goes to the fallback. A 1009 the server sent
    (we sent too much) stays fatal, as classified in `gateway.live.closes`."""
    sent = exc.sent
    if sent is not None and sent.code == MESSAGE_TOO_BIG and not exc.rcvd_then_sent:
        reason = f"message over the gateway's limit: {sent.reason}"
        return CloseInfo(MESSAGE_TOO_BIG, reason, CloseKind.RESUMABLE, go_away_seen)
    frame = exc.rcvd or exc.sent
    if frame is None:
        return close_info(None, "", go_away_seen=go_away_seen)
    return close_info(frame.code, frame.reason, go_away_seen=go_away_seen)


class LiveSession:
    """An open Live session. Use `async for event in session` (or `recv()`), and `close()`.

    Sends raise LiveClosedError once the socket has closed, and TimeoutError when the socket does
    not take a frame within `send_timeout_s` (a stuck connection: close it and resume).
    """

    def __init__(
        self,
        ws: ClientConnection,
        setup: SetupComplete,
        pending: list[LiveEvent],
        options: ClientOptions,
        *,
        vertex: bool = False,
    ) -> None:
        self._ws = ws
        self.vertex = vertex
        """Vertex dialect: tool responses carry no `scheduling`/`willContinue` (A.11)."""
        self.setup = setup
        self._pending = pending
        self._options = options
        self.go_away_seen = False
        self.close_info: CloseInfo | None = None
        self.send_deadline: Deadline | None = None
        """Bounds the sends instead of an `asyncio.timeout` per send, when the one task that
        sends has one (`LiveLink` sets its own: a timer per timeout period, not per message)."""
        self.frame_received_s = 0.0
        """`time.perf_counter()` when the last frame arrived, before parsing (latency stamps)."""
        self.log_id = setup.session_id or f"local-{secrets.token_hex(4)}"
        """The `live_session` of log lines: the server's session id when `setupComplete` has one
        (Vertex), else one the gateway gives this connection (`local-` and 8 hex digits)."""

    @property
    def is_open(self) -> bool:
        """The socket is open and not closing: what `gateway_live_sessions` counts.

        Exact without garbage collection: a session stops counting the moment its close starts
        (ours, the server's or a dropped connection), even when the task closing it is cancelled.
        """
        return self.close_info is None and self._ws.state is State.OPEN

    # ---------------------------------------------------------------------------- receive

    async def recv(self) -> list[LiveEvent]:
        """The events of the next server frame; raises LiveClosedError once the socket closed."""
        if self._pending:
            events, self._pending = self._pending, []
            self.frame_received_s = time.perf_counter()
            return self._note(events)
        if self.close_info is not None:
            raise LiveClosedError(self.close_info)
        try:
            frame = await self._ws.recv()
        except ConnectionClosed as exc:
            raise LiveClosedError(self._closed(exc)) from None
        self.frame_received_s = time.perf_counter()
        return self._note(parse_server_message(frame))

    async def __aiter__(self) -> AsyncIterator[LiveEvent]:
        """Every event until the socket closes (then `close_info` is set)."""
        while True:
            try:
                events = await self.recv()
            except LiveClosedError:
                return
            for event in events:
                yield event

    def _note(self, events: list[LiveEvent]) -> list[LiveEvent]:
        for event in events:
            if isinstance(event, GoAway):
                self.go_away_seen = True
                _log.info("live.go_away", time_left_s=event.time_left_s)
            elif isinstance(event, Ignored):
                _log.warning("live.ignored", reason=event.reason, detail=event.detail)
        return events

    def _closed(self, exc: ConnectionClosed) -> CloseInfo:
        if self.close_info is None:
            self.close_info = _close_of(exc, go_away_seen=self.go_away_seen)
            info = self.close_info
            _log.info("live.closed", code=info.code, reason=info.reason, kind=info.kind.value)
        return self.close_info

    # ------------------------------------------------------------------------------- send

    async def _send(self, text: str) -> None:
        if self.close_info is not None:
            raise LiveClosedError(self.close_info)
        try:
            deadline = self.send_deadline
            if deadline is None:
                async with asyncio.timeout(self._options.send_timeout_s):
                    await self._ws.send(text)
            else:
                with deadline.bound(self._options.send_timeout_s):
                    await self._ws.send(text)
        except ConnectionClosed as exc:
            raise LiveClosedError(self._closed(exc)) from None

    async def send_audio(self, pcm: bytes, rate_hz: int = 16_000) -> None:
        await self._send(encode_audio(pcm, rate_hz))

    async def send_text(self, text: str) -> None:
        await self._send(encode_text(text))

    async def send_audio_stream_end(self) -> None:
        await self._send(encode_audio_stream_end())

    async def send_activity_start(self) -> None:
        await self._send(encode_activity_start())

    async def send_activity_end(self) -> None:
        await self._send(encode_activity_end())

    async def send_tool_response(self, results: Iterable[ToolResult]) -> None:
        await self._send(encode_tool_response(results, vertex=self.vertex))

    async def send_client_content(
        self, turns: Sequence[tuple[str, str]], *, turn_complete: bool
    ) -> None:
        await self._send(encode_client_content(turns, turn_complete=turn_complete))

    # ------------------------------------------------------------------------------ close

    async def close(self, code: int = 1000, reason: str = "") -> CloseInfo:
        """Close our side (waits at most close_timeout_s) and return how the session ended.

        Cancelled (or timed out) while closing, the socket is shut at once rather than left
        waiting for the server's reply, and the session is marked closed all the same."""
        try:
            with contextlib.suppress(ConnectionClosed):
                await self._ws.close(code, reason)
        except BaseException:
            if self._ws.state is not State.CLOSED:
                self._ws.transport.close()  # flushes what was written (our close frame)
            raise
        finally:
            if self.close_info is None:
                received = self._ws.close_code
                if received is not None and received != code:
                    code, reason = received, self._ws.close_reason or ""
                self.close_info = close_info(code, reason, go_away_seen=self.go_away_seen)
        return self.close_info

    async def __aenter__(self) -> LiveSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


async def connect(
    endpoint: LiveEndpoint,
    config: LiveConfig,
    *,
    resume_handle: str | None = None,
    options: ClientOptions | None = None,
) -> LiveSession:
    """Open a Live session and wait for `setupComplete`; raises LiveConnectError otherwise."""
    options = options or ClientOptions()
    for _, value in endpoint.headers:
        register_secret(value)
        register_secret(value.partition(" ")[2])
    url = _loggable(endpoint.url)
    log = _log.bind(url=url, backend=endpoint.backend.value, resuming=resume_handle is not None)
    secure = endpoint.url.startswith("wss://")
    extra: dict[str, Any] = {"ssl": options.ssl_context} if secure and options.ssl_context else {}
    try:
        ws = await ws_connect(
            endpoint.url,
            additional_headers=list(endpoint.headers),
            user_agent_header=f"gateway/{__version__}",
            compression=None,
            open_timeout=options.open_timeout_s,
            ping_interval=options.ping_interval_s,
            ping_timeout=options.ping_timeout_s,
            close_timeout=options.close_timeout_s,
            max_size=options.max_message_bytes,
            **extra,
        )
    except (OSError, TimeoutError, InvalidHandshake, InvalidURI, ValueError) as exc:
        log.warning("live.connect_failed", error=type(exc).__name__)
        raise LiveConnectError(
            f"cannot open {url}: {type(exc).__name__}: {exc}", _handshake_close(exc)
        ) from None
    try:
        setup, pending = await _handshake(ws, config, resume_handle, options)
    except BaseException:
        # Cancelled or refused mid-setup: the socket must not outlive the attempt.
        try:
            with contextlib.suppress(Exception):
                await ws.close()
        finally:
            if ws.state is not State.CLOSED:
                ws.transport.close()
        raise
    session = LiveSession(ws, setup, pending, options, vertex=endpoint.backend is Backend.VERTEX)
    log.info("live.setup_complete", live_session=session.log_id)
    return session


async def _handshake(
    ws: ClientConnection, config: LiveConfig, resume_handle: str | None, options: ClientOptions
) -> tuple[SetupComplete, list[LiveEvent]]:
    try:
        async with asyncio.timeout(options.setup_timeout_s):
            await ws.send(encode_setup(config, resume_handle=resume_handle))
            early: list[LiveEvent] = []
            while True:
                events = parse_server_message(await ws.recv())
                for index, event in enumerate(events):
                    if isinstance(event, SetupComplete):
                        return event, early + events[index + 1 :]
                early.extend(e for e in events if not isinstance(e, Ignored))
    except TimeoutError:
        raise LiveConnectError(
            f"no setupComplete within {options.setup_timeout_s} s",
            close_info(None, "setupComplete timeout", go_away_seen=False),
        ) from None
    except ConnectionClosed as exc:
        info = _close_of(exc, go_away_seen=False)
        _log.warning("live.setup_refused", code=info.code, reason=info.reason, kind=info.kind.value)
        raise LiveConnectError(f"setup refused: {info.code} {info.reason}", info) from None


def endpoint_from_settings(
    settings: Settings, *, access_token: str | None = None, api_version: str | None = None
) -> LiveEndpoint:
    """The endpoint the settings select: Vertex (at GATEWAY_LIVE_URL when set), else
    GATEWAY_LIVE_URL, else the Developer API. `api_version` overrides the settings' (a session
    whose options need v1alpha, gateway.live.versions)."""
    version = api_version or settings.live_api_version
    if settings.vertex:
        token = access_token or settings.vertex_access_token
        if token is None:
            raise ValueError("Vertex AI needs an access token (see vertex_access_token)")
        return vertex_endpoint(
            token, location=settings.vertex_location, api_version=version, url=settings.live_url
        )
    if settings.live_url:
        return custom_endpoint(
            settings.live_url, api_key=settings.gemini_api_key, api_version=version
        )
    if settings.gemini_api_key:
        return developer_endpoint(settings.gemini_api_key, api_version=version)
    raise ValueError("no Live endpoint configured (the embedded emulator serves this case)")


async def vertex_access_token() -> str:
    """An OAuth2 access token from Application Default Credentials (needs the `vertex` extra)."""
    try:
        import google.auth
        import google.auth.transport.requests
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError("Vertex AI needs google-auth: pip install 'gateway[vertex]'") from exc

    def fetch() -> str:
        credentials, _project = google.auth.default(scopes=[VERTEX_SCOPE])
        credentials.refresh(google.auth.transport.requests.Request())  # type: ignore[no-untyped-call]
        token = credentials.token
        if not isinstance(token, str) or not token:
            raise RuntimeError("google-auth returned no access token")
        return token

    token = await asyncio.to_thread(fetch)
    register_secret(token)
    return token
