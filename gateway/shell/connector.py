"""Where a call's Live sessions come from: endpoint, setup and client options in one place.

`LiveConnector.open()` returns a ready `LiveSession` (setupComplete received) or raises
`LiveConnectError`. The webhook pre-warms sessions through it and a stream whose pre-warmed
session is gone connects through it too, so both see the same configuration.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from dataclasses import replace

from gateway.live.endpoints import LiveEndpoint, custom_endpoint
from gateway.live.setup import LiveConfig
from gateway.settings import Settings
from gateway.shell.live_client import (
    ClientOptions,
    LiveConnectError,
    LiveSession,
    connect,
    endpoint_from_settings,
    vertex_access_token,
)

__all__ = ["LiveConnector"]

EndpointFactory = Callable[[], Awaitable[LiveEndpoint]]


class LiveConnector:
    """Opens Live sessions with one endpoint factory, setup configuration and client options."""

    def __init__(
        self, endpoint: EndpointFactory, config: LiveConfig, options: ClientOptions
    ) -> None:
        self._endpoint = endpoint
        self.config = config
        self.options = options
        self.opened = 0
        """Sessions opened (setupComplete received), pre-warmed, fresh and resumed alike."""
        self.failed = 0
        """Opens that failed (LiveConnectError)."""
        self._sessions: weakref.WeakSet[LiveSession] = weakref.WeakSet()

    @property
    def open_sessions(self) -> int:
        """Sessions opened here whose socket is still open (metrics read it at scrape time).

        Exact at any moment, garbage collection or not: see `LiveSession.is_open`."""
        return sum(1 for session in self._sessions if session.is_open)

    @classmethod
    def from_settings(cls, settings: Settings, *, live_url: str | None = None) -> LiveConnector:
        """The settings' backend, or `live_url` (the embedded emulator) when given."""
        options = ClientOptions.from_settings(settings)
        if live_url is not None:
            fixed = custom_endpoint(live_url, api_key=None)
            return cls(_constant(fixed), settings.live, options)
        if settings.vertex and not settings.live_url:

            async def vertex() -> LiveEndpoint:
                # Fetched per session: ADC tokens expire hourly and the pre-warm hides the cost.
                token = await vertex_access_token()
                return endpoint_from_settings(settings, access_token=token)

            return cls(vertex, settings.live, options)
        return cls(_constant(endpoint_from_settings(settings)), settings.live, options)

    async def open(
        self,
        *,
        resume_handle: str | None = None,
        context: str | None = None,
        config: LiveConfig | None = None,
    ) -> LiveSession:
        """A ready session; raises LiveConnectError (with a classified close) otherwise.

        `config` is the call's agent profile's setup (default: `self.config`). `context` (the
        conversation so far, for a fresh session replacing a lost one) is added to the system
        instruction: every Live model accepts that at setup."""
        config = config or self.config
        if context:
            instructions = f"{config.instructions}\n\n{context}" if config.instructions else context
            config = replace(config, instructions=instructions)
        try:
            endpoint = await self._endpoint()
            session = await connect(
                endpoint, config, resume_handle=resume_handle, options=self.options
            )
        except LiveConnectError:
            self.failed += 1
            raise
        self.opened += 1
        self._sessions.add(session)
        return session


def _constant(endpoint: LiveEndpoint) -> EndpointFactory:
    async def factory() -> LiveEndpoint:
        return endpoint

    return factory
