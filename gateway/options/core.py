"""The gateway's own options (Live, agent, call server, logging), declared once.

Each constant is read by name (`reader.get(options.TEMPERATURE)`, the profiles loader's
`fields.get(options.TEMPERATURE)`); `CORE` lists them in the docs' order. Carrier options are
declared in each carrier's folder (gateway/carriers/<name>/settings.py), and
`gateway.carriers.registry.options` joins them with these through
`gateway.options.registry.all_options` (options/ imports nothing of the rest of the gateway).
"""

from __future__ import annotations

import re
from typing import Any, Final

from gateway.options.option import Option

__all__ = ["CORE"]

AGENT: Final = "The agent"
LIVE: Final = "The Live connection"
LOGGING: Final = "Logging"
SERVER: Final = "The call server"
CALL: Final = "Call policy"
SIGNATURES: Final = "Signatures"
"""The shell's signature policy, the same for every carrier (docs/configuration.md)."""
"""Set into the core's `BridgeOptions` (gateway.call_settings); more in gateway.options.call."""


def _http_url(value: Any) -> str | None:
    if not str(value).startswith(("https://", "http://")) or "?" in str(value):
        return "must be an http(s):// URL without a query"
    return None


def _ws_url(value: Any) -> str | None:
    return None if str(value).startswith(("ws://", "wss://")) else "must be a ws:// or wss:// URL"


def _secret_length(value: Any) -> str | None:
    return "must be at least 16 characters" if len(str(value)) < 16 else None


def _dial_target(value: Any) -> str | None:
    text = str(value)
    if re.fullmatch(r"\+[1-9][0-9]{6,14}", text) or text.startswith(("sip:", "sips:")):
        return None
    return "must be an E.164 number (+15551234567) or a sip: URI"


def _positive(value: Any) -> str | None:
    return None if 0 < float(value) < float("inf") else "must be a positive number of seconds"


def _record(value: Any) -> str | None:
    parts = {part.lower() for part in value}
    return "must name transcript, audio or both" if parts - {"transcript", "audio"} else None


# -- The Live connection ---------------------------------------------------------------------

