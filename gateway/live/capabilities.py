"""What each Live model accepts, as data, and the check every `LiveConfig` goes through.

A Live server refuses a setup it does not like by closing the socket (1007/1008, protocols.md
A.9), in the middle of a call. The gateway refuses the same configuration at start-up instead,
with a `LiveOptionError` that names the option, the model and what to do.

Sources, per rule (tags as in protocols.md):
- thinking budget on 2.5, thinking level on 3.x: A.5.1 table [code][doc], A.7 [doc]; the budget
  range -1..24576 is the commonly quoted 2.5 Flash range, not found in protocols.md
  [unverified].
- affective dialog and proactive audio: native-audio 2.5 only, not 3.1 Flash Live: A.5.1 [doc],
  A.7 [doc]. Half-cascade models (gemini-live-2.5-flash-preview, gemini-2.0-flash-live-001) are
  not native audio, so they do not have them either.
- NON_BLOCKING tools: not on 3.x (3.1 Flash Live calls are synchronous): A.5.1 [doc], A.7 [doc].
- turn coverage: ONLY_ACTIVITY (2.5 default) and ALL_INPUT everywhere, AUDIO_ACTIVITY_AND_ALL_VIDEO
  (3.1 default) on 3.x only: A.5.1 [code][doc].
- voices: the 30 Chirp 3 HD voices on native-audio and 3.x models (Vertex "configure language and
  voice" page lists 30 for the Live API [doc]); the 8 classic voices on half-cascade models
  (third-party client libraries only; that Vertex page may mean all 30 for every model
  [unverified]); any name on a model we do not know.
- model names of the other backend (a Developer API id on Vertex, or the reverse):
  gateway.live.models, protocols.md A.11 [code].
- language: native-audio models switch language by themselves; `speechConfig.languageCode` is
  documented for half-cascade models only (Vertex page [doc]). No source says the code is refused,
  so it is still sent; `language_code_honoured` records what to expect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from gateway.live.models import wrong_backend

if TYPE_CHECKING:
    from gateway.live.setup import LiveConfig

__all__ = [
    "CLASSIC_VOICES",
    "NATIVE_AUDIO_VOICES",
    "THINKING_LEVELS",
    "TURN_COVERAGES",
    "LiveOptionError",
    "ModelCapabilities",
    "canonical_voice",
    "capabilities",
    "check_live_config",
    "model_family",
]

NATIVE_AUDIO_VOICES: Final = (
    "Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe",
    "Autonoe", "Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib",
    "Rasalgethi", "Laomedeia", "Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima",
    "Achird", "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
)  # fmt: skip
"""The 30 prebuilt voices of native-audio (and 3.x) models."""
CLASSIC_VOICES: Final = ("Puck", "Charon", "Kore", "Fenrir", "Aoede", "Leda", "Orus", "Zephyr")
"""The 8 prebuilt voices of half-cascade models."""
THINKING_LEVELS: Final = ("MINIMAL", "LOW", "MEDIUM", "HIGH")
TURN_COVERAGES: Final = ("ONLY_ACTIVITY", "ALL_INPUT", "AUDIO_ACTIVITY_AND_ALL_VIDEO")
"""`LiveConfig.turn_coverage` values; the wire value is `TURN_INCLUDES_` + value."""

MAX_THINKING_BUDGET: Final = 24576
MAX_VAD_MS: Final = 10_000
# BCP-47 shape only (language, optional script/region/variants): `en-US`, `cmn-Hans-CN`, `de`.
_BCP47: Final = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


class LiveOptionError(ValueError):
    """A Live option the gateway (or the model) cannot use.

    `option` is the LiveConfig field at fault, dotted for VAD (`vad.silence_duration_ms`) and
    `tools` for any tool problem; the message says what is wrong and what to do.
    """

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


def model_family(model: str) -> str:
    """`"2.5"`, `"3"` or `"other"`, from the model's base name (decides the thinking fields)."""
    base = _base_name(model).lower()
    if re.match(r"^gemini-(live-)?2\.5", base):
        return "2.5"
    if re.match(r"^gemini-(live-)?3", base):
        return "3"
    return "other"


