"""GATEWAY_LIVE_CA_FILE: a private CA the Live leg trusts, checked at start-up."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from gateway.emulator import EmulatorConfig, LiveEmulator
from gateway.emulator.tls import self_signed_certificate
from gateway.live.setup import LiveConfig
from gateway.settings import SettingsError, load_settings
from gateway.shell.live_client import (
    ClientOptions,
    LiveConnectError,
    connect,
    endpoint_from_settings,
)


def run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(body())


def test_unset_means_the_system_trust_store() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.live_ca_file is None
    assert ClientOptions.from_settings(settings).ssl_context is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "No such file or directory"),
        (b"not a certificate\n", "NO_CERTIFICATE_OR_CRL_FOUND"),
        (self_signed_certificate()[1], "NO_CERTIFICATE_OR_CRL_FOUND"),  # a key is no CA
    ],
)
def test_a_file_without_a_certificate_stops_start_up(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    path = tmp_path / "ca.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SettingsError) as caught:
        load_settings({"GATEWAY_LIVE_CA_FILE": str(path)}, env_file=None)
    message = str(caught.value)
    assert message.startswith(
        f"GATEWAY_LIVE_CA_FILE: cannot load CA certificates (PEM) from {path}"
    )
    assert reason in message


def test_the_live_leg_trusts_the_file_and_only_with_it(tmp_path: Path) -> None:
    async def body() -> None:
        async with LiveEmulator(EmulatorConfig(tls=True)) as emulator:
            assert emulator.cert_pem is not None
            ca_file = tmp_path / "emulator.pem"
            ca_file.write_bytes(emulator.cert_pem)
            trusted = load_settings(
                {"GATEWAY_LIVE_URL": emulator.plain_url, "GATEWAY_LIVE_CA_FILE": str(ca_file)},
                env_file=None,
            )
            assert trusted.live_ca_file == ca_file
            options = ClientOptions.from_settings(trusted)
            assert options.ssl_context is not None
            session = await connect(endpoint_from_settings(trusted), LiveConfig(), options=options)
            await session.close()
            untrusted = load_settings({"GATEWAY_LIVE_URL": emulator.plain_url}, env_file=None)
            with pytest.raises(LiveConnectError) as caught:
                await connect(
                    endpoint_from_settings(untrusted),
                    LiveConfig(),
                    options=ClientOptions.from_settings(untrusted),
                )
        assert "SSLCertVerificationError" in str(caught.value)
        assert len(emulator.recorder.sessions) == 1

    run(body)
