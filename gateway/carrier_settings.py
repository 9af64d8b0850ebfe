"""Carrier accounts read from the environment: Twilio, Telnyx, Plivo, SignalWire, Vonage, Exotel.

Each carrier has a frozen settings class (its credentials never appear in `repr`) and a
`read_<carrier>` function that validates its variables and registers its secrets for redaction.
Every variable is documented in `.env.example`, docs/configuration.md and docs/carriers/.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gateway.env_reader import EnvReader, SettingsError
from gateway.log import register_secret

__all__ = [
    "PLIVO_CONTENT_TYPES",
    "SIGNALWIRE_CODECS",
    "UNSIGNED_CARRIERS",
    "ExotelSettings",
    "PlivoSettings",
    "SignalWireSettings",
    "TelnyxSettings",
    "TwilioSettings",
    "VonageSettings",
    "read_exotel",
    "read_plivo",
    "read_signalwire",
    "read_telnyx",
    "read_twilio",
    "read_vonage",
]


@dataclass(frozen=True)
class TwilioSettings:
    """The Twilio account (docs/carriers/twilio.md)."""

    account_sid: str | None = None
    auth_token: str | None = None
    """Validates X-Twilio-Signature when set; REST calls (transfer, hang-up) need it too."""
    api_base: str = "https://api.twilio.com"

    def __repr__(self) -> str:
        token = "***" if self.auth_token else None
        return f"TwilioSettings(account_sid={self.account_sid!r}, auth_token={token!r})"


@dataclass(frozen=True)
class TelnyxSettings:
    """The Telnyx account (docs/carriers/telnyx.md)."""

    api_key: str | None = None
    """TELNYX_API_KEY: Call Control requests (transfer, hang-up)."""
    public_key: str | None = None
    """TELNYX_PUBLIC_KEY: base64 Ed25519 key that checks `telnyx-signature-ed25519`."""
    api_base: str = "https://api.telnyx.com"
    codec: str = "PCMU"
    """TELNYX_CODEC: PCMU or PCMA, both directions."""
    signature_tolerance_s: float = 300.0
    allow_unsigned: bool = False
    """In GATEWAY_UNSIGNED_CARRIERS: webhooks are taken without a public key (tests, demos)."""

    def __repr__(self) -> str:
        key = "***" if self.api_key else None
        return f"TelnyxSettings(api_key={key!r}, public_key={self.public_key!r})"


@dataclass(frozen=True)
class PlivoSettings:
    """The Plivo account (docs/carriers/plivo.md)."""

    auth_id: str | None = None
    auth_token: str | None = None
    """PLIVO_AUTH_TOKEN: checks X-Plivo-Signature-V3; REST requests (Basic auth_id:token)."""
    api_base: str = "https://api.plivo.com"
    content_type: str = "audio/x-mulaw;rate=8000"
    """PLIVO_CONTENT_TYPE: the stream's audio, both directions."""
    allow_unsigned: bool = False

    def __repr__(self) -> str:
        token = "***" if self.auth_token else None
        return f"PlivoSettings(auth_id={self.auth_id!r}, auth_token={token!r})"


@dataclass(frozen=True)
class SignalWireSettings:
    """The SignalWire project (docs/carriers/signalwire.md)."""

    project_id: str | None = None
    api_token: str | None = None
    """SIGNALWIRE_API_TOKEN: REST requests (Basic project_id:token)."""
    signing_key: str | None = None
    """SIGNALWIRE_SIGNING_KEY: checks X-SignalWire-Signature / X-Twilio-Signature."""
    space_url: str | None = None
    """SIGNALWIRE_SPACE_URL: `https://<space>.signalwire.com`, the REST base."""
    codec: str = "PCMU"
    """SIGNALWIRE_CODEC: PCMU, PCMA, L16@8000h, L16@16000h or L16@24000h."""
    l16_big_endian: bool = False
    """SIGNALWIRE_L16_BYTE_ORDER=big: L16 payloads in network byte order [unverified]."""
    allow_unsigned: bool = False

    def __repr__(self) -> str:
        token = "***" if self.api_token else None
        key = "***" if self.signing_key else None
        return (
            f"SignalWireSettings(project_id={self.project_id!r}, api_token={token!r}, "
            f"signing_key={key!r}, codec={self.codec!r})"
        )