GEMINI_API_KEY = Option(
    "GEMINI_API_KEY", "secret", "Gemini Developer API key (sent as the `x-goog-api-key` header); "
    "an ephemeral token (`auth_tokens/…`) selects the `v1alpha` constrained method. With neither "
    "a key, `GATEWAY_LIVE_URL` nor Vertex set, the built-in emulator answers", LIVE,
    default_doc="none",
)  # fmt: skip
LIVE_URL = Option(
    "GATEWAY_LIVE_URL", "text", "the Live WebSocket endpoint verbatim (`ws://` or `wss://`): an "
    "emulator (`gateway emulator` listens on `ws://127.0.0.1:9100/live`), a proxy, a private "
    "endpoint; a URL without a path gets the backend's standard path appended. With "
    "`GOOGLE_GENAI_USE_VERTEXAI=true`, Vertex's dialect goes to this URL", LIVE,
    check=_ws_url, default_doc="the backend's",
)  # fmt: skip
VERTEX = Option(
    "GOOGLE_GENAI_USE_VERTEXAI", "bool", "Vertex AI instead of the Developer API (needs "
    "`GOOGLE_CLOUD_PROJECT`; credentials: see [Vertex AI credentials](#vertex-ai-credentials))",
    LIVE, default=False,
)  # fmt: skip
CLOUD_PROJECT = Option(
    "GOOGLE_CLOUD_PROJECT", "text", "the Vertex AI project", LIVE, default_doc="none"
)
CLOUD_LOCATION = Option(
    "GOOGLE_CLOUD_LOCATION", "text", "the Vertex AI location; `global`, `us` and `eu` select "
    "the global or multi-region hosts", LIVE, default="us-central1",
)  # fmt: skip
OAUTH_ACCESS_TOKEN = Option(
    "GOOGLE_OAUTH_ACCESS_TOKEN", "secret", "Vertex only: a fixed bearer token instead of "
    "Application Default Credentials (see [Vertex AI credentials](#vertex-ai-credentials))",
    LIVE, default_doc="unset",
)  # fmt: skip
LIVE_API_VERSION = Option(
    "GATEWAY_LIVE_API_VERSION", "text", "API version in the endpoint path; pinned so an SDK or "
    "server default change does not move us. Unset, a Developer API session with affective "
    "dialog or proactive audio on (the agent's or a profile's) uses `v1alpha`, the only version "
    "that has them, and the log says so once (`live.api_version_selected`); set to another "
    "version, such an agent stops start-up", LIVE,
    default_doc="`v1beta` (`v1beta1` on Vertex)",
)  # fmt: skip
LIVE_SETUP_TIMEOUT_S = Option(
    "GATEWAY_LIVE_SETUP_TIMEOUT_S", "number", "how long the Live client waits for "
    "`setupComplete` (a socket-level wait; the call's own limit is "
    "`GATEWAY_LIVE_CONNECT_TIMEOUT_S`)", LIVE, default=10.0, minimum=0,
)  # fmt: skip
LIVE_STALL_TIMEOUT_S = Option(
    "GATEWAY_LIVE_STALL_TIMEOUT_S", "number", "a Live session that sends nothing for this long "
    "after the caller spoke is stalled: it is replaced (resumed, as after an abrupt close), then "
    "the call falls back ([sessions.md](sessions.md#a-session-that-goes-silent)). Keep it above "
    "your callers' longest utterance when input transcription is off: Live is silent while the "
    "caller speaks", CALL, default=20.0, minimum=0, check=_positive,
)  # fmt: skip
LIVE_PING_INTERVAL_S = Option(
    "GATEWAY_LIVE_PING_INTERVAL_S", "number", "WebSocket keepalive towards Live: ping interval "
    "and pong timeout (`0` disables); lenient because the library default (20 s/20 s) has "
    "dropped live calls on slow pongs", LIVE, default=30.0, minimum=0,
)  # fmt: skip
LIVE_PING_TIMEOUT_S = Option(
    "GATEWAY_LIVE_PING_TIMEOUT_S", "number", "the pong timeout of the keepalive above", LIVE,
    default=60.0, minimum=0, own_row=False,
)  # fmt: skip
LIVE_CA_FILE = Option(
    "GATEWAY_LIVE_CA_FILE", "text", "a PEM file of CA certificates the Live leg (`wss://`) "
    "trusts besides the system's store: a TLS-inspecting egress proxy, a private Live endpoint, "
    "or `gateway emulator --tls --cert-out FILE` in a bench. Applies to the Live leg only "
    "(OpenSSL's `SSL_CERT_FILE` would replace the whole process's trust store instead). Loaded "
    "at start-up: a missing file or one without a certificate stops it", LIVE,
    default_doc="unset",
)  # fmt: skip

# -- The agent -------------------------------------------------------------------------------

