from __future__ import annotations

from collections import Counter

import pytest

from gateway.outbound.campaign import (
    CampaignRow,
    outcome_of,
    parse_rate,
    parse_variables,
    progress_bar,
    read_rows,
)


@pytest.mark.parametrize(("text", "rate"), [("1/s", 1.0), ("30/m", 0.5), ("3600/h", 1.0)])
def test_rates(text: str, rate: float) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["1", "0/s", "fast", "1000/s"])
def test_bad_rates(text: str) -> None:
    with pytest.raises(ValueError, match="rate"):
        parse_rate(text)


def test_variables() -> None:
    assert parse_variables(["customer_name=Ada", "note=a=b"]) == {
        "customer_name": "Ada",
        "note": "a=b",
    }
    with pytest.raises(ValueError, match="name=value"):
        parse_variables(["oops"])


def test_rows_take_columns_as_fields_or_variables() -> None:
    text = "to,profile,customer_name\n+15550104201,,Ada\n+15550104202,sales,Grace\n"
    rows = read_rows(
        text, {"from": "+15550100000", "profile": "reminders", "variables": {"a": "1"}}
    )
    assert rows == [
        CampaignRow(
            2,
            {
                "from": "+15550100000",
                "profile": "reminders",
                "to": "+15550104201",
                "variables": {"a": "1", "customer_name": "Ada"},
            },
        ),
        CampaignRow(
            3,
            {
                "from": "+15550100000",
                "profile": "sales",
                "to": "+15550104202",
                "variables": {"a": "1", "customer_name": "Grace"},
            },
        ),
    ]
    with pytest.raises(ValueError, match="`to` column"):
        read_rows("number\n+1\n", {})


def test_outcomes() -> None:
    assert outcome_of({"end_reason": "completed", "answered_by": None}) == "person"
    assert outcome_of({"end_reason": "completed", "answered_by": "person"}) == "person"
    assert outcome_of({"end_reason": "voicemail_left", "answered_by": "machine"}) == "machine"
    assert outcome_of({"end_reason": "machine_hung_up", "answered_by": "machine"}) == "machine"
    assert outcome_of({"end_reason": "no_answer"}) == "no answer"
    assert outcome_of({"end_reason": "busy"}) == "busy"
    assert outcome_of({"end_reason": "failed"}) == "failed"
    assert outcome_of(None) == "failed"
    assert outcome_of({"end_reason": "completed"}, refused=True) == "failed"
    assert sum(Counter({"person": 2}).values()) == 2


def test_progress_bar() -> None:
    assert progress_bar(1, 4, width=8) == "[##......] 1/4"
    assert progress_bar(0, 0, width=4) == "[####] 0/0"
