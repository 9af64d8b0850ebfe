"""Which Live model ids belong to which backend, and the default model of each. Pure.

The Gemini Developer API and Vertex AI name their Live models differently, and each refuses the
other's names (Vertex closes 1008 on `gemini-2.5-flash-native-audio-preview-12-2025`:
livekit/agents#3714, #3747; protocols.md A.11). The gateway refuses such a name at start-up
instead, with a message naming both backends. Only names known to belong to one backend are
refused; a name in neither list (a new model, `gemini-3.1-flash-live-preview`, whose Vertex
availability no source confirms) is sent as configured.

The backend is read from the wire string itself: `models/...` is the Developer API,
`projects/.../publishers/google/models/...` (or `publishers/...`) is Vertex.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "DEVELOPER_DEFAULT_MODEL",
    "VERTEX_DEFAULT_MODEL",
    "VERTEX_MODEL_IDS",
    "backend_of_model",
    "default_model",
    "wrong_backend",
]

DEVELOPER_DEFAULT_MODEL: Final = "gemini-2.5-flash-native-audio-preview-12-2025"
VERTEX_DEFAULT_MODEL: Final = "gemini-live-2.5-flash-native-audio"

VERTEX_MODEL_IDS: Final = frozenset(
    {
        "gemini-live-2.5-flash-native-audio",
        "gemini-live-2.5-flash-preview-native-audio-09-2025",
        "gemini-live-2.5-flash-preview-native-audio",
        "gemini-2.0-flash-live-preview-04-09",
    }
)
"""Live model ids of Vertex AI (its Live API model pages; protocols.md A.11)."""

_DEVELOPER_ONLY: Final = re.compile(
    r"^(gemini-2\.5-flash-native-audio(-.+)?"
    r"|gemini-2\.5-flash-preview-native-audio-dialog"
    r"|gemini-2\.5-flash-exp-native-audio-thinking-dialog"
    r"|gemini-live-2\.5-flash-preview"
    r"|gemini-2\.0-flash-live-001)$"
)
"""Live model ids of the Developer API only (its model list; Vertex refuses them)."""


def backend_of_model(model: str) -> str:
    """`"vertex"` for a Vertex resource name, `"developer"` otherwise."""
    return "vertex" if model.startswith(("projects/", "publishers/")) else "developer"


def default_model(*, vertex: bool) -> str:
    """The bare default model id of a backend."""
    return VERTEX_DEFAULT_MODEL if vertex else DEVELOPER_DEFAULT_MODEL


def wrong_backend(model: str) -> str | None:
    """Why `model` (a wire string) cannot work on its backend, or None when it may."""
    base = model.rsplit("/", 1)[-1]
    if backend_of_model(model) == "vertex":
        if _DEVELOPER_ONLY.match(base):
            return (
                f"model {base} is a Gemini Developer API model; Vertex AI "
                f"(GOOGLE_GENAI_USE_VERTEXAI=true) does not have it and refuses it (1008). On "
                f"Vertex AI use {VERTEX_DEFAULT_MODEL}, or use {base} on the Developer API "
                "(GEMINI_API_KEY, GOOGLE_GENAI_USE_VERTEXAI unset)"
            )
        return None
    if base in VERTEX_MODEL_IDS:
        return (
            f"model {base} is a Vertex AI model; the Gemini Developer API does not have it and "
            f"refuses it (1008). On the Developer API use {DEVELOPER_DEFAULT_MODEL}, or use "
            f"{base} on Vertex AI (GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_CLOUD_PROJECT)"
        )
    return None