AGENTS_FILE = Option(
    "GATEWAY_AGENTS_FILE", "text", "agent profiles per dialed number (TOML); they replace the "
    "agent variables of this table. See [agents.md](agents.md)", AGENT, default_doc="none",
    example="/etc/gateway/agents.toml",
)  # fmt: skip
MODEL = Option(
    "GATEWAY_MODEL", "text", "Live model, bare or qualified (`models/…` for the Developer API; "
    "on Vertex a bare name becomes `projects/P/locations/L/publishers/google/models/…`). A model "
    "of the other backend stops start-up", AGENT, profile="model", live_field="model",
    default_doc="`gemini-2.5-flash-native-audio-preview-12-2025` (Vertex: "
    "`gemini-live-2.5-flash-native-audio`)",
    profile_doc="Live model, bare or `models/…` (a Vertex path on Vertex); a model of the other"
    " backend stops start-up ([configuration.md](configuration.md#vertex-ai-"
    "credentials))",
)  # fmt: skip
VOICE = Option(
    "GATEWAY_VOICE", "text", "prebuilt voice, any case (`kore` is sent as `Kore`). Native-audio "
    "and 3.x models: the 30 voices Zephyr, Puck, Charon, Kore, Fenrir, Leda, Orus, Aoede, "
    "Callirrhoe, Autonoe, Enceladus, Iapetus, Umbriel, Algieba, Despina, Erinome, Algenib, "
    "Rasalgethi, Laomedeia, Achernar, Alnilam, Schedar, Gacrux, Pulcherrima, Achird, "
    "Zubenelgenubi, Vindemiatrix, Sadachbia, Sadaltager, Sulafat; half-cascade models "
    "(`gemini-live-2.5-flash-preview`, `gemini-2.0-flash-live-001`): the 8 classic ones (Puck, "
    "Charon, Kore, Fenrir, Aoede, Leda, Orus, Zephyr). A model the gateway does not know gets "
    "the name as written", AGENT, profile="voice", live_field="voice",
    default_doc="model default (`Puck`)",
    profile_doc="prebuilt voice, any case (`kore` → `Kore`); see [voices](#voices)",
    profile_default_doc="the model's default",
)  # fmt: skip
LANGUAGE = Option(
    "GATEWAY_LANGUAGE", "text", "BCP-47 code of the agent's speech (`en-US`), sent as "
    "`speechConfig.languageCode`. Half-cascade models speak that language; native-audio and 3.x "
    "models choose the language from the conversation themselves, so also say it in the "
    "instructions (\"Always answer in German\")", AGENT, profile="language",
    live_field="language", default_doc="model decides",
    profile_doc="BCP-47 code of the agent's speech (`en-US`)",
    profile_default_doc="the model decides",
)  # fmt: skip
INSTRUCTIONS = Option(
    "GATEWAY_INSTRUCTIONS", "text", "system instruction, inline or from a file (not both)",
    AGENT, profile="instructions", live_field="instructions", default_doc="none",
    profile_doc="the system instruction, inline (or `instructions_file`, not both)",
)  # fmt: skip
INSTRUCTIONS_FILE = Option(
    "GATEWAY_INSTRUCTIONS_FILE", "text", "the system instruction's file (UTF-8 text)", AGENT,
    profile="instructions_file", default_doc="none", own_row=False,
    profile_doc="the system instruction from a UTF-8 file (relative paths are relative to the "
    "profiles file; at most 256 KiB)",
)  # fmt: skip
TOOLS_FILE = Option(
    "GATEWAY_TOOLS_FILE", "text", "tools the agent may call (TOML): HTTP backends, Python "
    "functions, transfer to named destinations, hang-up; `${NAME}` in the file comes from the "
    "environment. Its `[limits]` table bounds the tool calls one phone call may run at once (8) "
    "and the worker threads of Python tools (16). See [tools.md](tools.md)", AGENT,
    live_field="tools", default_doc="none",
)  # fmt: skip
PRICES_FILE = Option(
    "GATEWAY_PRICES_FILE", "text", "price table (TOML, per model, per million tokens) for the "
    "estimated Live cost of each call: `cost` in `call.ended`, `gateway_call_cost_total`. See "
    "[operations.md](operations.md#usage-and-cost)", AGENT, default_doc="none",
    example="/etc/gateway/prices.toml",
)  # fmt: skip
THINKING = Option(
    "GATEWAY_THINKING", "text", "a token budget for 2.5 models, a level for 3.x "
    "(`minimal`, `low`, `medium`, `high`), or `default` (the server's); profiles: "
    "`thinking_budget` or `thinking_level`", AGENT, live_field="thinking_budget",
    default_doc="off (2.5: budget 0; 3.x: `minimal`)",
)  # fmt: skip
THINKING_BUDGET = Option(
    None, "int", "thinking token budget (2.5 models)", AGENT, profile="thinking_budget",
    live_field="thinking_budget",
    profile_doc="tokens of thinking per turn, `-1` lets the model decide, up to 24576 (2.5 only)",
    profile_default_doc="2.5: `0`",
)  # fmt: skip
THINKING_LEVEL = Option(
    None, "choice", "thinking level (3.x models)", AGENT, profile="thinking_level",
    live_field="thinking_level", choices=("minimal", "low", "medium", "high"),
    profile_doc="`minimal`, `low`, `medium`, `high` (3.x only)",
    profile_default_doc="3.x: `minimal`",
)  # fmt: skip
BARGE_IN = Option(
    "GATEWAY_BARGE_IN", "bool", "caller speech interrupts the agent; `false` for disclosures "
    "that must play out", AGENT, default=True, profile="barge_in", live_field="barge_in",
    profile_doc="`false`: caller speech does not interrupt the agent (`NO_INTERRUPTION`), for "
    "disclosures that must play out",
)  # fmt: skip
VAD_START_SENSITIVITY = Option(
    "GATEWAY_VAD_START_SENSITIVITY", "choice", "how readily speech starts a turn: `high` or "
    "`low`", AGENT, choices=("high", "low"), profile="vad.start_sensitivity",
    live_field="vad.start_sensitivity", default_doc="server default",
    profile_doc="`high` or `low`: how readily speech starts a turn",
)  # fmt: skip
VAD_END_SENSITIVITY = Option(
    "GATEWAY_VAD_END_SENSITIVITY", "choice", "how readily silence ends a turn: `high` or `low`",
    AGENT, choices=("high", "low"), profile="vad.end_sensitivity",
    live_field="vad.end_sensitivity", default_doc="server default",
    profile_doc="`high` or `low`: how readily silence ends a turn",
)  # fmt: skip
VAD_PREFIX_PADDING_MS = Option(
    "GATEWAY_VAD_PREFIX_PADDING_MS", "int", "how long speech must last before a turn starts",
    AGENT, minimum=0, profile="vad.prefix_padding_ms", live_field="vad.prefix_padding_ms",
    default_doc="server default",
    profile_doc="speech must last this long (0 to 10000 ms) before a turn starts",
)  # fmt: skip
VAD_SILENCE_MS = Option(
    "GATEWAY_VAD_SILENCE_MS", "int", "how long silence must last before a turn ends", AGENT,
    minimum=0, profile="vad.silence_duration_ms", live_field="vad.silence_duration_ms",
    default_doc="server default",
    profile_doc="silence must last this long (0 to 10000 ms) before a turn ends",
)  # fmt: skip
CONTEXT_COMPRESSION = Option(
    "GATEWAY_CONTEXT_COMPRESSION", "bool", "sliding-window compression (without it, audio "
    "sessions end at 15 minutes)", AGENT, default=True, profile="compression.enabled",
    live_field="compression",
    profile_doc="sliding-window context compression; without it, audio sessions end at 15 minutes",
)  # fmt: skip
COMPRESSION_TRIGGER_TOKENS = Option(
    "GATEWAY_COMPRESSION_TRIGGER_TOKENS", "int", "context size at which compression starts",
    AGENT, minimum=1, profile="compression.trigger_tokens",
    live_field="compression_trigger_tokens", default_doc="server default",
    profile_doc="compress when the context exceeds this many tokens",
)  # fmt: skip
COMPRESSION_TARGET_TOKENS = Option(
    "GATEWAY_COMPRESSION_TARGET_TOKENS", "int", "context size kept after compression; needs "
    "`GATEWAY_COMPRESSION_TRIGGER_TOKENS` and must be below it", AGENT, minimum=1,
    profile="compression.target_tokens", live_field="compression_target_tokens",
    default_doc="server default (half the trigger)",
    profile_doc="tokens kept after compression (below the trigger)",
)  # fmt: skip
TEMPERATURE = Option(
    "GATEWAY_TEMPERATURE", "number", "sampling temperature, `0` to `2`", AGENT,
    profile="temperature", live_field="temperature", default_doc="server default",
    profile_doc="0.0 to 2.0",
)  # fmt: skip
TURN_COVERAGE = Option(
    "GATEWAY_TURN_COVERAGE", "choice", "what a user turn includes: `only_activity` (speech "
    "only), `all_input` (silence between speech too), `audio_activity_and_all_video` (3.x models "
    "only)", AGENT, choices=("only_activity", "all_input", "audio_activity_and_all_video"),
    profile="turn_coverage", live_field="turn_coverage",
    default_doc="server default (2.5: `only_activity`; 3.x: `audio_activity_and_all_video`)",
    profile_doc="`only_activity`, `all_input`, or `audio_activity_and_all_video` (3.x only)",
    profile_default_doc="server default",
)  # fmt: skip
AFFECTIVE_DIALOG = Option(
    "GATEWAY_AFFECTIVE_DIALOG", "flag", "`true`: the model adapts its tone to the caller's "
    "emotion. Native-audio 2.5 models only; on the Developer API only in `v1alpha`, which the "
    "gateway then picks (see `GATEWAY_LIVE_API_VERSION`)", AGENT, profile="affective_dialog",
    live_field="affective_dialog", default_doc="unset",
    profile_doc="the model adapts its tone to the caller's (native-audio 2.5 only; on the "
    "Developer API this profile's sessions then use `v1alpha`, see "
    "[live.md](live.md#api-versions-affective-dialog-and-proactive-audio-"
    "need-v1alpha))",
)  # fmt: skip
PROACTIVE_AUDIO = Option(
    "GATEWAY_PROACTIVE_AUDIO", "flag", "`true`: the model may stay silent on speech not meant "
    "for it (side talk, background voices). Native-audio 2.5 models only; on the Developer API "
    "only in `v1alpha`, as above", AGENT, profile="proactive_audio",
    live_field="proactive_audio", default_doc="unset",
    profile_doc="the model may stay silent when speech is not meant for it (native-audio 2.5 "
    "only; `v1alpha` as above)",
)  # fmt: skip
GOOGLE_SEARCH = Option(
    "GATEWAY_GOOGLE_SEARCH", "bool", "adds the built-in Google Search tool (grounded answers)",
    AGENT, default=False, profile="google_search", live_field="google_search",
    profile_doc="grounding with Google Search",
)  # fmt: skip
INCLUDE_THOUGHTS = Option(
    "GATEWAY_INCLUDE_THOUGHTS", "flag", "`true`: the server adds the model's thought summaries "
    "to its answers as text; the gateway does not use them (they are never spoken)", AGENT,
    profile="include_thoughts", live_field="include_thoughts", default_doc="unset",
    profile_doc="ask for thought summaries (they are never spoken)",
)  # fmt: skip
TRANSCRIBE_INPUT = Option(
    "GATEWAY_TRANSCRIBE_INPUT", "bool", "transcripts of the caller (input) and of the agent "
    "(output), from which the call's transcript is built", AGENT, default=True,
    profile="transcribe_input", live_field="transcribe_input",
    profile_doc="transcript of the caller (needed for `record = [\"transcript\"]` and for "
    "rebuilding a lost session)",
)  # fmt: skip
TRANSCRIBE_OUTPUT = Option(
    "GATEWAY_TRANSCRIBE_OUTPUT", "bool", "transcript of the agent (output)", AGENT,
    default=True, profile="transcribe_output", live_field="transcribe_output", own_row=False,
    profile_doc="transcript of the agent (needed likewise)",
)  # fmt: skip
GREETING = Option(
    "GATEWAY_GREETING", "choice", "`agent`: the agent speaks first as soon as its session is "
    "ready; `caller`: it waits for the caller to speak", AGENT, default="caller",
    choices=("agent", "caller"), profile="greeting",
    profile_doc="`agent`: the agent speaks first as soon as its session is ready; `caller`: it "
    "waits for the caller",
)  # fmt: skip
GREETING_PROMPT = Option(
    "GATEWAY_GREETING_PROMPT", "text", "what the model is told to make it speak first", AGENT,
    profile="greeting_prompt", default_doc='"The caller has just been connected. Greet them '
    'briefly and ask how you can help."', example="The caller has just been connected. Greet "
    "them briefly.",
)  # fmt: skip
RECORD = Option(
    "GATEWAY_RECORD", "list", "`transcript`, `audio` or `transcript,audio`: write each call's "
    "transcript (JSON, agent lines cut to what the caller heard) and/or a stereo WAV (caller "
    "left, agent right, as heard) to `GATEWAY_RECORDINGS_DIR`. See "
    "[agents.md](agents.md#transcripts-and-recordings)", AGENT, default=(), profile="record",
    check=_record, default_doc="none", example="transcript,audio",
    profile_doc="`[\"transcript\"]`, `[\"audio\"]` or both; see [Transcripts and "
    "recordings](#transcripts-and-recordings)",
)  # fmt: skip
RECORDINGS_DIR = Option(
    "GATEWAY_RECORDINGS_DIR", "text", "where transcripts and recordings go (by day, UTC); needed "
    "by `GATEWAY_RECORD` and by profiles with `record`", AGENT, default_doc="none",
    example="/var/lib/gateway/recordings",
)  # fmt: skip
RECORDINGS_RETENTION_DAYS = Option(
    "GATEWAY_RECORDINGS_RETENTION_DAYS", "number", "recordings older than this are deleted (at "
    "start-up, then hourly); `0` keeps them forever", AGENT, default=30.0, minimum=0,
)  # fmt: skip
NUMBERS = Option(
    None, "list", "the dialed numbers a profile answers", AGENT, profile="numbers",
    profile_doc="dialed numbers or SIP URIs this agent answers (not allowed in `[defaults]`)",
    profile_default_doc="none",
)  # fmt: skip
TOOLS = Option(
    None, "list", "the tools (of the tools file) a profile may call", AGENT, profile="tools",
    live_field="tools",
    profile_doc="tool names from `GATEWAY_TOOLS_FILE`; only these are declared to the model, "
    "and a call to any other is refused",
    profile_default_doc="none",
)  # fmt: skip

