"""Responses over the size limit are cut structurally and stay valid JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.tools.results import encoded_size, json_value, limit_response


def test_a_response_within_the_limit_is_unchanged() -> None:
    response = {"output": {"status": "shipped", "items": [1, 2, 3]}}
    assert limit_response(response, encoded_size(response)) == (response, False)


def test_a_long_list_keeps_its_first_items_and_says_how_many_were_dropped() -> None:
    items = [{"n": i, "name": f"item number {i}"} for i in range(1000)]
    response = {"output": {"count": 1000, "items": items}}
    cut, truncated = limit_response(response, 1024)
    assert truncated
    assert encoded_size(cut) <= 1024
    assert cut["truncated"] is True
    assert cut["original_bytes"] == encoded_size(response)
    output = cut["output"]
    assert output["count"] == 1000
    kept = output["items"][:-1]
    assert kept == items[: len(kept)]
    assert len(kept) > 10
    assert output["items"][-1] == f"… {1000 - len(kept)} more items"


def test_a_long_text_is_shortened_with_an_ellipsis() -> None:
    text = "é" * 5000  # two bytes each in UTF-8
    cut, truncated = limit_response({"output": text}, 512)
    assert truncated
    assert encoded_size(cut) <= 512
    assert cut["output"].endswith("…")
    assert set(cut["output"][:-1]) == {"é"}
    assert len(cut["output"]) > 100


def test_text_that_json_escapes_heavily_still_fits() -> None:
    text = '"\\' * 3000 + "\x01" * 1000
    cut, _ = limit_response({"output": text}, 400)
    assert encoded_size(cut) <= 400
    assert text.startswith(cut["output"][:-1])


def test_an_error_keeps_its_message_before_its_detail() -> None:
    response = {"error": "the backend answered HTTP 500", "detail": "x" * 10_000}
    cut, truncated = limit_response(response, 300)
    assert truncated
    assert cut["error"] == "the backend answered HTTP 500"
    assert cut["detail"].startswith("xxx")
    assert encoded_size(cut) <= 300


def test_json_value_refuses_what_is_not_json() -> None:
    assert json_value((1, "a", {"b": None})) == [1, "a", {"b": None}]
    with pytest.raises(TypeError):
        json_value({1, 2})
    with pytest.raises(ValueError, match="Out of range float"):
        json_value(float("nan"))


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=200),
    lambda inner: st.lists(inner, max_size=30) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=200,
)


@settings(max_examples=100, deadline=None)
@given(value=_json, limit=st.integers(min_value=256, max_value=4096))
def test_any_response_fits_its_limit_and_stays_json(value: Any, limit: int) -> None:
    cut, truncated = limit_response({"output": value}, limit)
    assert encoded_size(cut) <= limit
    assert json.loads(json.dumps(cut)) == cut
    assert truncated == (encoded_size({"output": value}) > limit)
    if truncated:
        assert "output" in cut
