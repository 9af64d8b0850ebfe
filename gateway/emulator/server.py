"""The Live emulator's WebSocket server: paths, credentials, setup checks, sessions, resumption.

Usable in-process (`async with LiveEmulator(config, scenario) as emulator: emulator.url`) and from
the command line (`gateway emulator`). Each connection runs two tasks: a reader that feeds client
messages to its `Conversation`, and a ticker that sleeps until the conversation's next deadline
(deadline pacing, never a sleep per chunk). Everything behavioural is decided synchronously in
`gateway.emulator.conversation`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import ssl
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from gateway.emulator.config import EmulatorConfig
from gateway.emulator.conversation import Close, Conversation, Output
from gateway.emulator.dialect import Backend, api_version, check_client_message, path_status
from gateway.emulator.lifetime import DROP_CODE
from gateway.emulator.recorder import ReceivedMessage, Recorder, SessionRecord, summarise
from gateway.emulator.scenario import Scenario
from gateway.emulator.schema import ClientMessageError, normalise_client_message
from gateway.emulator.sessions import Session, SessionRegistry
from gateway.emulator.tls import client_ssl_context, self_signed_certificate, server_ssl_context
from gateway.log import get_logger, register_secret

__all__ = ["LiveEmulator"]

_SEND_TIMEOUT_S = 10.0
_MAX_REASON_BYTES = 123
_log = get_logger(component="emulator")


@dataclass
class _Wake:
    """The ticker's alarm: the emulated time it sleeps until, and the event that wakes it early."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    at_s: float = math.inf


def _socket_open(connection: object) -> bool:
    """Whether a session's previous socket is still open (closing counts as closed)."""
    return isinstance(connection, ServerConnection) and connection.state is State.OPEN


def _split_target(target: str) -> tuple[str, str]:
    """(normalised path, query) of a request target; `//ws/...` is a path, not a netloc."""
    path, _, query = target.partition("?")
    return "/" + path.lstrip("/"), query


def _reason(text: str) -> str:
    """A close reason that fits the 123-byte limit of a close frame."""
    data = text.encode()
    if len(data) <= _MAX_REASON_BYTES:
        return text
    return data[: _MAX_REASON_BYTES - 3].decode(errors="ignore") + "..."


