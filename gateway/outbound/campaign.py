"""`gateway dial`'s pure parts: the rate, the rows of a list, the progress bar, the summary.

A campaign is a list of dial-outs (`--csv`: one row per call; the `to` column is the number,
`from`, `profile`, `carrier` and `machine_detection` columns override the command's options,
every other column is a variable), placed at most `rate` per second (`1/s`, `5/s`, `30/m`)
through the gateway's own API, then followed until each has ended.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "OUTCOMES",
    "CampaignRow",
    "outcome_of",
    "parse_rate",
    "parse_variables",
    "progress_bar",
    "read_rows",
    "summary_table",
]

_RATE: Final = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*/\s*(s|m|min|h)")
_PER_S: Final = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_FIELDS: Final = ("to", "from", "profile", "carrier", "machine_detection")
OUTCOMES: Final = ("person", "machine", "no answer", "busy", "failed", "other")
"""The summary table's rows, in order."""


def parse_rate(text: str) -> float:
    """Calls per second from `1/s`, `30/m`, `100/h`; ValueError otherwise."""
    match = _RATE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"a rate is N/s, N/m or N/h, not {text!r}")
    rate = float(match.group(1)) / _PER_S[match.group(2)]
    if not 0 < rate <= 100:
        raise ValueError("the rate must be above 0 and at most 100 calls per second")
    return rate


def parse_variables(pairs: Iterable[str]) -> dict[str, str]:
    """`--var name=value` pairs; ValueError for one without `=`."""
    variables: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--var takes name=value, not {pair!r}")
        variables[name.strip()] = value
    return variables


@dataclass(frozen=True)
class CampaignRow:
    line: int
    """The row's line in the file (1: the header), for messages."""
    body: Mapping[str, Any] = field(default_factory=dict)
    """The `POST /calls` body."""


def read_rows(text: str, defaults: Mapping[str, Any]) -> list[CampaignRow]:
    """The CSV's rows as request bodies over `defaults`; ValueError without a `to` column."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "to" not in reader.fieldnames:
        raise ValueError("the CSV needs a header row with a `to` column")
    rows: list[CampaignRow] = []
    for number, row in enumerate(reader, start=2):
        body: dict[str, Any] = dict(defaults)
        variables = dict(body.get("variables") or {})
        for name, value in row.items():
            if name is None or value is None:
                continue
            if name in _FIELDS:
                if value.strip():
                    body[name] = value.strip()
            else:
                variables[name] = value
        body["variables"] = variables
        rows.append(CampaignRow(number, body))
    return rows


def outcome_of(status: Mapping[str, Any] | None, refused: bool = False) -> str:
    """A finished dial-out's row in the summary table."""
    if refused or status is None:
        return "failed"
    reason = status.get("end_reason")
    who = status.get("answered_by")
    if reason in ("no_answer", "canceled"):
        return "no answer"
    if reason == "busy":
        return "busy"
    if reason == "failed":
        return "failed"
    if who == "machine" or reason in ("voicemail_left", "machine_hung_up"):
        return "machine"
    if reason == "completed":
        return "person"
    return "other"


def progress_bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // total if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


def summary_table(outcomes: Counter[str]) -> str:
    """The campaign's outcomes, one row each, and the total."""
    total = sum(outcomes.values())
    lines = ["outcome     calls", "----------  -----"]
    lines += [f"{name:<10}  {outcomes.get(name, 0):>5}" for name in OUTCOMES]
    lines += ["----------  -----", f"{'total':<10}  {total:>5}"]
    return "\n".join(lines)
