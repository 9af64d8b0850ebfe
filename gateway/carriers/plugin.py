"""What a carrier plug-in is: one descriptor that gives everything carrier-specific (pure).

Each carrier lives in one folder, `gateway/carriers/<name>/`, whose `plugin.py` defines one
`CarrierPlugin`: its options (environment variables, declared once) and how it reads them,
how a webhook becomes a carrier-neutral `VoiceWebhook`, how its signature is checked, its
answer and fallback documents, its other callbacks (stream status, events, ...), how a media
WebSocket upgrade becomes a `CarrierTranslator`, its REST call control, and where its simulator
dialect lives. `gateway.carriers.registry` lists the plug-ins (one line each); the shell
(`gateway.shell.carrier_routes`) mounts `/<name>/voice`, `/<name>/media` and the callbacks of
every registered plug-in, reading only the neutral types below, so no vendor field name leaves
the carrier's folder.

Everything here is synchronous and clock-free: the shell passes the time (`Webhook.now_s`),
random ids and the public base URL in. The simulator dialect is named by `module:Class`
(`SimDialect.path`): it lives in `gateway.sim` (or a test package), which may do I/O, so the
pure folder never imports it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import parse_qsl

from gateway.carriers.base import CarrierTranslator
from gateway.carriers.control import CallControl
from gateway.carriers.dial import Dialer
from gateway.carriers.messages import bounded_id
from gateway.env_reader import EnvReader
from gateway.options.option import Option

__all__ = [
    "Callback",
    "CarrierPlugin",
    "CarrierSettings",
    "ControlContext",
    "Document",
    "LogLine",
    "MediaAccepted",
    "MediaRefused",
    "MediaUpgrade",
    "Refusal",
    "Rejected",
    "SimDialect",
    "StreamStatus",
    "VoiceWebhook",
    "Webhook",
    "status_line",
]


# -- settings -----------------------------------------------------------------------------------


class CarrierSettings(Protocol):
    """What the shell needs from every carrier's settings object."""

    @property
    def allow_unsigned(self) -> bool:
        """Named in GATEWAY_UNSIGNED_CARRIERS: taken without a signature when no secret is set."""
        ...


S = TypeVar("S", bound=CarrierSettings)


# -- carrier-neutral requests and answers -------------------------------------------------------


@dataclass(frozen=True)
class VoiceWebhook:
    """An incoming call a carrier asks us to answer (carrier-neutral)."""

    call_id: str
    account_id: str = ""
    to_number: str = ""
    from_number: str = ""
    direction: str = ""
    status: str = ""


@dataclass(frozen=True)
class StreamStatus:
    """A media stream status callback (`stream-started`, `stream-stopped`, `stream-error`)."""

    call_id: str
    stream_id: str
    event: str
    error: str = ""


@dataclass(frozen=True)
class Webhook:
    """One HTTP request from the carrier, read by the shell (bounded body)."""

    method: str
    url: str
    """The URL as the carrier requested it: public base, raw path, query."""
    base_url: str
    """The gateway's public base URL (`https://gw.example.com`)."""
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]
    """Lower-case names."""
    body: bytes
    now_s: float
    """Wall-clock time (signature freshness)."""

    def form(self) -> list[tuple[str, str]]:
        """The body as a url-encoded form, in order (never raises)."""
        return parse_qsl(self.body.decode("utf-8", errors="replace"), keep_blank_values=True)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Document:
    """An answer to send: the body, its media type and HTTP status."""

    body: str
    media_type: str
    """Empty: none (a 204)."""
    status: int = 200


@dataclass(frozen=True)
class LogLine:
    """A line the shell logs for the carrier (`event`, bounded fields, never secrets)."""

    event: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    level: str = "info"


@dataclass(frozen=True)
class Rejected:
    """A callback refused: HTTP `status` with `text`, logged as `webhook.rejected reason=...`."""

    reason: str
    status: int
    text: str


@dataclass(frozen=True)
class Refusal:
    """Why admission refused a call: what the fallback document says and does."""

    reason: str
    message: str
    transfer_to: str | None


@dataclass(frozen=True)
class Callback(Generic[S]):
    """A carrier callback other than the voice webhook (`/<name>/<path>`), signed like it.

    `handle` answers the checked request: a document and the line to log, or a rejection."""

    path: str
    handle: Callable[[S, Webhook], tuple[Document, LogLine | None] | Rejected]
    methods: tuple[str, ...] = ("POST",)


def status_line(status: StreamStatus) -> tuple[Document, LogLine]:
    """The answer to a stream status callback: empty 204, logged as `stream.status`."""
    return Document("", "", 204), LogLine(
        "stream.status",
        {
            "call_sid": bounded_id(status.call_id),
            "stream_sid": bounded_id(status.stream_id),
            "stream_event": bounded_id(status.event),
            "stream_error": bounded_id(status.error, 200),
        },
    )


@dataclass(frozen=True)
class MediaUpgrade:
    """A media WebSocket upgrade request, read by the shell."""

    url: str | None
    """`wss://host/<name>/media` as the carrier reached it, no query (None: no host)."""
    base_url: str | None
    path: str
    """The path exactly as requested, undecoded."""
    query: str
    """The raw query string."""
    headers: Mapping[str, str]
    """Lower-case names."""
    nonce: str
    """32 random hex digits (a stream id the carrier does not give)."""

    def query_parameters(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))


@dataclass(frozen=True)
class MediaAccepted:
    """Accept the socket and run the stream with `translator`; log `notes` first."""

    translator: CarrierTranslator
    notes: tuple[LogLine, ...] = ()