class LiveEmulator:
    """A protocol-faithful Gemini Live `BidiGenerateContent` server (see docs/emulator.md)."""

    def __init__(self, config: EmulatorConfig | None = None, scenario: Scenario | None = None):
        self.config = config or EmulatorConfig()
        self.scenario = scenario or Scenario()
        self.recorder = Recorder(keep_audio=self.config.keep_audio)
        self.cert_pem: bytes | None = None
        self.sessions = SessionRegistry(
            self.config, self.scenario, self.recorder, is_open=_socket_open
        )
        self._server: Server | None = None
        self.messages_received = 0
        """WebSocket messages received from clients, every connection (setup included)."""
        self.messages_sent = 0
        """WebSocket messages sent to clients, every connection (close frames not included)."""
        self._t0 = 0.0
        self._port = 0

    # ------------------------------------------------------------------------ lifecycle

    async def start(self) -> str:
        """Listen; returns `url` (the Developer-API path on this host and port)."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._t0 = asyncio.get_running_loop().time()
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            ssl=self._ssl_context(),
            process_request=self._check_path,
            max_size=self.config.max_message_bytes,
            compression=None,
            ping_interval=None,
            close_timeout=2,
        )
        sockets = list(self._server.sockets)
        self._port = sockets[0].getsockname()[1]
        _log.info("emulator.started", url=self.url, tls=self.tls)
        return self.url

    async def stop(self) -> None:
        """Close every connection (1001) and the listener; waits for the handlers to end."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        await server.wait_closed()
        _log.info(
            "emulator.stopped",
            sessions=len(self.recorder.sessions),
            messages_received=self.messages_received,
            messages_sent=self.messages_sent,
        )

    async def __aenter__(self) -> LiveEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        """Run until cancelled (the CLI)."""
        await self.start()
        try:
            await asyncio.Future()
        finally:
            await self.stop()

    # ---------------------------------------------------------------------------- URLs

    @property
    def tls(self) -> bool:
        return self.config.tls or self.config.certfile is not None

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """For the SDK's `HttpOptions.base_url` (it appends the `/ws/...` path itself)."""
        return f"{'https' if self.tls else 'http'}://{self.config.host}:{self._port}"

    @property
    def url(self) -> str:
        """The backend's Live path: Developer `v1beta`, or Vertex `v1beta1`."""
        scheme = "wss" if self.tls else "ws"
        return f"{scheme}://{self.config.host}:{self._port}{self._default_path()}"

    def _default_path(self) -> str:
        if self.config.backend is Backend.VERTEX:
            return "/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent"
        return "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"

    @property
    def plain_url(self) -> str:
        """The plain path, for `GATEWAY_LIVE_URL`."""
        scheme = "wss" if self.tls else "ws"
        return f"{scheme}://{self.config.host}:{self._port}{self.config.plain_paths[-1]}"

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context trusting the generated certificate (TLS with generated cert only)."""
        if self.cert_pem is None:
            raise RuntimeError("no generated certificate (TLS off, or given cert files)")
        return client_ssl_context(self.cert_pem)

    def now_s(self) -> float:
        """Emulated seconds since start."""
        return (asyncio.get_running_loop().time() - self._t0) * self.config.speed

    def _ssl_context(self) -> ssl.SSLContext | None:
        if self.config.certfile is not None and self.config.keyfile is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.config.certfile, self.config.keyfile)
            return context
        if not self.config.tls:
            return None
        self.cert_pem, key_pem = self_signed_certificate()
        return server_ssl_context(self.cert_pem, key_pem)

    # ------------------------------------------------------------------------ handshake

    def _check_path(self, connection: ServerConnection, request: Request) -> Response | None:
        path, _ = _split_target(request.path)
        backend = self.config.backend
        status = path_status(backend, path, self.config.plain_paths)
        if status is not None:
            self.recorder.refused.append((status, path[:200]))
            return connection.respond(HTTPStatus(status), "Not Found\n")
        if backend is Backend.VERTEX:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            allowed = self.config.api_keys
            token = token.strip()
            if (
                scheme.lower() != "bearer"
                or not token
                or (allowed is not None and token not in allowed)
            ):
                self.recorder.refused.append((401, "Vertex AI needs a valid bearer token"))
                return connection.respond(
                    HTTPStatus.UNAUTHORIZED,
                    "Request had invalid authentication credentials. Expected OAuth 2 access "
                    "token.\n",
                )
        return None

    @staticmethod
    def _credential(connection: ServerConnection) -> str | None:
        request = connection.request
        if request is None:
            return None
        query = parse_qs(_split_target(request.path)[1])
        for name in ("key", "access_token"):
            if query.get(name):
                return query[name][0]
        header = request.headers.get("x-goog-api-key")
        if header:
            return header
        authorization = request.headers.get("authorization", "")
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() in {"bearer", "token"} and value:
            return value.strip()
        return None

    def _api_version(self, connection: ServerConnection) -> str:
        """The path's version; the plain paths count as the backend's default version."""
        request = connection.request
        path, _ = _split_target(request.path if request else "/")
        default = "v1beta1" if self.config.backend is Backend.VERTEX else "v1beta"
        return api_version(path) or default

    # ------------------------------------------------------------------------ sessions

    async def _handle(self, connection: ServerConnection) -> None:
        key = self._credential(connection)
        register_secret(key)
        try:
            async with asyncio.timeout(self.config.setup_timeout_s / self.config.speed):
                first = await connection.recv()
            self.messages_received += 1
        except TimeoutError:
            await self._close(connection, None, 1007, "Setup message was not received in time.")
            return
        except ConnectionClosed:
            return
        try:
            message = json.loads(first)
            kind, setup = normalise_client_message(message)
            if kind != "setup":
                raise ClientMessageError(
                    1007, "Request contains an invalid argument. The first message must be setup."
                )
            session, memory = self.sessions.admit(
                key=key, setup=setup, api_version=self._api_version(connection), now_s=self.now_s()
            )
        except ClientMessageError as error:
            await self._close(connection, None, error.code, error.reason)
            return
        except (ValueError, UnicodeDecodeError, RecursionError):
            await self._close(connection, None, 1007, "Invalid JSON payload received.")
            return
        session.connections += 1
        session.active = connection
        number = session.connections
        session.record.connections = number
        session.record.setups.append(setup)
        self._record(session, number, "setup", setup)
        conversation = Conversation(
            config=self.config,
            scenario=self.scenario,
            setup=setup,
            memory=memory,
            connection=number,
            record=session.record,
            issue_handle=lambda mem: self.sessions.issue_handle(session, mem, self.now_s()),
            now_s=self.now_s(),
        )
        try:
            await self._run(connection, session, conversation)
        finally:
            session.memory = conversation.memory
            if session.active is connection:
                session.active = None

    def _record(self, session: Session, number: int, kind: str, body: dict[str, Any]) -> None:
        if not self.config.keep_messages:
            return
        message = ReceivedMessage(self.now_s(), number, kind, summarise(kind, body))
        session.record.messages.append(message)

    # ---------------------------------------------------------------------- connection

    async def _run(
        self, connection: ServerConnection, session: Session, conversation: Conversation
    ) -> None:
        wake = _Wake()
        where = (session.record, conversation.connection)
        await self._emit(connection, where, conversation.start())
        ticker = asyncio.create_task(self._tick(connection, session, conversation, wake))
        try:
            async for raw in connection:
                self.messages_received += 1
                if conversation.closed:
                    break
                try:
                    kind, body = normalise_client_message(json.loads(raw))
                    check_client_message(self.config.backend, kind, body)
                except ClientMessageError as error:
                    conversation.closed = True
                    await self._close(connection, where, error.code, error.reason)
                    break
                except (ValueError, UnicodeDecodeError, RecursionError):
                    conversation.closed = True
                    await self._close(connection, where, 1007, "Invalid JSON payload received.")
                    break
                self._record(session, conversation.connection, kind, body)
                await self._emit(connection, where, conversation.receive(kind, body, self.now_s()))
                next_s = conversation.next_wakeup_s()
                if conversation.closed or (next_s is not None and next_s < wake.at_s):
                    wake.event.set()  # only when the ticker must run earlier than planned
        except ConnectionClosed:
            pass
        except Exception:  # a bug here must end this session, not the emulator
            _log.exception("emulator.session_failed", session_id=session.session_id)
            conversation.closed = True
            with contextlib.suppress(Exception):
                await self._close(connection, where, 1011, "Internal error encountered.")
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await ticker
            code = connection.close_code
            number = conversation.connection
            if code is not None and not any(c[0] == number for c in session.record.closes):
                session.record.closes.append((number, code, connection.close_reason or ""))

    async def _tick(
        self,
        connection: ServerConnection,
        session: Session,
        conversation: Conversation,
        wake: _Wake,
    ) -> None:
        speed = self.config.speed
        where = (session.record, conversation.connection)
        try:
            while True:
                await self._emit(connection, where, conversation.tick(self.now_s()))
                if conversation.closed:
                    return
                wake.event.clear()
                next_s = conversation.next_wakeup_s()
                wake.at_s = math.inf if next_s is None else next_s
                delay = None if next_s is None else max(0.0, (next_s - self.now_s()) / speed)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await wake.event.wait()
        except ConnectionClosed:
            return
        except Exception:
            _log.exception("emulator.tick_failed", session_id=session.session_id)
            conversation.closed = True
            await self._close(connection, where, 1011, "Internal error encountered.")

    async def _emit(
        self,
        connection: ServerConnection,
        where: tuple[SessionRecord, int],
        outputs: list[Output],
    ) -> None:
        for output in outputs:
            if isinstance(output, Close):
                await self._close(connection, where, output.code, output.reason)
                return
            frame = json.dumps(output.message, separators=(",", ":")).encode()
            async with asyncio.timeout(_SEND_TIMEOUT_S):
                await connection.send(frame)  # binary, as production
            self.messages_sent += 1

    async def _close(
        self,
        connection: ServerConnection,
        where: tuple[SessionRecord, int] | None,
        code: int,
        reason: str,
    ) -> None:
        if where is not None:
            record, number = where
            record.closes.append((number, code, reason))
        else:
            self.recorder.refused.append((code, reason))
        _log.info("emulator.close", code=code, reason=reason)
        if code == DROP_CODE:  # as a network drop or a proxy reap: no close frame at all
            connection.transport.abort()
            return
        await connection.close(code, _reason(reason))
