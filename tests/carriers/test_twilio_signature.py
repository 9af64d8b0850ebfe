"""X-Twilio-Signature: the B.5 vectors, port variants, tampering, and Twilio's own validator."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from gateway.carriers.twilio.signature import compute_signature, url_variants, validate_signature

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
BODY = '{"property": "value", "boolean": true}'
BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"

VECTORS = [
    (URL, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ("https://mycompany.com:443/myapp.php?foo=1&bar=2", PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w="),
    ("http://mycompany.com:80/myapp.php?foo=1&bar=2", PARAMS, "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    (f"{URL}&bodySHA256={BODY_HASH}", None, "a9nBmqA0ju/hNViExpshrM61xv4="),
    ("wss://example.com/media", None, "7PR3qMkpDyEJtMrVOY/LDyNq8J8="),
]


@pytest.mark.parametrize(("url", "params", "signature"), VECTORS)
def test_protocol_vectors(url: str, params: dict[str, str] | None, signature: str) -> None:
    assert compute_signature(url, params, TOKEN) == signature
    assert validate_signature(url, params, signature, TOKEN)


def test_the_json_vector_body_hash() -> None:
    assert hashlib.sha256(BODY.encode()).hexdigest() == BODY_HASH


def test_validation_with_or_without_the_default_port() -> None:
    plain = "RSOYDt4T1cUTdK1PDd93/VVr8B8="  # signed without the port
    with_port = "kvajT1Ptam85bY51eRf/AJRuM3w="  # signed with :443
    assert validate_signature(URL, PARAMS, with_port, TOKEN)
    assert validate_signature(
        "https://mycompany.com:443/myapp.php?foo=1&bar=2", PARAMS, plain, TOKEN
    )
    # The http vector was signed with :80; the request may arrive as seen without it.
    http_signature = "0ZXoZLH/DfblKGATFgpif+LLRf4="
    assert validate_signature(
        "http://mycompany.com/myapp.php?foo=1&bar=2", PARAMS, http_signature, TOKEN
    )


def test_a_websocket_upgrade_validates_with_443() -> None:
    signature = compute_signature("wss://example.com:443/media", None, TOKEN)
    assert validate_signature("wss://example.com/media", None, signature, TOKEN)
    assert validate_signature("wss://example.com/media", {}, signature, TOKEN)


def test_a_non_default_port_is_also_tried_without() -> None:
    signature = compute_signature("https://gw.example.com/voice", PARAMS, TOKEN)
    assert validate_signature("https://gw.example.com:8443/voice", PARAMS, signature, TOKEN)
    assert url_variants("https://gw.example.com:8443/voice") == [
        "https://gw.example.com:8443/voice",
        "https://gw.example.com/voice",
    ]
    assert url_variants("wss://[::1]/m") == ["wss://[::1]/m", "wss://[::1]:443/m"]


@pytest.mark.parametrize(
    ("url", "params", "token"),
    [
        (URL, {**PARAMS, "Digits": "1235"}, TOKEN),
        (URL, {**PARAMS, "Extra": ""}, TOKEN),
        (URL, {k: v for k, v in PARAMS.items() if k != "To"}, TOKEN),
        (URL.replace("foo=1", "foo=2"), PARAMS, TOKEN),
        (URL.replace("myapp", "yourapp"), PARAMS, TOKEN),
        (URL.replace("https", "http"), PARAMS, TOKEN),
        (URL.replace("mycompany", "evil"), PARAMS, TOKEN),
        (URL + "&", PARAMS, TOKEN),
        (URL, PARAMS, "12346"),
        (URL, None, TOKEN),
    ],
)
def test_tampering_fails(url: str, params: dict[str, str] | None, token: str) -> None:
    assert not validate_signature(url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", token)


@pytest.mark.parametrize("signature", [None, "", "RSOYDt4T1cUTdK1PDd93/VVr8B8", "x" * 28, "é"])
def test_missing_or_bad_signatures_fail(signature: str | None) -> None:
    assert not validate_signature(URL, PARAMS, signature, TOKEN)


def test_repeated_names_sign_each_sorted_distinct_value() -> None:
    pairs = [("b", "2"), ("a", "z"), ("a", "y"), ("a", "z")]
    expected = compute_signature("https://h/p", None, TOKEN)
    assert compute_signature("https://h/p", pairs, TOKEN) != expected
    payload_url = "https://h/p" + "ay" + "az" + "b2"  # sorted, de-duplicated, no separators
    assert compute_signature("https://h/p", pairs, TOKEN) == compute_signature(
        payload_url, None, TOKEN
    )


# ------------------------------------------------------- against twilio-python's validator


class MultiDict(dict[str, list[str]]):
    """The Flask-style mapping twilio-python reads repeated names from (`getall`)."""

    def getall(self, name: str) -> list[str]:
        return self[name]

    def pairs(self) -> Iterator[tuple[str, str]]:
        return ((name, value) for name, values in self.items() for value in values)


names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)
values = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
forms = st.dictionaries(names, st.lists(values, min_size=1, max_size=3), max_size=6).map(MultiDict)
tokens = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=32)

label = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
safe = st.text("abcdefghijklmnopqrstuvwxyzABC0123456789-._~%=&+", max_size=20)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["https", "http"]))
    host = ".".join(draw(st.lists(label, min_size=1, max_size=3)))
    port = draw(st.sampled_from(["", ":443", ":80", ":8080"]))
    path = "/" + "/".join(draw(st.lists(safe.filter(lambda s: "&" not in s), max_size=3)))
    query = draw(st.one_of(st.just(""), safe.map(lambda q: "?" + q)))
    return f"{scheme}://{host}{port}{path}{query}"


@given(st.text(max_size=80), forms, tokens)
def test_compute_signature_matches_twilio(url: str, form: MultiDict, token: str) -> None:
    ours = compute_signature(url, list(form.pairs()), token)
    assert ours == RequestValidator(token).compute_signature(url, form)


@given(urls(), urls(), forms, tokens, st.booleans())
def test_validate_signature_agrees_with_twilio(
    requested: str, signed: str, form: MultiDict, token: str, same_url: bool
) -> None:
    # Sign each port variant of the requested URL, or of an unrelated URL.
    signed_url = requested if same_url else signed
    # twilio-python rebuilds URLs with urlparse/geturl; keep to URLs that survive that as is.
    assume(urlparse(requested).geturl() == requested)
    for variant in url_variants(signed_url):
        signature = compute_signature(variant, list(form.pairs()), token)
        theirs = RequestValidator(token).validate(requested, form, signature)
        ours = validate_signature(requested, list(form.pairs()), signature, token)
        assert ours == theirs
        if same_url:
            assert ours