@dataclass(frozen=True)
class MediaRefused:
    """Refuse the upgrade before accepting it (HTTP 403), logged as `stream.rejected`."""

    reason: str


@dataclass(frozen=True)
class ControlContext:
    """What building a call's REST control may need from the shell."""

    base_url: str | None
    clock_s: Callable[[], float]
    new_id: Callable[[], str]


@dataclass(frozen=True)
class SimDialect:
    """The carrier's simulator dialect (`gateway call --carrier NAME`)."""

    path: str
    """`module:Class` of its `gateway.sim.dialect.CarrierDialect`, called with no arguments."""
    secret_env: str | None = None
    """Variable `--auth-token` defaults to: the secret the simulator signs with."""
    account_env: str | None = None
    """Variable `--account-sid` defaults to."""
    secret_help: str = "signing secret"


# -- the descriptor -----------------------------------------------------------------------------


class CarrierPlugin(ABC, Generic[S]):
    """One carrier, everything the gateway and the simulator need from it (one instance each).

    The class attributes describe it; the methods are pure functions of its settings and a
    request the shell read. The shell owns the signature policy: `verify` is asked only when
    `has_secret` holds, and an unset secret is refused unless the carrier may run unsigned.
    """

    name: str
    """Short name: routes (`/<name>/voice`), logs, GATEWAY_UNSIGNED_CARRIERS."""
    options: tuple[Option, ...]
    """Its environment variables, declared once as options (its `settings.py`): name, type,
    default, bounds, the docs' section and line. Its `read_settings` reads them through these
    declarations; `gateway.carriers.registry.options` hands them to the docs generator."""
    secret_name: str
    """The variable a refused unsigned webhook names (`TWILIO_AUTH_TOKEN`)."""
    secret_doc: str | None = None
    """How hints name the secret when it is more than `secret_name` (`EXOTEL_STREAM_USER and
    EXOTEL_STREAM_PASSWORD`)."""
    missing_call_id: str
    """The field whose absence refuses a voice webhook (`CallSid`): `no CallSid`, 400."""
    sim: SimDialect
    callbacks: tuple[Callback[S], ...] = ()
    """Its signed callbacks other than the voice webhook (stream status, events, ...)."""
    voice_methods: tuple[str, ...] = ("POST",)
    media_message_ms: int = 20
    """Model audio one outbound media message may carry at most (the bridge sends whole
    carrier frames, at least one a message): 20 sends a message per 20 ms frame; carriers that
    play larger messages as they come take more, which saves messages and marks."""

    @abstractmethod
    def read_settings(self, reader: EnvReader, allow_unsigned: bool) -> S:
        """Validate its variables (`SettingsError`) and register its secrets; `allow_unsigned`:
        named in GATEWAY_UNSIGNED_CARRIERS."""

    def default_settings(self) -> S:
        """Its settings when none of its variables is set."""
        return self.read_settings(EnvReader({}), False)

    @abstractmethod
    def has_secret(self, settings: S) -> bool:
        """Whether the secret that checks its webhooks is set."""

    @abstractmethod
    def verify(self, settings: S, webhook: Webhook) -> str | None:
        """None when the webhook's signature holds, else what failed (for the log)."""

    @abstractmethod
    def parse_call(self, settings: S, webhook: Webhook) -> VoiceWebhook | None:
        """The call a voice webhook describes (None without its call id)."""

    @abstractmethod
    def answer(self, settings: S, webhook: Webhook, call: VoiceWebhook, token: str) -> Document:
        """The document that streams the call, carrying its stream token."""

    @abstractmethod
    def fallback(self, settings: S, call: VoiceWebhook, refusal: Refusal) -> Document:
        """The document of a refused call (a goodbye, a transfer to the fallback number)."""

    @abstractmethod
    def media(
        self, settings: S, upgrade: MediaUpgrade, unsigned: bool
    ) -> MediaAccepted | MediaRefused:
        """The stream's translator, or why the upgrade is refused (`unsigned`: the carrier may
        run without its secret)."""

    # -- cluster mode: carrying a call on after its stream ended (docs/operations.md) ----------

    carries_on: bool = False
    """The carrier requests a URL of ours when the stream ends (Twilio's `<Connect action>`)
    and follows the document it gets: `answer_carrying_on` and `stream_ended` are implemented,
    and the shell mounts `/<name>/stream-ended`."""

    def answer_carrying_on(
        self, settings: S, webhook: Webhook, call: VoiceWebhook, token: str, action_url: str
    ) -> Document:
        """`answer`, asking the carrier to request `action_url` when the stream ends."""
        raise NotImplementedError(f"{self.name} cannot carry a call on after its stream")

    def stream_ended(self, settings: S) -> Document:
        """The answer to the stream-ended request of a call that is over (it hangs up)."""
        raise NotImplementedError(f"{self.name} cannot carry a call on after its stream")

    def rest_base(self, settings: S) -> str | None:
        """The REST API base `control` calls when its credentials are set (None: no REST call
        control configured); the shell resolves its host at start-up."""
        return None

    def control(self, settings: S, context: ControlContext) -> CallControl | None:
        """REST call control (transfer, hang-up), None without credentials (or without a REST
        API); ValueError: malformed credentials (logged, the call runs without control)."""
        return None

    def dialer(self, settings: S, context: ControlContext) -> Dialer | None:
        """Dial-out through its REST API (`POST /calls`, docs/outbound.md), None when it cannot
        dial (the default) or its credentials are unset; ValueError: malformed credentials."""
        return None