# -- Logging ---------------------------------------------------------------------------------

LOG_FORMAT = Option(
    "LOG_FORMAT", "choice", "`json`: one object per line on stdout (for jq and log shippers); "
    "`console`: for humans", LOGGING, default="json", choices=("json", "console"),
)  # fmt: skip
LOG_LEVEL = Option(
    "LOG_LEVEL", "text", "`DEBUG`, `INFO`, `WARNING`, `ERROR`", LOGGING, default="INFO"
)

# -- The call server -------------------------------------------------------------------------

HOST = Option(
    "GATEWAY_HOST", "text", "listen address and port (`gateway serve --host/--port` override)",
    SERVER, default="0.0.0.0",
)  # fmt: skip
PORT = Option(
    "GATEWAY_PORT", "int", "the listen port", SERVER, default=8080, minimum=0, maximum=65535,
    own_row=False,
)  # fmt: skip
PUBLIC_URL = Option(
    "GATEWAY_PUBLIC_URL", "text", "public base URL as the carrier reaches it "
    "(`https://voice.example.com`); signatures are checked against it and stream URLs are built "
    "from it. Unset: `X-Forwarded-Proto`/`-Host`/`-Port`/`-Prefix` or `Forwarded`, else `Host`. "
    "Set it in production: forwarded headers are only as trustworthy as the proxy that writes "
    "them.", SERVER, check=_http_url, default_doc="from the request",
)  # fmt: skip
SECRET = Option(
    "GATEWAY_SECRET", "secret", "signs per-call stream tokens (HMAC-SHA256); 16+ characters, the "
    "same on every replica", SERVER, check=_secret_length, default_doc="random per process",
)  # fmt: skip
API_KEY = Option(
    "GATEWAY_API_KEY", "secret", "API key for the dial-out API and the web softphone", SERVER,
)  # fmt: skip
STREAM_TOKEN_TTL_S = Option(
    "GATEWAY_STREAM_TOKEN_TTL_S", "number", "a stream token's lifetime (it is single-use as "
    "well)", SERVER, default=60.0, minimum=0,
)  # fmt: skip
PREWARM_HOLD_S = Option(
    "GATEWAY_PREWARM_HOLD_S", "number", "how long a Live session opened at the webhook waits for "
    "its stream; `0` turns pre-warming off", SERVER, default=15.0, minimum=0,
)  # fmt: skip
STREAM_START_TIMEOUT_S = Option(
    "GATEWAY_STREAM_START_TIMEOUT_S", "number", "how long an accepted stream may take to send "
    "`start` (the call bridge's start timer; the stream is then closed, `stream.no_start`)",
    CALL, default=10.0, minimum=0,
)  # fmt: skip
PLAYBACK_LEAD_MS = Option(
    "GATEWAY_PLAYBACK_LEAD_MS", "int", "model audio queued at the carrier at most; the rest is "
    "held locally (see [carriers/twilio.md](carriers/twilio.md))", SERVER, default=400,
    minimum=20,
)  # fmt: skip
FALLBACK_NUMBER = Option(
    "GATEWAY_FALLBACK_NUMBER", "text", "where callers go (after a short apology) when the agent "
    "cannot take or keep the call: Live failed for good, gateway at capacity or draining; E.164 "
    "or `sip:` URI. Unset: the apology and a polite goodbye", SERVER, check=_dial_target,
    default_doc="unset", example="+15551234567",
)  # fmt: skip
MAX_CALLS = Option(
    "GATEWAY_MAX_CALLS", "int", "admission limit: calls running plus calls answered whose stream "
    "has not started yet. Beyond it the webhook answers the fallback (an apology, then a dial to "
    "`GATEWAY_FALLBACK_NUMBER` when set) without a token or a Live session, and `GET /readyz` "
    "answers 503. Size it from the benchmark ([operations.md](operations.md#sizing))", SERVER,
    default=100, minimum=1,
)  # fmt: skip
DRAIN_TIMEOUT_S = Option(
    "GATEWAY_DRAIN_TIMEOUT_S", "number", "on SIGTERM: how long running calls may go on before "
    "they are ended (`draining`); readiness is false and new webhooks get the fallback from the "
    "signal on. Keep the orchestrator's grace period longer "
    "([operations.md](operations.md#stopping-and-draining))", SERVER, default=300.0, minimum=0,
)  # fmt: skip
EVENT_LOOP = Option(
    "GATEWAY_EVENT_LOOP", "choice", "`auto` (uvloop when installed), `uvloop`, or `asyncio`",
    SERVER, default="auto", choices=("auto", "uvloop", "asyncio"),
)  # fmt: skip