@dataclass(frozen=True)
class VonageSettings:
    """The Vonage Voice API application (docs/carriers/vonage.md)."""

    application_id: str | None = None
    private_key: str | None = None
    """VONAGE_PRIVATE_KEY(_FILE): the application's PEM key; signs REST requests (RS256)."""
    signature_secret: str | None = None
    """VONAGE_SIGNATURE_SECRET: checks the signed webhooks' JWT when set."""
    api_base: str = "https://api.nexmo.com"
    audio_rate_hz: int = 16_000
    from_number: str | None = None
    """VONAGE_FROM_NUMBER: the caller id a transfer presents (one of the account's numbers)."""
    allow_unsigned: bool = False
    """In GATEWAY_UNSIGNED_CARRIERS: webhooks are taken without a signature secret."""

    def __repr__(self) -> str:
        key = "***" if self.private_key else None
        secret = "***" if self.signature_secret else None
        return (
            f"VonageSettings(application_id={self.application_id!r}, private_key={key!r}, "
            f"signature_secret={secret!r}, audio_rate_hz={self.audio_rate_hz})"
        )


@dataclass(frozen=True)
class ExotelSettings:
    """The Exotel Voicebot applet (docs/carriers/exotel.md)."""

    stream_user: str | None = None
    """EXOTEL_STREAM_USER / EXOTEL_STREAM_PASSWORD: the Basic credentials Exotel presents (the
    `user:password@` of the applet's URL); unset, every request is refused (unless unsigned)."""
    stream_password: str | None = None
    audio_rate_hz: int = 8_000
    allow_unsigned: bool = False
    """In GATEWAY_UNSIGNED_CARRIERS: requests are taken without Basic credentials."""

    def __repr__(self) -> str:
        password = "***" if self.stream_password else None
        return (
            f"ExotelSettings(stream_user={self.stream_user!r}, stream_password={password!r}, "
            f"audio_rate_hz={self.audio_rate_hz})"
        )


def read_twilio(reader: EnvReader) -> TwilioSettings:
    token = reader.text("TWILIO_AUTH_TOKEN")
    register_secret(token)
    base = (reader.text("TWILIO_API_BASE") or "https://api.twilio.com").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise SettingsError("TWILIO_API_BASE must be an http(s):// URL")
    return TwilioSettings(
        account_sid=reader.text("TWILIO_ACCOUNT_SID"), auth_token=token, api_base=base
    )


UNSIGNED_CARRIERS = ("telnyx", "plivo", "signalwire", "vonage", "exotel")
"""Carriers GATEWAY_UNSIGNED_CARRIERS may name: without their verification key they refuse every
webhook unless named there (Twilio's unsigned mode predates this and only warns)."""


def _unsigned(reader: EnvReader) -> frozenset[str]:
    names = {n.strip().lower() for n in (reader.text("GATEWAY_UNSIGNED_CARRIERS") or "").split(",")}
    names.discard("")
    unknown = names - set(UNSIGNED_CARRIERS)
    if unknown:
        raise SettingsError(
            f"GATEWAY_UNSIGNED_CARRIERS names {', '.join(sorted(unknown))}; "
            f"known: {', '.join(UNSIGNED_CARRIERS)}"
        )
    return frozenset(names)


def _api_base(reader: EnvReader, name: str, default: str | None) -> str | None:
    base = reader.text(name) or default
    if base is None:
        return None
    if not base.startswith(("https://", "http://")):
        raise SettingsError(f"{name} must be an http(s):// URL")
    return base.rstrip("/")


def read_telnyx(reader: EnvReader) -> TelnyxSettings:
    from gateway.carriers.telnyx_signature import load_public_key

    api_key = reader.text("TELNYX_API_KEY")
    register_secret(api_key)
    public_key = reader.text("TELNYX_PUBLIC_KEY")
    if public_key is not None:
        try:
            load_public_key(public_key)
        except ValueError:
            raise SettingsError("TELNYX_PUBLIC_KEY must be base64 of a 32-byte key") from None
    codec = reader.choice("TELNYX_CODEC", ("pcmu", "pcma")) or "pcmu"
    base = _api_base(reader, "TELNYX_API_BASE", "https://api.telnyx.com")
    assert base is not None
    return TelnyxSettings(
        api_key=api_key,
        public_key=public_key,
        api_base=base,
        codec=codec.upper(),
        signature_tolerance_s=reader.number("TELNYX_SIGNATURE_TOLERANCE_S", 300.0),
        allow_unsigned="telnyx" in _unsigned(reader),
    )


