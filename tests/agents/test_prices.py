"""The price table: loading and checking the TOML file, and estimating a call's cost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.agents.prices import PricesFileError, PriceTable, base_model_name, load_prices

ROOT = Path(__file__).resolve().parents[2]
MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"
TABLE = f"""
currency = "USD"

[models."{MODEL}"]
prompt_audio = 3.00
prompt_text = 0.50
response_audio = 12.00
response_text = 2.00
cached_text = 0.125

[models."models/gemini-3.1-flash-live-preview"]
prompt_audio = 1
"""

USAGE: dict[str, Any] = {
    "messages": 4,
    "prompt_tokens": 150_000,
    "cached_tokens": 10_000,
    "response_tokens": 42_000,
    "tool_use_prompt_tokens": 1_000,
    "thoughts_tokens": 500,
    "total_tokens": 193_500,
    "prompt_by_modality": {"audio": 120_000, "text": 30_000},
    "response_by_modality": {"audio": 40_000, "text": 2_000},
    "cached_by_modality": {"text": 10_000},
    "tool_use_prompt_by_modality": {"text": 1_000},
}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.toml"
    path.write_text(text)
    return path


@pytest.fixture
def table(tmp_path: Path) -> PriceTable:
    return load_prices(_write(tmp_path, TABLE))


def test_a_known_usage_costs_an_exact_amount(table: PriceTable) -> None:
    # audio in 120k x 3 + cached text 10k x 0.125 + other text in 20k x 0.5 + audio out 40k x 12
    # + text out 2k x 2 + thoughts 500 x 2 (response text) + tool use 1k x 0.5 (prompt text)
    assert table.estimate(MODEL, USAGE) == {
        "currency": "USD",
        "amount": 0.85675,
        "model": MODEL,
        "unpriced_tokens": 0,
    }


def test_the_model_is_matched_on_its_base_name(table: PriceTable) -> None:
    vertex = f"projects/p/locations/us-central1/publishers/google/models/{MODEL}"
    for spelling in (f"models/{MODEL}", vertex):
        estimate = table.estimate(spelling, USAGE)
        assert estimate is not None
        assert (estimate["model"], estimate["amount"]) == (MODEL, 0.85675)
    usage = {"prompt_tokens": 2, "prompt_by_modality": {"audio": 2}}
    assert table.estimate("gemini-3.1-flash-live-preview", usage) == {
        "currency": "USD",
        "amount": 0.000002,
        "model": "gemini-3.1-flash-live-preview",
        "unpriced_tokens": 0,
    }
    assert table.estimate("gemini-2.0-flash-live-001", USAGE) is None
    assert base_model_name("models/x/") == "x"


def test_tokens_without_a_price_are_counted_not_guessed(table: PriceTable) -> None:
    usage = {
        "prompt_tokens": 1_064,  # 64 image tokens have no price; 1000 are not broken down
        "prompt_by_modality": {"image": 64},
        "response_tokens": 10,
        "cached_tokens": 7,  # cached audio without a cached price: charged as prompt audio
        "cached_by_modality": {"audio": 7},
        "thoughts_tokens": "many",  # not a count: ignored
    }
    assert table.estimate(MODEL, usage) == {
        "currency": "USD",
        "amount": 0.0,
        "model": MODEL,
        "unpriced_tokens": 1_074,
    }
    usage = {"prompt_tokens": 7, "prompt_by_modality": {"text": 7}, "cached_tokens": 0}
    estimate = table.estimate(MODEL, usage)  # 3.5e-6 rounds to 6 decimals
    assert estimate is not None
    assert estimate["amount"] == 0.000004
    assert table.estimate(MODEL, {}) == {
        "currency": "USD",
        "amount": 0.0,
        "model": MODEL,
        "unpriced_tokens": 0,
    }


def test_cached_tokens_are_charged_at_the_cached_price_where_set(table: PriceTable) -> None:
    usage = {
        "prompt_tokens": 1_000_000,
        "cached_tokens": 400_000,
        "prompt_by_modality": {"text": 1_000_000},
        "cached_by_modality": {"text": 400_000},
    }
    estimate = table.estimate(MODEL, usage)
    assert estimate is not None
    assert estimate["amount"] == 0.35  # 600k x 0.50 + 400k x 0.125, per million


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("currency = ", r"prices\.toml: not valid TOML: "),
        ('[models."m"]\nprompt_text = 1', r"prices\.toml: currency: missing"),
        ('currency = 5\n[models."m"]\nprompt_text = 1', r"prices\.toml: currency: must be a short"),
        ('currency = "USD"', r"prices\.toml: models: missing"),
        ('currency = "USD"\nmodels = 3', r"prices\.toml: models: must be tables"),
        ('currency = "USD"\nmodels = { m = 3 }', r'prices\.toml: models\."m": must be a table'),
        ('currency = "USD"\n[models."m"]', r'prices\.toml: models\."m": no prices'),
        (
            'currency = "USD"\ncurrancy = "EUR"\n[models."m"]\nprompt_text = 1',
            r"prices\.toml: currancy: unknown key \(expected currency, models\)",
        ),
        (
            'currency = "USD"\n[models."m"]\nprompt_txt = 1',
            r'prices\.toml: models\."m"\.prompt_txt: unknown key \(expected prompt_audio, ',
        ),
        (
            'currency = "USD"\n[models."m"]\nprompt_text = -0.5',
            r'prices\.toml: models\."m"\.prompt_text: must not be negative \(got -0\.5\)',
        ),
        (
            'currency = "USD"\n[models."m"]\nprompt_text = "0.5"',
            r"prices\.toml: models\.\"m\"\.prompt_text: must be a number, per million tokens "
            r"\(got '0\.5'\)",
        ),
        (
            'currency = "USD"\n[models."m"]\nprompt_text = true',
            r'prices\.toml: models\."m"\.prompt_text: must be a number',
        ),
        (
            'currency = "USD"\n[models."m"]\nprompt_text = inf',
            r'prices\.toml: models\."m"\.prompt_text: must be a finite number',
        ),
        (
            'currency = "USD"\n[models.gemini-2.5-flash]\nprompt_text = 1',
            r'prices\.toml: models\."gemini-2"\.5-flash: a table, not a price \(quote model names',
        ),
        (
            'currency = "USD"\n[models."models/m"]\nprompt_text = 1\n[models."m"]\nprompt_text = 2',
            r'prices\.toml: models\."m": the model "m" has prices already',
        ),
    ],
)
def test_every_mistake_is_refused_by_file_model_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(PricesFileError, match=message):
        load_prices(_write(tmp_path, text))


def test_all_mistakes_are_reported_at_once(tmp_path: Path) -> None:
    text = '[models."a"]\nprompt_text = -1\nresponse_text = "x"\n[models."b"]\nfoo = 1\n'
    with pytest.raises(PricesFileError) as caught:
        load_prices(_write(tmp_path, text))
    path = tmp_path / "prices.toml"
    assert caught.value.problems == (
        f'{path}: currency: missing (e.g. currency = "USD")',
        f'{path}: models."a".prompt_text: must not be negative (got -1)',
        f"{path}: models.\"a\".response_text: must be a number, per million tokens (got 'x')",
        f'{path}: models."b".foo: unknown key (expected prompt_audio, prompt_text, prompt_image, '
        "prompt_video, prompt_document, cached_audio, cached_text, cached_image, cached_video, "
        "cached_document, response_audio, response_text, response_image, response_video, "
        "response_document)",
    )
    assert str(caught.value) == "\n".join(caught.value.problems)
    assert isinstance(caught.value, ValueError)


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PricesFileError, match=r"missing\.toml: cannot read: "):
        load_prices(tmp_path / "missing.toml")


def test_the_documented_example_loads() -> None:
    table = load_prices(ROOT / "docs" / "examples" / "prices.toml")
    assert table.currency == "USD"
    assert table.estimate(f"models/{MODEL}", USAGE) == {
        "currency": "USD",
        "amount": 0.8605,  # as above, with cached text at the prompt text price
        "model": MODEL,
        "unpriced_tokens": 0,
    }