@dataclass(frozen=True)
class ModelCapabilities:
    """What one Live model accepts in `setup` (see the module docstring for the sources)."""

    name: str
    """The base name (`gemini-3.1-flash-live-preview`), used in messages."""
    family: str
    native_audio: bool
    """The base name contains `native-audio`."""
    half_cascade: bool
    """Audio understanding, text reasoning and a separate speech synthesiser (2.5 or 2.0 Live
    models that are not native audio)."""
    thinking_budget: bool
    thinking_level: bool
    affective_dialog: bool
    proactive_audio: bool
    non_blocking_tools: bool
    turn_coverages: frozenset[str]
    voices: tuple[str, ...] | None
    """Prebuilt voice names, canonical spelling; None: unknown model, any name is sent."""
    language_code_honoured: bool | None
    """True: `speechConfig.languageCode` sets the speech language. False: the model chooses
    the language from the conversation (say it in the instructions); the code is still sent,
    since no source says it is refused. None: unknown."""


def _base_name(model: str) -> str:
    return model.rsplit("/", 1)[-1]


def capabilities(model: str) -> ModelCapabilities:
    """The capabilities of `model`: a wire string (`models/...`, a Vertex path) or a bare name."""
    name = _base_name(model)
    family = model_family(model)
    native = "native-audio" in name.lower()
    half_cascade = not native and (
        family == "2.5" or name.lower().startswith("gemini-2.0-flash-live")
    )
    known = native or half_cascade or family == "3"
    voices: tuple[str, ...] | None = None
    if native or family == "3":
        voices = NATIVE_AUDIO_VOICES
    elif half_cascade:
        voices = CLASSIC_VOICES
    coverages = {"ONLY_ACTIVITY", "ALL_INPUT"}
    if family == "3":
        coverages.add("AUDIO_ACTIVITY_AND_ALL_VIDEO")
    return ModelCapabilities(
        name=name,
        family=family,
        native_audio=native,
        half_cascade=half_cascade,
        thinking_budget=family != "3",
        thinking_level=family != "2.5",
        affective_dialog=native and family == "2.5",
        proactive_audio=native and family == "2.5",
        non_blocking_tools=family != "3",
        turn_coverages=frozenset(coverages),
        voices=voices,
        language_code_honoured=(half_cascade if known else None),
    )


def canonical_voice(model: str, name: str) -> str:
    """`name` in its canonical spelling (`kore` -> `Kore`) for `model`.

    Raises LiveOptionError (option `voice`) when the model is known and has no such voice. For a
    model we do not know, a known voice name is still normalised and any other is kept as is.
    """
    wanted = name.strip()
    caps = capabilities(model)
    voices = caps.voices if caps.voices is not None else NATIVE_AUDIO_VOICES
    for voice in voices:
        if voice.lower() == wanted.lower():
            return voice
    if caps.voices is None:
        return wanted
    raise LiveOptionError("voice", _unknown_voice(caps, wanted))


def _unknown_voice(caps: ModelCapabilities, voice: str) -> str:
    assert caps.voices is not None
    message = f"voice {voice!r} is not a prebuilt voice of {caps.name}"
    if caps.half_cascade and voice.lower() in {v.lower() for v in NATIVE_AUDIO_VOICES}:
        message += " (half-cascade models have 8 voices; the others need a native-audio model)"
    return f"{message}; choose one of {', '.join(caps.voices)}"


def check_live_config(config: LiveConfig) -> None:
    """Raise LiveOptionError for the first option of `config` its model does not accept."""
    refusal = wrong_backend(config.model)
    if refusal is not None:
        raise LiveOptionError("model", refusal)
    caps = capabilities(config.model)
    _check_voice_and_language(config, caps)
    _check_thinking(config, caps)
    _check_dialog(config, caps)
    _check_tools(config, caps)
    if config.turn_coverage is not None:
        if config.turn_coverage not in TURN_COVERAGES:
            raise LiveOptionError(
                "turn_coverage",
                f"turn coverage must be one of {', '.join(TURN_COVERAGES)}, "
                f"not {config.turn_coverage!r}",
            )
        if config.turn_coverage not in caps.turn_coverages:
            raise LiveOptionError(
                "turn_coverage",
                f"turn coverage {config.turn_coverage} is supported only by 3.x models, not "
                f"{caps.name}; use ONLY_ACTIVITY or ALL_INPUT",
            )
    if config.vad.disabled:
        # Without server VAD the client must mark every turn with activityStart/activityEnd,
        # and the gateway has no voice detector of its own to do that.
        raise LiveOptionError(
            "vad.disabled",
            "automatic activity detection cannot be turned off: the gateway sends no "
            "activityStart/activityEnd, so the model would never hear a turn end; tune the VAD "
            "sensitivities and durations instead",
        )
    if config.temperature is not None and not 0.0 <= config.temperature <= 2.0:
        raise LiveOptionError(
            "temperature", f"temperature must be between 0.0 and 2.0, not {config.temperature}"
        )
    _check_compression(config)