# The signature policy
UNSIGNED_CARRIERS = Option(
    "GATEWAY_UNSIGNED_CARRIERS", "list", "registered carriers that may run without signatures "
    "while their secret is unset, by the name in their routes (comma-separated, e.g. "
    "`telnyx,plivo`): for local tests and demos only", SIGNATURES, default=(),
    default_doc="none",
)  # fmt: skip

PROFILE_ONLY: Final = (THINKING_BUDGET, THINKING_LEVEL, NUMBERS, TOOLS)

CORE: Final[tuple[Option, ...]] = (
    # Live
    GEMINI_API_KEY, LIVE_URL, VERTEX, CLOUD_PROJECT, CLOUD_LOCATION, OAUTH_ACCESS_TOKEN,
    LIVE_API_VERSION, LIVE_SETUP_TIMEOUT_S, LIVE_STALL_TIMEOUT_S, LIVE_PING_INTERVAL_S,
    LIVE_PING_TIMEOUT_S, LIVE_CA_FILE,
    # the agent
    AGENTS_FILE, NUMBERS, MODEL, VOICE, LANGUAGE, INSTRUCTIONS, INSTRUCTIONS_FILE, TOOLS,
    TOOLS_FILE, PRICES_FILE,
    THINKING, THINKING_BUDGET, THINKING_LEVEL, BARGE_IN, VAD_START_SENSITIVITY,
    VAD_END_SENSITIVITY, VAD_PREFIX_PADDING_MS, VAD_SILENCE_MS, CONTEXT_COMPRESSION,
    COMPRESSION_TRIGGER_TOKENS, COMPRESSION_TARGET_TOKENS, TEMPERATURE, TURN_COVERAGE,
    AFFECTIVE_DIALOG, PROACTIVE_AUDIO, GOOGLE_SEARCH, INCLUDE_THOUGHTS, TRANSCRIBE_INPUT,
    TRANSCRIBE_OUTPUT, GREETING, GREETING_PROMPT, RECORD, RECORDINGS_DIR,
    RECORDINGS_RETENTION_DAYS,
    # logging
    LOG_FORMAT, LOG_LEVEL,
    # the call server
    HOST, PORT, PUBLIC_URL, SECRET, API_KEY, STREAM_TOKEN_TTL_S, PREWARM_HOLD_S,
    STREAM_START_TIMEOUT_S, PLAYBACK_LEAD_MS, FALLBACK_NUMBER, MAX_CALLS, DRAIN_TIMEOUT_S,
    EVENT_LOOP,
    # the signature policy
    UNSIGNED_CARRIERS,
)  # fmt: skip
