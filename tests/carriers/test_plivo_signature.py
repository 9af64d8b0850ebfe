"""X-Plivo-Signature-V3: the base strings of plivo-python's algorithm, and the C.2 vector."""

from __future__ import annotations

import pytest

from gateway.carriers.plivo.signature import base_string, compute_signature, validate_signature

TOKEN = "MY_AUTH_TOKEN"
NONCE = "12345678901234567890"
PARAMS = [("CallUUID", "abc"), ("From", "+15550001111")]
SIGNATURE = "nl/ZLi4im1MTu0YmlDC2wJ7HFyKmx1W0V4jNe4qzwko="  # protocols.md C.2 [run]


@pytest.mark.parametrize(
    ("method", "url", "params", "expected"),
    [
        # POST, no query: "?" then name+value pairs, sorted.
        (
            "POST",
            "https://example.com/answer",
            PARAMS,
            "https://example.com/answer?CallUUIDabcFrom+15550001111",
        ),
        # POST with a query: sorted k=v, ".", then the pairs.
        ("POST", "https://x.io/a?z=1&b=2", [("B", "1")], "https://x.io/a?b=2&z=1.B1"),
        # POST with a query and no body: the query only.
        ("POST", "https://x.io/a?z=1&b=2", [], "https://x.io/a?b=2&z=1"),
        # POST with neither: the bare URL.
        ("POST", "https://x.io/a", None, "https://x.io/a"),
        # GET: query and parameters merged and sorted as k=v.
        ("GET", "https://x.io/a?z=1", [("b", "2")], "https://x.io/a?b=2&z=1"),
        ("GET", "wss://x.io/plivo/media", None, "wss://x.io/plivo/media"),
        # Repeated names: one entry per value, values sorted; query values decoded.
        ("POST", "https://x.io/a?q=a%20b", [("k", "2"), ("k", "1")], "https://x.io/a?q=a b.k1k2"),
        # A repeated query key signs its first value; the path is signed decoded; non-ASCII
        # query values decoded (plivo-python 4.63.1).
        ("GET", "wss://x.io/my%20stream?a=2&a=1", None, "wss://x.io/my stream?a=2"),
        ("POST", "https://x.io/a?a=2&a=1&n=Jos%C3%A9", [], "https://x.io/a?a=2&n=José"),
        # The media upgrade: the full stream URL, ws:// or wss://, as a GET.
        (
            "GET",
            "wss://gw.example.com/plivo/media?stream_token=t.1",
            None,
            "wss://gw.example.com/plivo/media?stream_token=t.1",
        ),
    ],
)
def test_base_strings(
    method: str, url: str, params: list[tuple[str, str]] | None, expected: str
) -> None:
    assert base_string(method, url, params) == expected


def test_the_documented_vector() -> None:
    assert (
        compute_signature("POST", "https://example.com/answer", PARAMS, NONCE, TOKEN) == SIGNATURE
    )
    url = "https://example.com/answer"
    assert validate_signature("POST", url, PARAMS, NONCE, SIGNATURE, TOKEN)
    # A header listing several signatures matches if any does.
    assert validate_signature("POST", url, PARAMS, NONCE, f"bogus=,{SIGNATURE}", TOKEN)


@pytest.mark.parametrize(
    ("params", "nonce", "header", "token"),
    [
        ([("CallUUID", "abd"), ("From", "+15550001111")], NONCE, SIGNATURE, TOKEN),
        (PARAMS, "12345678901234567891", SIGNATURE, TOKEN),
        (PARAMS, NONCE, SIGNATURE, "OTHER_TOKEN"),
        (PARAMS, NONCE, None, TOKEN),
        (PARAMS, None, SIGNATURE, TOKEN),
        (PARAMS, NONCE, "", TOKEN),
    ],
)
def test_anything_else_fails(
    params: list[tuple[str, str]], nonce: str | None, header: str | None, token: str
) -> None:
    assert not validate_signature(
        "POST", "https://example.com/answer", params, nonce, header, token
    )