def _check_voice_and_language(config: LiveConfig, caps: ModelCapabilities) -> None:
    if config.voice is not None and caps.voices is not None and config.voice not in caps.voices:
        spelled = [v for v in caps.voices if v.lower() == config.voice.lower()]
        if spelled:
            raise LiveOptionError("voice", f"voice {config.voice!r} must be spelled {spelled[0]!r}")
        raise LiveOptionError("voice", _unknown_voice(caps, config.voice))
    if config.language is not None and not _BCP47.fullmatch(config.language):
        raise LiveOptionError(
            "language",
            f"language {config.language!r} is not a BCP-47 code; use one such as en-US or de-DE",
        )


def _check_thinking(config: LiveConfig, caps: ModelCapabilities) -> None:
    budget, level = config.thinking_budget, config.thinking_level
    if budget is not None:
        if not caps.thinking_budget:
            raise LiveOptionError(
                "thinking_budget",
                f"{caps.name} takes a thinking level ({', '.join(THINKING_LEVELS)}), not a "
                "thinking budget; set a level instead",
            )
        if not -1 <= budget <= MAX_THINKING_BUDGET:
            raise LiveOptionError(
                "thinking_budget",
                f"thinking budget must be between -1 (the model decides) and "
                f"{MAX_THINKING_BUDGET} tokens, not {budget}",
            )
    if level is not None:
        if not caps.thinking_level:
            raise LiveOptionError(
                "thinking_level",
                f"{caps.name} takes a thinking budget (tokens; 0 turns thinking off), not a "
                "thinking level; set a budget instead",
            )
        if level not in THINKING_LEVELS:
            raise LiveOptionError(
                "thinking_level",
                f"thinking level must be one of {', '.join(THINKING_LEVELS)}, not {level!r}",
            )


def _check_dialog(config: LiveConfig, caps: ModelCapabilities) -> None:
    # Any explicit value is refused where the feature is missing, `false` included: the field
    # itself may be what the server refuses (3.1 Flash Live: "remove any configuration").
    if config.affective_dialog is not None and not caps.affective_dialog:
        raise LiveOptionError(
            "affective_dialog",
            f"affective dialog is supported only by native-audio 2.5 models, not {caps.name}; "
            "remove the setting",
        )
    if config.proactive_audio is not None and not caps.proactive_audio:
        raise LiveOptionError(
            "proactive_audio",
            f"proactive audio is supported only by native-audio 2.5 models, not {caps.name}; "
            "remove the setting",
        )


def _check_tools(config: LiveConfig, caps: ModelCapabilities) -> None:
    seen: set[str] = set()
    for tool in config.tools:
        if tool.name in seen:
            raise LiveOptionError(
                "tools", f"tool names must be unique; {tool.name} is declared twice"
            )
        seen.add(tool.name)
        if tool.non_blocking and not caps.non_blocking_tools:
            raise LiveOptionError(
                "tools",
                f"{caps.name} does not support NON_BLOCKING (asynchronous) tools; make "
                f"{tool.name} blocking or choose a 2.5 model",
            )


def _check_compression(config: LiveConfig) -> None:
    trigger, target = config.compression_trigger_tokens, config.compression_target_tokens
    if trigger is not None and trigger < 1:
        raise LiveOptionError(
            "compression_trigger_tokens",
            f"the compression trigger must be at least 1 token, not {trigger}",
        )
    if target is None:
        return
    if trigger is None:
        raise LiveOptionError(
            "compression_target_tokens",
            "a compression target needs a compression trigger; set the trigger too",
        )
    if not 1 <= target < trigger:
        raise LiveOptionError(
            "compression_target_tokens",
            f"the compression target must be at least 1 and below the trigger ({trigger} "
            f"tokens), not {target}",
        )
