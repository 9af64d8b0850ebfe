"""Stream tokens: every TokenCheck outcome, single use, expiry, pruning, forgery refused."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER, StreamTokens, TokenCheck

SECRET = b"0123456789abcdef0123456789abcdef"
CALL = "CA5fd1a3a4e1e5d6f1e4b2a1c0d9e8f7a6"
NONCE = bytes(range(16))
T0 = 1_700_000_000.25


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def tokens(**kwargs: float) -> StreamTokens:
    return StreamTokens(SECRET, **kwargs)  # type: ignore[arg-type]


def test_the_parameter_name() -> None:
    assert STREAM_TOKEN_PARAMETER == "stream_token"


def test_valid_once_then_reused() -> None:
    store = tokens()
    token = store.issue(CALL, T0, NONCE)
    assert store.redeem(token, CALL, T0 + 1) is TokenCheck.VALID
    assert store.redeem(token, CALL, T0 + 2) is TokenCheck.REUSED
    assert store.redeemed_count == 1


def test_the_token_layout() -> None:
    token = tokens(ttl_s=60).issue(CALL, T0, NONCE)
    payload_text, mac_text = token.split(".")
    payload = unb64(payload_text)
    expiry = int(T0 + 60)
    call_digest = hashlib.sha256(CALL.encode()).digest()[:16]
    assert payload == b"st1" + expiry.to_bytes(8, "big") + call_digest + NONCE
    assert unb64(mac_text) == hmac.new(SECRET, payload, hashlib.sha256).digest()
    assert "=" not in token
    assert len(token) == 102


def test_tokens_stay_short_for_long_call_ids_and_nonces() -> None:
    token = tokens().issue("v3:" + "x" * 500, T0, bytes(32))
    assert len(token) == 123
    assert len(token) < 200


@pytest.mark.parametrize("token", [None, ""])
def test_missing(token: str | None) -> None:
    assert tokens().redeem(token, CALL, T0) is TokenCheck.MISSING


def _valid_parts() -> tuple[str, str]:
    payload_text, mac_text = tokens().issue(CALL, T0, NONCE).split(".")
    return payload_text, mac_text


@pytest.mark.parametrize(
    "make",
    [
        lambda p, m: p,
        lambda p, m: p + m,
        lambda p, m: p + "." + m + "." + m,
        lambda p, m: p + "." + m + "=",
        lambda p, m: p + "=." + m,
        lambda p, m: p + ".",
        lambda p, m: "." + m,
        lambda p, m: p[:-1] + "!." + m,
        lambda p, m: p + "." + m[:-4],  # short MAC
        lambda p, m: p + "." + m + "AAAA",  # long MAC
        lambda p, m: p[:-4] + "." + m,  # nonce too short
        lambda p, m: p + "A" * 30 + "." + m,  # nonce too long
        lambda p, m: b64(b"st2" + unb64(p)[3:]) + "." + m,  # unknown version
        lambda p, m: p + "AAA." + m,  # impossible base64 length (61 characters)
        lambda p, m: "x" * 300,
        lambda p, m: p + ".\u00e9" + m,
        lambda p, m: " " + p + "." + m,
    ],
)
def test_malformed(make: object) -> None:
    payload_text, mac_text = _valid_parts()
    token = make(payload_text, mac_text)  # type: ignore[operator]
    assert tokens().redeem(token, CALL, T0) is TokenCheck.MALFORMED


def test_a_non_string_token_is_malformed() -> None:
    assert tokens().redeem(12, CALL, T0) is TokenCheck.MALFORMED  # type: ignore[arg-type]


def test_bad_signature_from_another_secret() -> None:
    other = StreamTokens(b"another secret of enough bytes!!")
    token = other.issue(CALL, T0, NONCE)
    assert tokens().redeem(token, CALL, T0) is TokenCheck.BAD_SIGNATURE


def test_bad_signature_when_the_payload_is_changed() -> None:
    payload_text, mac_text = _valid_parts()
    payload = unb64(payload_text)
    later = payload[:3] + (10**10).to_bytes(8, "big") + payload[11:]
    assert tokens().redeem(b64(later) + "." + mac_text, CALL, T0) is TokenCheck.BAD_SIGNATURE
    # Moving the token to another call by swapping in that call's digest needs the secret too.
    other_digest = hashlib.sha256(b"CAother").digest()[:16]
    moved = payload[:11] + other_digest + payload[27:]
    assert tokens().redeem(b64(moved) + "." + mac_text, "CAother", T0) is (TokenCheck.BAD_SIGNATURE)


def test_bad_signature_when_the_mac_is_changed() -> None:
    payload_text, mac_text = _valid_parts()
    mac = bytearray(unb64(mac_text))
    mac[0] ^= 1
    assert tokens().redeem(payload_text + "." + b64(bytes(mac)), CALL, T0) is (
        TokenCheck.BAD_SIGNATURE
    )


def test_wrong_call() -> None:
    store = tokens()
    token = store.issue(CALL, T0, NONCE)
    assert store.redeem(token, "CAsomeoneelse", T0) is TokenCheck.WRONG_CALL
    # A refused redemption does not use the token up.
    assert store.redeem(token, CALL, T0) is TokenCheck.VALID


def test_expiry_boundary() -> None:
    store = tokens(ttl_s=60)
    token = store.issue(CALL, 1000.9, NONCE)  # expires at int(1060.9) = 1060
    assert store.redeem(token, CALL, 1060.0) is TokenCheck.EXPIRED
    assert store.redeem(token, CALL, 1059.999) is TokenCheck.VALID
    assert store.redeem(token, CALL, 1059.999) is TokenCheck.REUSED
    assert store.redeem(token, CALL, 1060.0) is TokenCheck.EXPIRED


def test_check_order_signature_before_call_before_expiry_before_reuse() -> None:
    store = tokens(ttl_s=10)
    token = store.issue(CALL, T0, NONCE)
    assert store.redeem(token, CALL, T0) is TokenCheck.VALID
    assert store.redeem(token, "CAother", T0 + 100) is TokenCheck.WRONG_CALL
    assert store.redeem(token, CALL, T0 + 100) is TokenCheck.EXPIRED
    assert StreamTokens(b"x" * 16).redeem(token, "CAother", T0 + 100) is TokenCheck.BAD_SIGNATURE


def test_used_tokens_are_forgotten_once_expired() -> None:
    store = tokens(ttl_s=10)
    first = store.issue(CALL, 100.0, bytes(16))
    second = store.issue(CALL, 105.0, bytes([1]) * 16)
    assert store.redeem(second, CALL, 106.0) is TokenCheck.VALID
    assert store.redeem(first, CALL, 106.0) is TokenCheck.VALID
    assert store.redeemed_count == 2
    assert store.redeem(None, CALL, 110.0) is TokenCheck.MISSING  # any redeem prunes
    assert store.redeemed_count == 1
    assert store.redeem(first, CALL, 110.0) is TokenCheck.EXPIRED
    assert store.redeem(second, CALL, 114.9) is TokenCheck.REUSED
    assert store.redeem(second, CALL, 115.0) is TokenCheck.EXPIRED
    assert store.redeemed_count == 0


def test_overloaded_rather_than_forgetting_a_used_token() -> None:
    store = tokens(ttl_s=10, max_redeemed=2)
    issued = [store.issue(CALL, 100.0, bytes([i]) * 16) for i in range(3)]
    assert store.redeem(issued[0], CALL, 100.0) is TokenCheck.VALID
    assert store.redeem(issued[1], CALL, 100.0) is TokenCheck.VALID
    assert store.redeem(issued[2], CALL, 100.0) is TokenCheck.OVERLOADED
    assert store.redeem(issued[0], CALL, 100.0) is TokenCheck.REUSED  # still remembered
    fresh = store.issue(CALL, 109.0, bytes([9]) * 16)
    assert store.redeem(fresh, CALL, 110.0) is TokenCheck.VALID  # the first two expired


def test_two_tokens_of_one_call_are_distinct_and_each_single_use() -> None:
    store = tokens()
    a = store.issue(CALL, T0, bytes(16))
    b = store.issue(CALL, T0, bytes([1]) * 16)
    assert a != b
    assert store.redeem(a, CALL, T0) is TokenCheck.VALID
    assert store.redeem(b, CALL, T0) is TokenCheck.VALID
    assert store.redeem(a, CALL, T0) is TokenCheck.REUSED


def test_another_base64_spelling_of_a_used_token_is_still_reused() -> None:
    store = tokens()
    token = store.issue(CALL, T0, NONCE)
    payload_text, mac_text = token.split(".")
    # 43 bytes encode to 58 characters whose last one carries 4 unused bits: flip one of them.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin_char = alphabet[alphabet.index(payload_text[-1]) ^ 1]
    twin = payload_text[:-1] + twin_char + "." + mac_text
    assert twin != token
    assert store.redeem(token, CALL, T0) is TokenCheck.VALID
    assert store.redeem(twin, CALL, T0) is TokenCheck.REUSED


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"secret": b"short"}, "at least 16 bytes"),
        ({"secret": SECRET, "ttl_s": 0}, "ttl_s"),
        ({"secret": SECRET, "max_redeemed": 0}, "max_redeemed"),
    ],
)
def test_construction_refusals(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        StreamTokens(**kwargs)  # type: ignore[arg-type]
    assert "short" not in str(caught.value)


@pytest.mark.parametrize(
    ("call_id", "nonce", "now_s", "message"),
    [
        ("", NONCE, T0, "call id"),
        (CALL, bytes(15), T0, "nonce"),
        (CALL, bytes(33), T0, "nonce"),
        (CALL, NONCE, -1000.0, "epoch"),
    ],
)
def test_issue_refusals(call_id: str, nonce: bytes, now_s: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tokens().issue(call_id, now_s, nonce)


def test_the_secret_and_tokens_stay_out_of_reprs_and_errors() -> None:
    store = tokens()
    token = store.issue(CALL, T0, NONCE)
    store.redeem(token, CALL, T0)
    texts = [repr(store), str(store)]
    for bad in [(CALL, T0, bytes(3)), ("", T0, NONCE)]:
        with pytest.raises(ValueError, match=r"nonce|call id") as caught:
            store.issue(*bad)
        texts += [str(caught.value), repr(caught.value)]
    texts += [repr(check) for check in TokenCheck]
    for text in texts:
        assert SECRET.decode() not in text
        assert token not in text
        assert token.split(".")[1] not in text
    assert repr(store) == "StreamTokens(ttl_s=60.0, redeemed=1)"


@given(
    st.text(min_size=1, max_size=60),
    st.text(min_size=1, max_size=60),
    st.binary(min_size=16, max_size=32),
    st.binary(min_size=16, max_size=64),
)
def test_tokens_do_not_cross_calls_or_secrets(
    call_id: str, other_call: str, nonce: bytes, other_secret: bytes
) -> None:
    store = tokens()
    token = store.issue(call_id, T0, nonce)
    if other_call != call_id:
        assert store.redeem(token, other_call, T0) is TokenCheck.WRONG_CALL
    if other_secret != SECRET:
        assert StreamTokens(other_secret).redeem(token, call_id, T0) is TokenCheck.BAD_SIGNATURE
    assert store.redeem(token, call_id, T0) is TokenCheck.VALID


@given(st.text(max_size=250))
def test_redeem_never_raises(token: str) -> None:
    assert isinstance(tokens().redeem(token, CALL, T0), TokenCheck)


# ------------------------------------------------------------------------- agent profiles


def test_a_token_carries_its_profile_back() -> None:
    store = tokens()
    token = store.issue(CALL, T0, NONCE, profile="sales-east")
    assert len(token) < 200
    assert store.redeem_profile(token, CALL, T0 + 1) == (TokenCheck.VALID, "sales-east")
    assert store.redeem_profile(token, CALL, T0 + 1) == (TokenCheck.REUSED, "")


def test_a_token_without_a_profile_redeems_with_an_empty_name() -> None:
    store = tokens()
    assert store.redeem_profile(store.issue(CALL, T0, NONCE), CALL, T0) == (TokenCheck.VALID, "")


def test_the_longest_profile_and_nonce_fit() -> None:
    store = tokens()
    token = store.issue(CALL, T0, bytes(32), profile="p" * 32)
    assert store.redeem_profile(token, CALL, T0) == (TokenCheck.VALID, "p" * 32)
    with pytest.raises(ValueError, match="at most 32"):
        store.issue(CALL, T0, NONCE, profile="p" * 33)
    with pytest.raises(UnicodeEncodeError):
        store.issue(CALL, T0, NONCE, profile="vérité")


def test_the_profile_is_signed() -> None:
    store = tokens()
    payload_text, mac_text = store.issue(CALL, T0, NONCE, profile="sales").split(".")
    payload = unb64(payload_text)
    forged = payload.replace(b"sales", b"admin")
    assert store.redeem(b64(forged) + "." + mac_text, CALL, T0) is TokenCheck.BAD_SIGNATURE


@pytest.mark.parametrize("length", [0, 33, 200])
def test_a_bad_profile_length_is_malformed(length: int) -> None:
    header = b"st2" + int(T0 + 60).to_bytes(8, "big") + hashlib.sha256(CALL.encode()).digest()[:16]
    payload = header + bytes([length]) + b"x" * min(length, 40) + NONCE
    mac = hmac.new(SECRET, payload, hashlib.sha256).digest()
    token = b64(payload) + "." + b64(mac)
    assert tokens().redeem_profile(token, CALL, T0) == (TokenCheck.MALFORMED, "")
