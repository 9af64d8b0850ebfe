"""Where a call's Live sessions come from: endpoint, setup and client options in one place.

`LiveConnector.open()` returns a ready `LiveSession` (setupComplete received) or raises
`LiveConnectError`. The webhook pre-warms sessions through it and a stream whose pre-warmed
session is gone connects through it too, so both see the same configuration.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from dataclasses import replace

from gateway.live.closes import close_info
from gateway.live.endpoints import LiveEndpoint, custom_endpoint
from gateway.live.setup import LiveConfig
from gateway.live.versions import alpha_features, api_version_for
from gateway.log import get_logger
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
_log = get_logger(component="live")


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
        self._settings: Settings | None = None
        """Set by from_settings: the endpoint then follows each session's config (API version)
        and fetches a Vertex token per session."""
        self._versions_logged: set[tuple[str, str]] = set()

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
        factory: EndpointFactory
        if settings.vertex and settings.vertex_access_token is None:

            async def vertex() -> LiveEndpoint:
                # Fetched per session: ADC tokens expire hourly and the pre-warm hides the cost.
                try:
                    token = await vertex_access_token()
                except Exception as exc:  # no credentials, metadata server down, ...
                    _log.error("live.vertex_token_failed", error=type(exc).__name__)
                    close = close_info(1008, "no Vertex access token", go_away_seen=False)
                    raise LiveConnectError(f"no Vertex access token: {exc}", close) from None
                return endpoint_from_settings(settings, access_token=token)

            factory = vertex
        else:  # the Developer API, GATEWAY_LIVE_URL, or Vertex with GOOGLE_OAUTH_ACCESS_TOKEN
            factory = _constant(endpoint_from_settings(settings))
        connector = cls(factory, settings.live, options)
        connector._settings = settings
        connector._version_for(settings.live)  # says so now when the agent needs v1alpha
        return connector

    def _version_for(self, config: LiveConfig) -> str | None:
        """The API version of `config`'s sessions when it differs from the settings' (v1alpha
        for affective dialog or proactive audio on the Developer API), else None."""
        settings = self._settings
        if settings is None:
            return None
        version = api_version_for(
            config,
            settings.live_api_version,
            explicit=settings.live_api_version_explicit,
            vertex=settings.vertex,
        )
        if version == settings.live_api_version:
            return None
        key = (config.model, version)
        if key not in self._versions_logged:
            self._versions_logged.add(key)
            _log.info(
                "live.api_version_selected",
                api_version=version,
                model=config.model,
                because=" and ".join(alpha_features(config)),
            )
        return version

    async def _endpoint_for(self, config: LiveConfig) -> LiveEndpoint:
        version = self._version_for(config)
        if version is None or self._settings is None:
            return await self._endpoint()
        return endpoint_from_settings(self._settings, api_version=version)  # never Vertex

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
            endpoint = await self._endpoint_for(config)
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
