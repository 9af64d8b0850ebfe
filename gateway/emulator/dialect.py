"""What each backend refuses that the other takes: the emulator's Developer and Vertex modes.

Synchronous and pure. The rules, and where the real behaviour is unknown the strictest reading
(docs/emulator.md lists which):

- Paths. Developer mode serves the Developer API paths (`…generativelanguage.<v>.GenerativeService
  .BidiGenerateContent`; the ephemeral-token `…Constrained` method only on `v1alpha`, as the SDK
  and the docs say); Vertex mode serves `…aiplatform.<v>.LlmBidiService/BidiGenerateContent`.
  The other backend's path is HTTP 404 (no Google host serves both). The plain paths (`/`,
  `/live`) are the emulator's own and open in both modes.
- Credentials. Vertex mode needs `Authorization: Bearer <token>` (HTTP 401 otherwise; an API
  key, Vertex's express mode, is refused too: the strictest reading).
- Models. Developer mode: `models/<id>`, not a Vertex id. Vertex mode:
  `projects/<p>/locations/<l>/publishers/google/models/<id>` (or the SDK's shorter
  `publishers/google/models/<id>` over a proxy) with a Vertex id. Otherwise close 1008.
- Developer mode over any version but `v1alpha`: `enableAffectiveDialog` and `proactivity` are
  unknown fields (close 1007), even when false.
- Vertex mode: `scheduling` and `willContinue` in a function response are unknown fields
  (close 1007 `Unknown name "scheduling" at 'tool_response.function_responses[0]'`,
  livekit/agents#3784).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from gateway.emulator.schema import ClientMessageError
from gateway.live.models import VERTEX_MODEL_IDS

__all__ = [
    "Backend",
    "api_version",
    "check_client_message",
    "check_model",
    "check_setup_version",
    "path_status",
]

_DEVELOPER_PATH: Final = re.compile(
    r"^/ws/google\.ai\.generativelanguage\.(?P<version>[A-Za-z0-9]+)\.GenerativeService"
    r"\.(?P<method>BidiGenerateContent(Constrained)?)$"
)
_VERTEX_PATH: Final = re.compile(
    r"^/ws/google\.cloud\.aiplatform\.(?P<version>[A-Za-z0-9]+)\.LlmBidiService"
    r"/BidiGenerateContent$"
)
_VERTEX_MODEL: Final = re.compile(
    r"^(projects/[^/]+/locations/[^/]+/)?publishers/google/models/(?P<id>[^/]+)$"
)
_ALPHA_ONLY: Final = (
    (("generationConfig", "enableAffectiveDialog"), "setup.generation_config"),
    (("proactivity",), "setup"),
)
_VERTEX_UNKNOWN_IN_RESPONSES: Final = ("scheduling", "willContinue")


class Backend(StrEnum):
    DEVELOPER = "developer"
    VERTEX = "vertex"


def api_version(path: str) -> str | None:
    """The API version a Live path names (either backend's form), None for other paths."""
    match = _DEVELOPER_PATH.match(path) or _VERTEX_PATH.match(path)
    return match.group("version") if match else None


def path_status(backend: Backend, path: str, plain_paths: tuple[str, ...]) -> int | None:
    """None when `backend` serves `path`, else the HTTP status refusing the handshake (404)."""
    if path in plain_paths:
        return None
    if backend is Backend.VERTEX:
        return None if _VERTEX_PATH.match(path) else 404
    match = _DEVELOPER_PATH.match(path)
    if match is None:
        return 404
    if match.group("method").endswith("Constrained") and match.group("version") != "v1alpha":
        return 404
    return None


def check_model(
    backend: Backend, model: str, api_version: str, models: frozenset[str] | None
) -> None:
    """Raise ClientMessageError(1008) for a model name the backend does not serve."""
    if models is not None:
        known = model in models
    elif backend is Backend.VERTEX:
        match = _VERTEX_MODEL.match(model)
        known = match is not None and match.group("id") in VERTEX_MODEL_IDS
    else:
        known = model.startswith("models/") and model[len("models/") :] not in VERTEX_MODEL_IDS
    if not known:
        if backend is Backend.VERTEX:
            reason = (
                f"Publisher Model `{model}` was not found or your project does not have access "
                "to it."
            )
        else:
            reason = (
                f"{model} is not found for API version {api_version}, or is not supported for "
                "bidiGenerateContent."
            )
        raise ClientMessageError(1008, reason)


def check_setup_version(backend: Backend, setup: Mapping[str, Any], api_version: str) -> None:
    """Raise ClientMessageError(1007) for a Developer API setup field its version lacks."""
    if backend is not Backend.DEVELOPER or api_version == "v1alpha":
        return
    for keys, where in _ALPHA_ONLY:
        name = keys[-1]
        node: Any = setup
        for key in keys:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is not None:
            raise ClientMessageError(
                1007,
                f"Invalid JSON payload received. Unknown name \"{name}\" at '{where}': Cannot "
                "find field.",
            )


def check_client_message(backend: Backend, kind: str, body: Mapping[str, Any]) -> None:
    """Raise ClientMessageError(1007) for a (normalised) client message `backend` refuses."""
    if backend is not Backend.VERTEX or kind != "toolResponse":
        return
    responses = body.get("functionResponses")
    for index, response in enumerate(responses if isinstance(responses, list) else []):
        if not isinstance(response, Mapping):
            continue
        for name in _VERTEX_UNKNOWN_IN_RESPONSES:
            if name in response:
                raise ClientMessageError(
                    1007,
                    f'Invalid JSON payload received. Unknown name "{name}" at '
                    f"'tool_response.function_responses[{index}]': Cannot find field.",
                )
