"""Which Live API version a session needs (protocols.md A.5.1). Pure.

Affective dialog (`generationConfig.enableAffectiveDialog`) and proactive audio
(`proactivity.proactiveAudio`) exist only in the Developer API's `v1alpha` (the Live API
capabilities guide, in the sections on both options; livekit switches to `v1alpha` for them).
`v1beta` does not know the fields and closes the session (1007). So a Developer API session
whose setup turns either on goes to `v1alpha` unless `GATEWAY_LIVE_API_VERSION` was set
explicitly; an explicit version that cannot carry them stops start-up (`VersionError`). Vertex
has its own versions (`v1beta1`) and is not changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from gateway.live.setup import LiveConfig

__all__ = [
    "ALPHA_VERSION",
    "VersionError",
    "alpha_features",
    "api_version_for",
]

ALPHA_VERSION: Final = "v1alpha"


class VersionError(ValueError):
    """An explicitly configured API version that cannot carry the session's options."""


def alpha_features(config: LiveConfig) -> tuple[str, ...]:
    """The options of `config` that need `v1alpha` on the Developer API (those turned on)."""
    features: list[str] = []
    if config.affective_dialog:
        features.append("affective dialog")
    if config.proactive_audio:
        features.append("proactive audio")
    return tuple(features)


def api_version_for(config: LiveConfig, configured: str, *, explicit: bool, vertex: bool) -> str:
    """The API version a session of `config` uses on its backend.

    `configured` is GATEWAY_LIVE_API_VERSION or the backend's default; `explicit` says the
    variable was set. Raises VersionError when an explicit version cannot carry `config`.
    """
    features = alpha_features(config)
    if vertex or not features or configured == ALPHA_VERSION:
        return configured
    if explicit:
        verb = "need" if len(features) > 1 else "needs"
        raise VersionError(
            f"{' and '.join(features)} {verb} API version {ALPHA_VERSION} on the Developer API, "
            f"but GATEWAY_LIVE_API_VERSION is {configured}; unset it (the gateway then picks "
            f"{ALPHA_VERSION}) or set it to {ALPHA_VERSION}"
        )
    return ALPHA_VERSION
