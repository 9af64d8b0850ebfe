"""What calls share across the process besides Live: the HTTP client, the tools, call control.

`GatewayServices` lives on `app.state.services` for the life of the server (built at start-up so a
bad tools file stops it). `for_call(carrier, control)` gives one call its `CallServices`: how to
open replacement Live sessions, run its tools and reach its carrier's REST API.
"""

from __future__ import annotations

from dataclasses import replace

import httpx

from gateway.carriers.control import CallControl
from gateway.core.options import BridgeOptions
from gateway.settings import Settings
from gateway.shell.call_control import CallControlClient
from gateway.shell.call_tasks import CallServices
from gateway.shell.connector import LiveConnector
from gateway.shell.live_client import LiveSession
from gateway.tools.base import ToolContext
from gateway.tools.startup import load_toolbox_from_settings
from gateway.tools.toolbox import Toolbox

__all__ = ["GatewayServices"]

_HTTP_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=50)


class GatewayServices:
    def __init__(
        self, settings: Settings, connector: LiveConnector, toolbox: Toolbox | None
    ) -> None:
        self.settings = settings
        self.connector = connector
        self.toolbox = toolbox
        # Tools and carrier REST requests share one pool; every request sets its own timeout.
        self.http = httpx.AsyncClient(limits=_HTTP_LIMITS, follow_redirects=False)
        self.control_client = CallControlClient(self.http)

    @classmethod
    def load(cls, settings: Settings, connector: LiveConnector) -> GatewayServices:
        """Load the tools file (ToolsFileError stops start-up) and declare its tools to Live."""
        toolbox = load_toolbox_from_settings(settings)
        if toolbox is not None:
            connector.config = replace(connector.config, tools=toolbox.declarations())
        return cls(settings, connector, toolbox)

    def bridge_options(self) -> BridgeOptions:
        server = self.settings.server
        names = frozenset(self.toolbox.names) if self.toolbox is not None else frozenset()
        return BridgeOptions(
            playback_lead_ms=server.playback_lead_ms,
            tool_names=names,
            fallback_number=server.fallback_number,
        )

    def for_call(self, carrier: str, control: CallControl | None) -> CallServices:
        connector, http = self.connector, self.http

        async def open_session(handle: str | None, context: str | None) -> LiveSession:
            return await connector.open(resume_handle=handle, context=context)

        def tool_context(call_id: str) -> ToolContext:
            return ToolContext(http=http, carrier=carrier, carrier_call_id=call_id)

        return CallServices(
            open_session=open_session,
            tools=self.toolbox,
            tool_context=tool_context,
            control=control,
            control_client=self.control_client,
        )

    async def aclose(self) -> None:
        await self.http.aclose()
