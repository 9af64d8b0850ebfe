"""Public URL reconstruction behind proxies, and the WebSocket / signed-request URLs built on it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.carriers.twilio.signature import compute_signature, validate_signature
from gateway.carriers.urls import public_base_url, request_url, websocket_url


def base(
    headers: dict[str, str] | None = None,
    *,
    configured: str | None = None,
    scheme: str = "http",
    host: str | None = "10.0.0.5:8080",
) -> str:
    return public_base_url(configured, scheme=scheme, host=host, headers=headers or {})


def test_the_request_itself_without_proxy_headers() -> None:
    assert base() == "http://10.0.0.5:8080"
    assert base(scheme="https", host="gw.example.com") == "https://gw.example.com"


def test_configured_wins_and_loses_its_trailing_slash() -> None:
    headers = {"x-forwarded-host": "evil.example", "x-forwarded-proto": "http"}
    assert base(headers, configured="https://gw.example.com/") == "https://gw.example.com"
    assert base(headers, configured="https://gw.example.com/voice//") == (
        "https://gw.example.com/voice"
    )
    assert base(configured="https://gw.example.com", host=None) == "https://gw.example.com"


def test_an_empty_configured_value_counts_as_unset() -> None:
    assert base(configured="  ") == "http://10.0.0.5:8080"


def test_x_forwarded_proto_and_host() -> None:
    headers = {"x-forwarded-proto": "https", "x-forwarded-host": "gw.example.com"}
    assert base(headers) == "https://gw.example.com"


def test_first_values_of_comma_separated_lists() -> None:
    headers = {
        "x-forwarded-proto": "https, http",
        "x-forwarded-host": "gw.example.com, internal.lb:8080",
        "x-forwarded-port": "443, 8080",
    }
    assert base(headers) == "https://gw.example.com"


def test_only_the_proto_is_forwarded_the_host_header_stays() -> None:
    # AWS ALB style: Host is preserved, X-Forwarded-Proto/Port added.
    headers = {"x-forwarded-proto": "HTTPS", "x-forwarded-port": "443"}
    assert base(headers, host="gw.example.com") == "https://gw.example.com"


def test_only_the_host_is_forwarded_the_scheme_stays() -> None:
    assert base({"x-forwarded-host": "gw.example.com"}) == "http://gw.example.com"


def test_forwarded_port_is_added_unless_default_or_present() -> None:
    assert base({"x-forwarded-host": "gw.example.com", "x-forwarded-port": "8443"}) == (
        "http://gw.example.com:8443"
    )
    headers = {"x-forwarded-proto": "https", "x-forwarded-host": "gw.example.com:9443"}
    assert base({**headers, "x-forwarded-port": "443"}) == "https://gw.example.com:9443"
    headers = {"x-forwarded-proto": "http", "x-forwarded-host": "gw.example.com"}
    assert base({**headers, "x-forwarded-port": "80"}) == "http://gw.example.com"


def test_forwarded_prefix() -> None:
    headers = {
        "x-forwarded-proto": "https",
        "x-forwarded-host": "gw.example.com",
        "x-forwarded-prefix": "/telephony/",
    }
    assert base(headers) == "https://gw.example.com/telephony"
    assert base({"x-forwarded-prefix": "a/b"}) == "http://10.0.0.5:8080/a/b"
    assert base({"x-forwarded-prefix": "/"}) == "http://10.0.0.5:8080"


def test_ipv6_hosts() -> None:
    assert base(host="[::1]:8080") == "http://[::1]:8080"
    assert base({"x-forwarded-port": "8443"}, host="[2001:db8::1]") == "http://[2001:db8::1]:8443"


def test_rfc7239_forwarded() -> None:
    headers = {"forwarded": "for=192.0.2.60;proto=https;host=gw.example.com;by=203.0.113.43"}
    assert base(headers) == "https://gw.example.com"


def test_rfc7239_first_element_quoted_values_and_case() -> None:
    headers = {
        "forwarded": 'For="[2001:db8:cafe::17]:4711"; Proto=HTTPS; Host="gw.example.com:8443", '
        "for=10.0.0.1;proto=http;host=internal"
    }
    assert base(headers) == "https://gw.example.com:8443"


def test_rfc7239_without_host_keeps_the_host_header() -> None:
    assert base({"forwarded": "for=192.0.2.60;proto=https"}) == "https://10.0.0.5:8080"


def test_rfc7239_host_only_in_a_later_element_is_not_used() -> None:
    assert base({"forwarded": "for=a, host=gw.example.com"}) == "http://10.0.0.5:8080"


def test_x_forwarded_wins_over_rfc7239() -> None:
    headers = {
        "x-forwarded-host": "xf.example.com",
        "forwarded": "proto=https;host=rfc.example.com",
    }
    assert base(headers) == "http://xf.example.com"


def test_no_host_at_all_raises() -> None:
    with pytest.raises(ValueError, match="no host"):
        base(host=None)
    with pytest.raises(ValueError, match="no host"):
        base({"x-forwarded-host": " , "}, host="")


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"x-forwarded-host": "evil.example/path"}, "valid host"),
        ({"x-forwarded-host": "user@evil.example"}, "valid host"),
        ({"x-forwarded-host": "a b"}, "valid host"),
        ({"x-forwarded-host": "gw.example.com:99999999"}, "valid host"),
        ({"x-forwarded-proto": "gopher"}, "X-Forwarded-Proto"),
        ({"forwarded": "proto=ftp"}, "Forwarded proto"),
        ({"x-forwarded-port": "https"}, "port number"),
        ({"x-forwarded-prefix": "/a?b=1"}, "plain path"),
        ({"x-forwarded-prefix": "/a b"}, "plain path"),
    ],
)
def test_bad_forwarded_values_raise(headers: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        base(headers, host="gw.example.com")


def test_websocket_url() -> None:
    assert websocket_url("https://gw.example.com", "/twilio/media") == (
        "wss://gw.example.com/twilio/media"
    )
    assert websocket_url("http://127.0.0.1:8080", "/twilio/media") == (
        "ws://127.0.0.1:8080/twilio/media"
    )
    assert websocket_url("https://gw.example.com/telephony", "/twilio/media") == (
        "wss://gw.example.com/telephony/twilio/media"
    )
    assert websocket_url("HTTPS://gw.example.com/", "twilio/media") == (
        "wss://gw.example.com/twilio/media"
    )
    assert websocket_url("wss://gw.example.com", "/m") == "wss://gw.example.com/m"


def test_request_url() -> None:
    assert request_url("https://gw.example.com", "/twilio/voice", "") == (
        "https://gw.example.com/twilio/voice"
    )
    assert request_url("https://gw.example.com/p", "/twilio/voice", "a=1&b=%20x") == (
        "https://gw.example.com/p/twilio/voice?a=1&b=%20x"
    )


@pytest.mark.parametrize("bad", ["gw.example.com", "ftp://gw.example.com", ""])
def test_urls_need_an_http_or_ws_base(bad: str) -> None:
    with pytest.raises(ValueError, match="http"):
        websocket_url(bad, "/m")
    with pytest.raises(ValueError, match="http"):
        request_url(bad, "/m", "")


def test_a_webhook_behind_a_tls_proxy_validates_against_the_public_url() -> None:
    # Twilio requested https://gw.example.com/telephony/twilio/voice?x=1; the app sees
    # http://10.0.0.5:8080/twilio/voice?x=1 with forwarding headers.
    token = "12345"
    params = {"CallSid": "CA1", "From": "+14155550100"}
    public = "https://gw.example.com/telephony/twilio/voice?x=1"
    signature = compute_signature(public, params, token)
    headers = {
        "x-forwarded-proto": "https",
        "x-forwarded-host": "gw.example.com",
        "x-forwarded-port": "443",
        "x-forwarded-prefix": "/telephony",
    }
    url = request_url(base(headers), "/twilio/voice", "x=1")
    assert url == public
    assert validate_signature(url, params, signature, token)
    assert not validate_signature(
        request_url(base(), "/twilio/voice", "x=1"), params, signature, token
    )


def test_rfc7239_quoted_values_may_hold_separators() -> None:
    headers = {"forwarded": r'for="_a\"b;c,d"; proto=https ;host="gw.example.com", host=x'}
    assert base(headers) == "https://gw.example.com"


FORWARDING_HEADERS = [
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-prefix",
    "forwarded",
]
header_text = st.text(st.sampled_from('ab:;,="\\ /[]0.9hostproHTTPS=-_'), max_size=60)


@given(
    st.dictionaries(
        st.sampled_from(FORWARDING_HEADERS),
        header_text,
    ),
    st.none() | header_text,
)
def test_any_headers_give_a_url_or_value_error(headers: dict[str, str], host: str | None) -> None:
    try:
        url = base(headers, host=host)
    except ValueError:
        return
    assert url.startswith(("http://", "https://"))
    assert not url.endswith("/")
    assert "?" not in url
    assert "#" not in url
