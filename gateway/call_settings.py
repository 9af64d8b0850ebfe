"""The call's policy, read from the environment into the core's own options.

`read_call_policy` returns the `BridgeOptions` every call starts from: its timeouts, buffers,
reconnect policy, playback lead and fallback number come from their variables (gateway.options);
the per-call fields (tools, greeting) are filled in for each call by the shell
(`GatewayServices.bridge_options`). The bridge's own checks (a backoff above its maximum, fewer
attempts per call than per outage) are reported under the variables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gateway.core.handover import ReconnectPolicy
from gateway.core.options import BridgeOptions
from gateway.env_reader import EnvReader, SettingsError
from gateway.options import call as c
from gateway.options import conduct
from gateway.options import core as opt
from gateway.options.option import Option

__all__ = ["CallWebhookSettings", "read_call_policy", "read_call_webhooks"]


def _number(reader: EnvReader, option: Option) -> float:
    value = reader.get_float(option)
    if value is None:  # every call option has a default
        raise ValueError(f"{option.name} has no default")
    return value


def _whole(reader: EnvReader, option: Option) -> int:
    value = reader.get_int(option)
    if value is None:
        raise ValueError(f"{option.name} has no default")
    return value


def _off_if_zero(seconds: float | None) -> float | None:
    """Seconds as ms; `0` (or unset) turns the behaviour off (None)."""
    return seconds * 1000 if seconds else None


_FIELDS = (  # longest first: `max_attempts_per_call` before `max_attempts`
    ("max_attempts_per_call", c.RECONNECT_MAX_ATTEMPTS_PER_CALL),
    ("max_attempts", c.RECONNECT_MAX_ATTEMPTS),
    ("backoff_max_ms", c.RECONNECT_BACKOFF_MAX_MS),
    ("backoff_ms", c.RECONNECT_BACKOFF_MS),
)


def _named(message: str) -> str:
    """The reconnect policy's refusal with its fields spelled as the variables that set them."""
    for name, option in _FIELDS:
        message = re.sub(rf"\b{name}\b", str(option.env), message)
    return message


@dataclass(frozen=True)
class CallWebhookSettings:
    """The post-call webhooks (gateway.shell.call_webhooks); no URL: none, unless a profile
    names one."""

    url: str | None = None
    secret: str | None = field(default=None, repr=False)
    timeout_s: float = 5.0
    max_attempts: int = 6
    max_age_s: float = 900.0
    queue_max: int = 1000


def read_call_webhooks(reader: EnvReader) -> CallWebhookSettings:
    url = reader.get_text(conduct.CALL_WEBHOOK_URL)
    secret = reader.get_text(conduct.CALL_WEBHOOK_SECRET)
    if url is not None and secret is None:
        raise SettingsError("GATEWAY_CALL_WEBHOOK_URL needs GATEWAY_CALL_WEBHOOK_SECRET")
    return CallWebhookSettings(
        url=url,
        secret=secret,
        timeout_s=_number(reader, conduct.CALL_WEBHOOK_TIMEOUT_S) or 5.0,
        max_attempts=_whole(reader, conduct.CALL_WEBHOOK_MAX_ATTEMPTS),
        max_age_s=_number(reader, conduct.CALL_WEBHOOK_MAX_AGE_S) or 900.0,
        queue_max=_whole(reader, conduct.CALL_WEBHOOK_QUEUE_MAX),
    )


def read_call_policy(reader: EnvReader) -> BridgeOptions:
    """The call policy every call starts from; SettingsError names the variable at fault."""
    try:
        reconnect = ReconnectPolicy(
            max_attempts=_whole(reader, c.RECONNECT_MAX_ATTEMPTS),
            max_attempts_per_call=_whole(reader, c.RECONNECT_MAX_ATTEMPTS_PER_CALL),
            backoff_ms=_number(reader, c.RECONNECT_BACKOFF_MS),
            backoff_max_ms=_number(reader, c.RECONNECT_BACKOFF_MAX_MS),
        )
    except SettingsError:
        raise
    except ValueError as exc:
        raise SettingsError(_named(str(exc))) from None
    start_timeout_s = _number(reader, opt.STREAM_START_TIMEOUT_S) or 10.0
    try:
        return BridgeOptions(
            playback_lead_ms=_whole(reader, opt.PLAYBACK_LEAD_MS),
            model_audio_ahead_max_ms=_number(reader, c.MODEL_AUDIO_AHEAD_MAX_S) * 1000,
            start_timeout_ms=start_timeout_s * 1000,
            connect_timeout_ms=_number(reader, c.LIVE_CONNECT_TIMEOUT_S) * 1000,
            connect_buffer_ms=_number(reader, c.CONNECT_BUFFER_MS),
            mark_interval_ms=_number(reader, c.MARK_INTERVAL_MS),
            ending_grace_ms=_number(reader, c.ENDING_GRACE_MS),
            reconnect=reconnect,
            reconnect_buffer_ms=_number(reader, c.RECONNECT_BUFFER_MS),
            handover_quiet_ms=_number(reader, c.HANDOVER_QUIET_MS),
            fallback_number=reader.get_text(opt.FALLBACK_NUMBER),
            wrap_up_max_ms=_number(reader, c.WRAP_UP_MAX_S) * 1000,
            handoff_timeout_ms=_number(reader, c.HANDOFF_TIMEOUT_S) * 1000,
            live_stall_timeout_ms=_number(reader, opt.LIVE_STALL_TIMEOUT_S) * 1000,
            silence_prompt_ms=_off_if_zero(_number(reader, conduct.SILENCE_PROMPT_S)),
            silence_hangup_ms=_off_if_zero(_number(reader, conduct.SILENCE_HANGUP_S)),
            hold_after_ms=_number(reader, conduct.HOLD_AFTER_MS) or None,
            hold_audio_file=reader.get_text(conduct.HOLD_AUDIO_FILE),
        )
    except SettingsError:
        raise
    except ValueError as exc:  # the bridge's own checks (every bound above is the option's)
        raise SettingsError(f"call policy: {exc}") from None
