"""`gateway call` against the real `gateway serve`, both reading the same `.env` (as the Twilio
guide sets them up), and the hint it prints when the gateway answers a webhook with 403."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from gateway.emulator import LiveEmulator
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN
from tests.e2e.process import gateway_process

RECORDING = Path(__file__).resolve().parents[1] / "recordings" / "greeting_question.wav"


async def _call(base_url: str, cwd: Path, *args: str) -> tuple[int, str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "TWILIO_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "call", str(RECORDING), "--url", base_url,
        "--speed", "10", "--tail-s", "0.5", *args,
        env=environ, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_gateway_call_signs_with_the_env_file_the_gateway_reads(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"TWILIO_AUTH_TOKEN={AUTH_TOKEN}\nTWILIO_ACCOUNT_SID={ACCOUNT_SID}\n", encoding="utf-8"
    )
    # A Live backend of its own (not the embedded emulator, whose development setup takes every
    # carrier unsigned): the gateway then refuses an unsigned Telnyx webhook, as in production.
    async with (
        LiveEmulator() as emulator,
        gateway_process({"GATEWAY_LIVE_URL": emulator.plain_url}, tmp_path) as gateway,
    ):
        signed = await _call(gateway.base_url, tmp_path)
        telnyx = await _call(gateway.base_url, tmp_path, "--carrier", "telnyx")
        forged = await _call(gateway.base_url, tmp_path, "--auth-token", "not-the-token")
        await gateway.stop()
    code, out, err = signed
    assert code == 0, out + err
    assert "HTTP 200" in out
    code, out, err = telnyx
    assert code == 1
    assert "HTTP 403" in out
    assert err.strip() == (
        "gateway call: the gateway refused the webhook (HTTP 403): this call was not signed "
        "(TELNYX_SIM_PRIVATE_KEY is not set here). telnyx webhooks are refused while the gateway "
        "has no TELNYX_PUBLIC_KEY, unless GATEWAY_UNSIGNED_CARRIERS names telnyx (local tests "
        "only)."
    )
    assert AUTH_TOKEN not in out + err
    code, out, err = forged
    assert code == 1
    assert err.strip() == (
        "gateway call: the gateway refused the webhook (HTTP 403): the signature did not verify: "
        "the gateway's TWILIO_AUTH_TOKEN must match the secret this command signs with "
        "(--auth-token or TWILIO_AUTH_TOKEN), and the URL must be the one the gateway sees "
        "(GATEWAY_PUBLIC_URL)."
    )
