"""CallUsage: one call's usageMetadata messages, summed per kind and per modality."""

from __future__ import annotations

import json

from gateway.core.usage import MAX_TOKENS, CallUsage
from gateway.live.events import UsageMetadata


def _turn(prompt_audio: int, prompt_text: int, response_audio: int) -> UsageMetadata:
    prompt = prompt_audio + prompt_text
    return UsageMetadata(
        prompt_token_count=prompt,
        response_token_count=response_audio,
        total_token_count=prompt + response_audio,
        prompt_tokens_by_modality={"AUDIO": prompt_audio, "TEXT": prompt_text},
        response_tokens_by_modality={"AUDIO": response_audio},
    )


def test_an_empty_call() -> None:
    assert CallUsage().summary() == {
        "messages": 0,
        "rejected": 0,
        "prompt_tokens": 0,
        "cached_tokens": 0,
        "response_tokens": 0,
        "tool_use_prompt_tokens": 0,
        "thoughts_tokens": 0,
        "total_tokens": 0,
        "prompt_by_modality": {},
        "response_by_modality": {},
        "cached_by_modality": {},
        "tool_use_prompt_by_modality": {},
    }


def test_messages_of_every_session_are_summed_per_kind_and_modality() -> None:
    usage = CallUsage()
    usage.add(_turn(100, 30, 40))
    usage.add(_turn(20, 0, 60))  # a later session of the same call
    usage.add(
        UsageMetadata(
            prompt_token_count=50,
            cached_content_token_count=20,
            response_token_count=5,
            tool_use_prompt_token_count=7,
            thoughts_token_count=3,
            total_token_count=65,
            prompt_tokens_by_modality={"TEXT": 50},
            response_tokens_by_modality={"TEXT": 5},
            cached_tokens_by_modality={"TEXT": 20},
            tool_use_prompt_tokens_by_modality={"TEXT": 7},
        )
    )
    summary = usage.summary()
    assert summary == {
        "messages": 3,
        "rejected": 0,
        "prompt_tokens": 200,
        "cached_tokens": 20,
        "response_tokens": 105,
        "tool_use_prompt_tokens": 7,
        "thoughts_tokens": 3,
        "total_tokens": 315,
        "prompt_by_modality": {"audio": 120, "text": 80},
        "response_by_modality": {"audio": 100, "text": 5},
        "cached_by_modality": {"text": 20},
        "tool_use_prompt_by_modality": {"text": 7},
    }
    json.dumps(summary)
    assert usage.tokens("thoughts") == 3
    assert usage.by_modality("prompt") == {"audio": 120, "text": 80}


def test_tokens_a_breakdown_does_not_cover_are_unspecified() -> None:
    usage = CallUsage()
    usage.add(UsageMetadata(prompt_token_count=10, response_token_count=4, total_token_count=14))
    usage.add(
        UsageMetadata(
            prompt_token_count=12,
            cached_content_token_count=5,
            prompt_tokens_by_modality={"AUDIO": 9},
        )
    )
    summary = usage.summary()
    assert summary["prompt_by_modality"] == {"audio": 9, "unspecified": 13}
    assert summary["response_by_modality"] == {"unspecified": 4}
    assert summary["cached_by_modality"] == {"unspecified": 5}


def test_absurd_messages_are_rejected_whole() -> None:
    usage = CallUsage()
    usage.add(_turn(10, 0, 10))
    usage.add(UsageMetadata(prompt_token_count=-1, response_token_count=5))
    usage.add(UsageMetadata(total_token_count=MAX_TOKENS + 1))
    usage.add(UsageMetadata(prompt_token_count=5, prompt_tokens_by_modality={"AUDIO": -5}))
    usage.add(UsageMetadata(total_token_count=MAX_TOKENS))  # large, but possible
    summary = usage.summary()
    assert (summary["messages"], summary["rejected"]) == (2, 3)
    assert (summary["prompt_tokens"], summary["response_tokens"]) == (10, 10)
    assert summary["total_tokens"] == 20 + MAX_TOKENS


def test_modality_names_are_lower_case_and_bounded() -> None:
    usage = CallUsage()
    names = {f"M{k}": 1 for k in range(12)}
    usage.add(UsageMetadata(prompt_token_count=12, prompt_tokens_by_modality=names))
    by_modality = usage.summary()["prompt_by_modality"]
    assert len(by_modality) == 9
    assert by_modality["m0"] == 1
    assert by_modality["other"] == 4
    assert sum(by_modality.values()) == 12
