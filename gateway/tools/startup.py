"""The gateway's toolbox from its settings: `load_toolbox_from_settings(settings)`.

Reads `GATEWAY_TOOLS_FILE` with `${NAME}` references resolved from the process environment over
the `.env` file (the same precedence as the settings themselves), then checks what only the
whole configuration can tell: 3.x Live models take no NON_BLOCKING tool. Transfer and hang-up
tools without Twilio REST credentials load, with a warning: their actions would fail at the
carrier, and the bridge then ends the stream itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from gateway.env_reader import parse_dotenv
from gateway.live.setup import model_family
from gateway.log import get_logger
from gateway.settings import Settings
from gateway.tools.config import ToolsFileError, load_toolbox
from gateway.tools.toolbox import Toolbox

__all__ = ["load_toolbox_from_settings"]

_log = get_logger(component="tools")
_CALL_CONTROL_KINDS = frozenset({"transfer", "hang_up"})


def load_toolbox_from_settings(
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    env_file: str | Path | None = ".env",
) -> Toolbox | None:
    """The configured toolbox, or None when `GATEWAY_TOOLS_FILE` is unset.

    Raises ToolsFileError (its message names the file, the tool and the field)."""
    path = settings.tools_file
    if path is None:
        return None
    merged: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        merged.update(parse_dotenv(Path(env_file).read_text(encoding="utf-8")))
    merged.update(os.environ if environ is None else environ)
    toolbox = load_toolbox(path, merged)
    specs = [spec for name in toolbox.names if (spec := toolbox.spec(name)) is not None]
    if model_family(settings.live.model) == "3":
        for spec in specs:
            if spec.non_blocking:
                raise ToolsFileError(
                    f'{path.name}: tool "{spec.name}": non_blocking is not supported by 3.x '
                    f"Live models ({settings.live.model})"
                )
    controls = [spec.name for spec in specs if spec.kind in _CALL_CONTROL_KINDS]
    twilio = settings.twilio
    if controls and not (twilio.account_sid and twilio.auth_token):
        _log.warning(
            "tools.call_control_unavailable",
            tools=controls,
            message="TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed to transfer or hang "
            "up through the REST API; without them these tools end the media stream only.",
        )
    _log.info("tools.loaded", file=str(path), names=list(toolbox.names))
    return toolbox
