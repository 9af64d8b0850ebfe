"""The carriers built on the shared translator seam, as the end-to-end tests place their calls.

Each `CarrierCase` says how to configure the gateway for one carrier (its verification key),
how the simulator presents itself (dialect, signing secret), and in what format the stream
carries audio (for the exact uplink reference). `place` runs one recorded call through the real
gateway (uvicorn on loopback) and the Live emulator and returns the three views of it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audio.paths import Encoding
from gateway.carriers.telnyx.signature import public_key_text
from gateway.emulator import EmulatorConfig, LiveEmulator, Scenario, SessionRecord
from gateway.shell.runtime import CallRecord
from gateway.sim.call import place_call
from gateway.sim.codecs import StreamCodec
from gateway.sim.dialect import CarrierDialect
from gateway.sim.exotel import ExotelDialect
from gateway.sim.plivo import PlivoDialect
from gateway.sim.recording import Recording, load_recording
from gateway.sim.report import CallReport
from gateway.sim.script import SimOptions
from gateway.sim.signalwire import SignalWireDialect
from gateway.sim.telnyx import TelnyxDialect
from gateway.sim.vonage import VonageDialect
from tests.e2e.harness import running_gateway, wait_for

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
REPLY = "Thank you for calling, let me check that for you right away, one moment please"

VONAGE_SECRET = "vonage-signature-secret-0123456789abcdef"
EXOTEL_PASSWORD = "exotel-stream-password"
TELNYX_SEED = bytes(range(32))
TELNYX_PUBLIC_KEY = public_key_text(Ed25519PrivateKey.from_private_bytes(TELNYX_SEED))


@dataclass(frozen=True)
class CarrierCase:
    name: str
    env: Mapping[str, str]
    """Gateway environment: the carrier's verification key and formats."""
    secret: str
    """The simulator's signing secret (`SimOptions.auth_token`)."""
    dialect: Callable[[], CarrierDialect]
    codec: Callable[[], StreamCodec]
    """The stream's audio as the simulator encodes it (for the exact uplink reference)."""
    call_id: str
    options: Mapping[str, Any] = field(default_factory=dict)
    end_reason: str = "carrier stop"
    """How the call ends when the script does (Vonage sends no stop: it closes the socket)."""

    def sim_options(self, **overrides: Any) -> SimOptions:
        values = {"auth_token": self.secret, "call_sid": self.call_id, **self.options}
        return SimOptions(**{**values, **overrides})


CASES: dict[str, CarrierCase] = {
    "telnyx": CarrierCase(
        name="telnyx",
        env={"TELNYX_PUBLIC_KEY": TELNYX_PUBLIC_KEY},
        secret=base64.b64encode(TELNYX_SEED).decode(),
        # Every 7th frame arrives after the next one: the gateway must put them back.
        dialect=lambda: TelnyxDialect(swap_every=7),
        codec=lambda: StreamCodec(Encoding.MULAW),
        call_id="v3:9X2vxPDFY2RHSJ1EdMS0RHRksMTg7ldNxdjWbVr9zBjbGjGsSe-aiQ",
    ),
    # Linear PCM at 16 kHz: no μ-law step, and the uplink needs no resampling at all.
    "plivo": CarrierCase(
        name="plivo",
        env={
            "PLIVO_AUTH_ID": "MAODUMODUMODUMODUMOD",
            "PLIVO_AUTH_TOKEN": "plivo-auth-token-0123456789",
            "PLIVO_CONTENT_TYPE": "audio/x-l16;rate=16000",
        },
        secret="plivo-auth-token-0123456789",
        dialect=PlivoDialect,
        codec=lambda: StreamCodec(Encoding.L16, 16_000),
        call_id="c6b3c0b8-5d0f-4f0a-9f44-4e7b2a6d9a11",
        options={"account_sid": "MAODUMODUMODUMODUMOD"},
    ),
    # The Twilio dialect with SignalWire's signatures and raw PCM at 24 kHz, big-endian: no
    # μ-law step, and no resampling at all towards the caller (Live speaks 24 kHz).
    "signalwire": CarrierCase(
        name="signalwire",
        env={
            "SIGNALWIRE_SIGNING_KEY": "PSK_signalwire_signing_key_0123",
            "SIGNALWIRE_PROJECT_ID": "b9c7ac8e-1a5d-4c3e-9f3a-3f1f0e6b2d10",
            "SIGNALWIRE_API_TOKEN": "PT_signalwire_api_token_0123456",
            "SIGNALWIRE_CODEC": "L16@24000h",
            "SIGNALWIRE_L16_BYTE_ORDER": "big",
        },
        secret="PSK_signalwire_signing_key_0123",
        dialect=lambda: SignalWireDialect(big_endian=True),
        codec=lambda: StreamCodec(Encoding.L16, 24_000, big_endian=True),
        call_id="2b0f7d9c-5c1e-4f0e-8a63-6d1c9e2f4a77",
        options={"account_sid": "b9c7ac8e-1a5d-4c3e-9f3a-3f1f0e6b2d10"},
    ),
    # Binary L16 frames at 16 kHz, notify/clear, a signed GET answer webhook and an NCCO.
    "vonage": CarrierCase(
        name="vonage",
        env={"VONAGE_SIGNATURE_SECRET": VONAGE_SECRET},
        secret=VONAGE_SECRET,
        dialect=VonageDialect,
        codec=lambda: StreamCodec(Encoding.L16, 16_000),
        call_id="63f61863-4a51-4f6b-86e1-46edebcf9356",
        end_reason="carrier closed",
    ),
    # L16 at 8 kHz: the model's answer goes back in 200 ms chunks (Exotel's size rules).
    "exotel": CarrierCase(
        name="exotel",
        env={"EXOTEL_STREAM_USER": "exotel-user", "EXOTEL_STREAM_PASSWORD": EXOTEL_PASSWORD},
        secret=EXOTEL_PASSWORD,
        dialect=ExotelDialect,
        codec=lambda: StreamCodec(Encoding.L16, 8_000),
        call_id="b1d3e0a1c5f44c8f9e1a6c0d2b7f3e21",
        options={"account_sid": "exotel-user"},
    ),
}


@dataclass
class Placed:
    """One finished call seen three ways: by the caller, by the model, by the gateway."""

    case: CarrierCase
    recording: Recording
    dialect: CarrierDialect
    report: CallReport
    session: SessionRecord
    call: CallRecord


async def place(case: CarrierCase, recording_name: str) -> Placed:
    """Place `recording_name` as `case`'s carrier, in real time, and wait for the call's end."""
    recording = load_recording(RECORDINGS / f"{recording_name}.wav")
    threshold = recording.hints.get("vad_threshold_dbfs")
    config = EmulatorConfig(vad_threshold_dbfs=float(threshold) if threshold else None)
    scenario = Scenario(replies=[REPLY] * 10)
    async with (
        LiveEmulator(config, scenario) as emulator,
        running_gateway(emulator, case.env) as gateway,
    ):
        dialect = case.dialect()
        report = await place_call(
            gateway.base_url, recording.script, case.sim_options(), dialect=dialect
        )
        await wait_for(lambda: len(gateway.calls) == 1)
        await wait_for(lambda: gateway.runtime.active_calls == 0)
        session = emulator.recorder.sessions[0]
        await wait_for(lambda: len(session.closes) >= 1)
        return Placed(case, recording, dialect, report, session, gateway.calls[0])
