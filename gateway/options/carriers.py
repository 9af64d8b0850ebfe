"""The carriers' variables, declared as options for the generated docs and `.env.example`.

Each carrier's settings are read in its folder (gateway/carriers/<name>/settings.py, which
declares its variables for the plug-in); these declarations add the docs' sections, bounds and
choices. tests/options checks that both name the same variables.
"""

from __future__ import annotations

from typing import Final

from gateway.options.option import Option

__all__ = ["CARRIERS"]

TWILIO: Final = "Twilio"
SIGNED: Final = "Telnyx, Plivo, SignalWire"
JWT: Final = "Vonage, Exotel"

CARRIERS: Final[tuple[Option, ...]] = (
    Option("TWILIO_ACCOUNT_SID", "text", "the account (`AC…`); REST requests need it", TWILIO,
           default_doc="none"),
    Option("TWILIO_AUTH_TOKEN", "secret", "checks `X-Twilio-Signature` on every webhook and "
           "media stream, and authenticates REST requests (transfer, hang-up). Unset: every "
           "Twilio webhook is refused (see the signature policy above)", TWILIO,
           default_doc="none"),
    Option("TWILIO_API_BASE", "text", "REST API base (a proxy, or a fake server in tests)",
           TWILIO, default="https://api.twilio.com"),
    Option("GATEWAY_UNSIGNED_CARRIERS", "list", "carriers that may run without signatures "
           "(comma-separated `twilio`, `telnyx`, `plivo`, `signalwire`, `vonage`, `exotel`): "
           "for local tests and demos only", SIGNED, default=(), default_doc="none"),
    Option("TELNYX_PUBLIC_KEY", "text", "base64 Ed25519 public key (Portal → Keys & "
           "Credentials); checks `telnyx-signature-ed25519`", SIGNED, default_doc="none"),
    Option("TELNYX_SIGNATURE_TOLERANCE_S", "number", "how far a webhook's `telnyx-timestamp` "
           "may be from our clock", SIGNED, default=300.0, minimum=0),
    Option("TELNYX_API_KEY", "secret", "Call Control requests (transfer, hang-up)", SIGNED,
           default_doc="none"),
    Option("TELNYX_API_BASE", "text", "REST API base", SIGNED, default="https://api.telnyx.com"),
    Option("TELNYX_CODEC", "choice", "`PCMU` or `PCMA`, both directions", SIGNED,
           default="PCMU", choices=("pcmu", "pcma")),
    Option("PLIVO_AUTH_ID", "text", "the token checks `X-Plivo-Signature-V3`; both authenticate "
           "REST requests", SIGNED, default_doc="none"),
    Option("PLIVO_AUTH_TOKEN", "secret", "Plivo's auth token", SIGNED, own_row=False),
    Option("PLIVO_API_BASE", "text", "REST API base", SIGNED, default="https://api.plivo.com"),
    Option("PLIVO_CONTENT_TYPE", "text", "or `audio/x-l16;rate=8000`, `audio/x-l16;rate=16000` "
           "(linear PCM, no μ-law step)", SIGNED, default="audio/x-mulaw;rate=8000"),
    Option("SIGNALWIRE_SIGNING_KEY", "secret", "the project's Signing Key; checks "
           "`X-SignalWire-Signature`", SIGNED, default_doc="none"),
    Option("SIGNALWIRE_PROJECT_ID", "text", "REST requests (Basic auth)", SIGNED,
           default_doc="none"),
    Option("SIGNALWIRE_API_TOKEN", "secret", "SignalWire's API token", SIGNED, own_row=False),
    Option("SIGNALWIRE_SPACE_URL", "text", "`https://<space>.signalwire.com`, the REST base",
           SIGNED, default_doc="none"),
    Option("SIGNALWIRE_CODEC", "text", "`PCMU`, `PCMA`, `L16@8000h`, `L16@16000h`, "
           "`L16@24000h`", SIGNED, default="PCMU"),
    Option("SIGNALWIRE_L16_BYTE_ORDER", "choice", "byte order of L16 payloads (`big`: network "
           "order)", SIGNED, default="little", choices=("little", "big")),
    Option("VONAGE_SIGNATURE_SECRET", "secret", "the account's signature secret; checks the "
           "signed webhooks' `Authorization: Bearer` JWT (HS256)", JWT, default_doc="none"),
    Option("VONAGE_APPLICATION_ID", "text", "the Voice API application; with the private key, "
           "transfer and hang-up requests", JWT, default_doc="none"),
    Option("VONAGE_PRIVATE_KEY", "secret", "the application's PEM private key (text, or a file; "
           "not both): signs the RS256 REST tokens", JWT, default_doc="none"),
    Option("VONAGE_PRIVATE_KEY_FILE", "text", "the private key's file", JWT, own_row=False),
    Option("VONAGE_API_BASE", "text", "Voice API base (a proxy, or a fake server in tests)", JWT,
           default="https://api.nexmo.com"),
    Option("VONAGE_AUDIO_RATE", "int", "L16 rate of the media websocket: `8000`, `16000` or "
           "`24000`", JWT, default=16000),
    Option("VONAGE_FROM_NUMBER", "text", "caller id a transfer presents; unset: the number the "
           "caller dialled", JWT, default_doc="none"),
    Option("EXOTEL_STREAM_USER", "text", "the Basic credentials in the Voicebot applet's URL, "
           "checked on `/exotel/voice` and the media upgrade (both or neither)", JWT,
           default_doc="none"),
    Option("EXOTEL_STREAM_PASSWORD", "secret", "Exotel's stream password", JWT, own_row=False),
    Option("EXOTEL_AUDIO_RATE", "int", "L16 rate asked for in the stream URL (`sample-rate`): "
           "`8000`, `16000` or `24000`", JWT, default=8000),
)  # fmt: skip