PLIVO_CONTENT_TYPES = ("audio/x-mulaw;rate=8000", "audio/x-l16;rate=8000", "audio/x-l16;rate=16000")


def read_plivo(reader: EnvReader) -> PlivoSettings:
    token = reader.text("PLIVO_AUTH_TOKEN")
    register_secret(token)
    content_type = (reader.text("PLIVO_CONTENT_TYPE") or PLIVO_CONTENT_TYPES[0]).replace(" ", "")
    if content_type.lower() not in PLIVO_CONTENT_TYPES:
        raise SettingsError(f"PLIVO_CONTENT_TYPE must be one of {', '.join(PLIVO_CONTENT_TYPES)}")
    base = _api_base(reader, "PLIVO_API_BASE", "https://api.plivo.com")
    assert base is not None
    return PlivoSettings(
        auth_id=reader.text("PLIVO_AUTH_ID"),
        auth_token=token,
        api_base=base,
        content_type=content_type.lower(),
        allow_unsigned="plivo" in _unsigned(reader),
    )


SIGNALWIRE_CODECS = ("PCMU", "PCMA", "L16@8000h", "L16@16000h", "L16@24000h")


def read_signalwire(reader: EnvReader) -> SignalWireSettings:
    token = reader.text("SIGNALWIRE_API_TOKEN")
    key = reader.text("SIGNALWIRE_SIGNING_KEY")
    register_secret(token)
    register_secret(key)
    codecs = {codec.lower(): codec for codec in SIGNALWIRE_CODECS}
    codec = codecs.get((reader.text("SIGNALWIRE_CODEC") or "PCMU").lower())
    if codec is None:
        raise SettingsError(f"SIGNALWIRE_CODEC must be one of {', '.join(SIGNALWIRE_CODECS)}")
    order = reader.choice("SIGNALWIRE_L16_BYTE_ORDER", ("little", "big")) or "little"
    return SignalWireSettings(
        project_id=reader.text("SIGNALWIRE_PROJECT_ID"),
        api_token=token,
        signing_key=key,
        space_url=_api_base(reader, "SIGNALWIRE_SPACE_URL", None),
        codec=codec,
        l16_big_endian=order == "big",
        allow_unsigned="signalwire" in _unsigned(reader),
    )


def _rate(reader: EnvReader, name: str, default: int) -> int:
    rate = reader.integer(name, default)
    if rate not in (8_000, 16_000, 24_000):
        raise SettingsError(f"{name} must be 8000, 16000 or 24000")
    return rate


def read_vonage(reader: EnvReader) -> VonageSettings:
    key = reader.text("VONAGE_PRIVATE_KEY")
    path = reader.text("VONAGE_PRIVATE_KEY_FILE")
    if key and path:
        raise SettingsError("set VONAGE_PRIVATE_KEY or VONAGE_PRIVATE_KEY_FILE, not both")
    if path:
        try:
            key = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"VONAGE_PRIVATE_KEY_FILE cannot be read: {exc}") from None
    if key is not None and "PRIVATE KEY-----" not in key:
        raise SettingsError("VONAGE_PRIVATE_KEY must be a PEM private key")
    secret = reader.text("VONAGE_SIGNATURE_SECRET")
    register_secret(key)
    register_secret(secret)
    base = (reader.text("VONAGE_API_BASE") or "https://api.nexmo.com").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise SettingsError("VONAGE_API_BASE must be an http(s):// URL")
    return VonageSettings(
        application_id=reader.text("VONAGE_APPLICATION_ID"),
        private_key=key,
        signature_secret=secret,
        api_base=base,
        audio_rate_hz=_rate(reader, "VONAGE_AUDIO_RATE", 16_000),
        from_number=reader.text("VONAGE_FROM_NUMBER"),
        allow_unsigned="vonage" in _unsigned(reader),
    )


def read_exotel(reader: EnvReader) -> ExotelSettings:
    user = reader.text("EXOTEL_STREAM_USER")
    password = reader.text("EXOTEL_STREAM_PASSWORD")
    if (user is None) != (password is None):
        raise SettingsError("set both EXOTEL_STREAM_USER and EXOTEL_STREAM_PASSWORD, or neither")
    register_secret(password)
    return ExotelSettings(
        stream_user=user,
        stream_password=password,
        audio_rate_hz=_rate(reader, "EXOTEL_AUDIO_RATE", 8_000),
        allow_unsigned="exotel" in _unsigned(reader),
    )
