"""Metrics: one registry per app, a finished call's figures, runtime state at scrape, routes."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from gateway.settings import load_settings
from gateway.shell.app import build_app
from gateway.shell.connector import LiveConnector
from gateway.shell.latency import LatencySamples
from gateway.shell.metrics import BulkHistogram, GatewayMetrics, label_value
from gateway.shell.runtime import CallRecord, GatewayRuntime

ENV = {"GATEWAY_LIVE_URL": "ws://127.0.0.1:1/live", "GATEWAY_SECRET": "m" * 32}


def _runtime(**env: str) -> GatewayRuntime:
    settings = load_settings({**ENV, **env}, env_file=None)
    return GatewayRuntime(settings, LiveConnector.from_settings(settings))


def _samples(metrics: GatewayMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition: (name, sorted labels) -> value."""
    text = metrics.exposition().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _latency(values_ms: list[float]) -> LatencySamples:
    samples = LatencySamples()
    for value in values_ms:
        samples.add(value)
    return samples


SUMMARY: dict[str, Any] = {
    "end_reason": "carrier stop",
    "duration_ms": 42_000.0,
    "interruptions": 2,
    "turns": 5,
    "live_queue_dropped": 3,
    "live_queue_dropped_ms": 60.0,
    "reconnect_buffer_dropped_ms": 1_500.0,
    "model_audio_dropped_ms": 2_500.0,
    "held_dropped_ms": 400.0,
    "caller_dropped_ms": 0.0,
    "connect_buffer_dropped_ms": 20.0,
    "handovers": [
        {"reason": "go_away", "gap_ms": 180.0, "handle_age_ms": 900.0, "outcome": "resumed"},
        {"reason": "abrupt close", "gap_ms": 700.0, "handle_age_ms": None, "outcome": "resumed"},
    ],
    "tools": [
        {"name": "lookup_order", "outcome": "ok", "duration_ms": 120.0},
        {"name": "lookup_order", "outcome": "timeout", "duration_ms": 5000.0},
    ],
    "fallback": None,
}


def test_a_finished_call_is_counted_once_per_figure() -> None:
    runtime = _runtime()
    metrics = GatewayMetrics(runtime)
    latency = {
        "uplink": _latency([0.3, 0.4, 3.0, 30.0]),
        "downlink": _latency([1.5]),
        "clear": LatencySamples(),
    }
    runtime.call_ended(CallRecord("twilio", "CA1", SUMMARY, [], latency))
    samples = _samples(metrics)
    assert samples[("gateway_calls_total", (("carrier", "twilio"), ("outcome", "carrier_stop")))]
    assert samples[("gateway_call_duration_seconds_sum", ())] == 42.0
    assert samples[("gateway_barge_ins_total", ())] == 2
    assert samples[("gateway_turns_total", ())] == 5
    handovers = "gateway_live_handovers_total"
    assert samples[(handovers, (("outcome", "resumed"), ("reason", "go_away")))] == 1
    assert samples[(handovers, (("outcome", "resumed"), ("reason", "abrupt_close")))] == 1
    assert samples[("gateway_live_handover_gap_seconds_count", ())] == 2
    assert samples[("gateway_tool_calls_total", (("outcome", "ok"), ("tool", "lookup_order")))]
    tool_count = ("gateway_tool_call_duration_seconds_count", (("tool", "lookup_order"),))
    assert samples[tool_count] == 2
    assert samples[("gateway_frames_dropped_total", (("where", "live_queue"),))] == 3
    assert samples[("gateway_audio_dropped_seconds_total", (("where", "held"),))] == 0.4
    assert samples[("gateway_audio_dropped_seconds_total", (("where", "live_queue"),))] == 0.06
    reconnect = ("gateway_audio_dropped_seconds_total", (("where", "reconnect_buffer"),))
    assert samples[reconnect] == 1.5
    assert samples[("gateway_audio_dropped_seconds_total", (("where", "model"),))] == 2.5
    # Added latency, bucketed at call end: 0.3 and 0.4 ms <= 0.5 ms; 3 ms <= 5 ms; 30 ms > 20.
    uplink = (("direction", "uplink"),)
    bucket = "gateway_added_latency_seconds_bucket"
    assert samples[(bucket, (("direction", "uplink"), ("le", "0.0005")))] == 2
    assert samples[(bucket, (("direction", "uplink"), ("le", "0.005")))] == 3
    assert samples[(bucket, (("direction", "uplink"), ("le", "0.02")))] == 3
    assert samples[(bucket, (("direction", "uplink"), ("le", "+Inf")))] == 4
    assert samples[("gateway_added_latency_seconds_count", uplink)] == 4
    assert abs(samples[("gateway_added_latency_seconds_sum", uplink)] - 0.0337) < 1e-9
    assert ("gateway_added_latency_seconds_count", (("direction", "clear"),)) not in samples


def test_summaries_without_the_newer_keys_still_count() -> None:
    runtime = _runtime()
    metrics = GatewayMetrics(runtime, standard_collectors=False)
    runtime.call_ended(CallRecord("twilio", "CA1", {"end_reason": None}, []))
    samples = _samples(metrics)
    assert samples[("gateway_calls_total", (("carrier", "twilio"), ("outcome", "unknown")))] == 1
    assert ("gateway_live_handover_gap_seconds_count", ()) in samples
    assert samples[("gateway_live_handover_gap_seconds_count", ())] == 0


USAGE: dict[str, Any] = {
    "messages": 3,
    "rejected": 0,
    "prompt_tokens": 200,
    "cached_tokens": 20,
    "response_tokens": 110,
    "tool_use_prompt_tokens": 7,
    "thoughts_tokens": 3,
    "total_tokens": 320,
    "prompt_by_modality": {"audio": 120, "text": 80},
    "response_by_modality": {"audio": 100, "text": 5},  # 5 tokens not broken down
    "cached_by_modality": {"text": 20},
    "tool_use_prompt_by_modality": {},  # none broken down
}


def _usage_samples(metrics: GatewayMetrics) -> dict[tuple[str, ...], float]:
    """(name, profile, kind or currency[, modality]) -> value, for the per-profile metrics."""
    return {
        (name, *(value for _, value in labels)): value
        for (name, labels), value in _samples(metrics).items()
        if name.startswith(("gateway_live_tokens", "gateway_call_cost", "gateway_calls_by"))
        and not name.endswith("_created")
    }


def test_tokens_and_cost_are_counted_per_profile() -> None:
    runtime = _runtime()
    metrics = GatewayMetrics(runtime, standard_collectors=False)
    cost = {"currency": "USD", "amount": 0.25, "model": "m", "unpriced_tokens": 0}
    sales = {"end_reason": "carrier stop", "usage": USAGE, "cost": cost}
    runtime.call_ended(CallRecord("twilio", "CA1", sales, [], profile="sales"))
    runtime.call_ended(CallRecord("twilio", "CA2", sales, [], profile="sales"))
    support = {"usage": {"prompt_tokens": 9, "prompt_by_modality": {"audio": 9}}}
    runtime.call_ended(CallRecord("telnyx", "CA3", support, [], profile="Support Desk"))
    runtime.call_ended(CallRecord("twilio", "CA4", {"end_reason": "no start"}, []))
    tokens = "gateway_live_tokens_total"
    assert _usage_samples(metrics) == {
        ("gateway_calls_by_profile_total", "sales"): 2,
        ("gateway_calls_by_profile_total", "support_desk"): 1,
        ("gateway_calls_by_profile_total", "default"): 1,
        (tokens, "prompt", "audio", "sales"): 240,
        (tokens, "prompt", "text", "sales"): 160,
        (tokens, "response", "audio", "sales"): 200,
        (tokens, "response", "text", "sales"): 10,
        (tokens, "response", "unspecified", "sales"): 10,
        (tokens, "cached", "text", "sales"): 40,
        (tokens, "tool_use_prompt", "unspecified", "sales"): 14,
        (tokens, "thoughts", "text", "sales"): 6,
        (tokens, "prompt", "audio", "support_desk"): 9,
        ("gateway_call_cost_total", "USD", "sales"): 0.5,
    }


def test_odd_usage_and_cost_values_are_skipped() -> None:
    runtime = _runtime()
    metrics = GatewayMetrics(runtime, standard_collectors=False)
    odd = {
        "usage": {"prompt_tokens": -5, "response_tokens": "7", "thoughts_tokens": float("nan")},
        "cost": {"currency": "usd", "amount": -1.0},
    }
    runtime.call_ended(CallRecord("twilio", "CA1", odd, [], profile="p"))
    runtime.call_ended(CallRecord("twilio", "CA2", {"usage": [], "cost": "free"}, [], profile="p"))
    eur = {"cost": {"currency": "eur", "amount": 0.125}}
    runtime.call_ended(CallRecord("twilio", "CA3", eur, [], profile="p"))
    assert _usage_samples(metrics) == {
        ("gateway_calls_by_profile_total", "p"): 3,
        ("gateway_call_cost_total", "EUR", "p"): 0.125,
    }


def test_runtime_state_is_read_at_scrape_time() -> None:
    runtime = _runtime(GATEWAY_MAX_CALLS="2")
    metrics = GatewayMetrics(runtime, standard_collectors=False)
    runtime.issue_token("CA1")
    runtime.counters.webhook_rejected()
    runtime.counters.webhook_rejected()
    runtime.counters.stream_rejected()
    samples = _samples(metrics)
    assert samples[("gateway_calls_awaiting_stream", ())] == 1
    assert samples[("gateway_active_calls", ())] == 0
    assert samples[("gateway_max_calls", ())] == 2
    assert samples[("gateway_ready", ())] == 1
    assert samples[("gateway_webhooks_rejected_total", ())] == 2
    assert samples[("gateway_streams_rejected_total", ())] == 1
    assert samples[("gateway_live_sessions", ())] == 0
    runtime.issue_token("CA2")
    runtime.admission()
    runtime.draining = True
    runtime.admission()
    samples = _samples(metrics)
    assert samples[("gateway_ready", ())] == 0
    assert samples[("gateway_draining", ())] == 1
    refused = "gateway_webhooks_refused_total"
    assert samples[(refused, (("reason", "at_capacity"),))] == 1
    assert samples[(refused, (("reason", "draining"),))] == 1


def test_event_loop_tasks_are_counted_when_scraped_inside_the_loop() -> None:
    metrics = GatewayMetrics(_runtime(), standard_collectors=False)
    assert ("gateway_event_loop_tasks", ()) not in _samples(metrics)  # no loop here

    async def scrape_with_two_more_tasks() -> tuple[float, float]:
        before = _samples(metrics)[("gateway_event_loop_tasks", ())]
        waiting = [asyncio.create_task(asyncio.sleep(60)) for _ in range(2)]
        during = _samples(metrics)[("gateway_event_loop_tasks", ())]
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        return before, during

    before, during = asyncio.run(scrape_with_two_more_tasks())
    assert before == 1  # the scraping coroutine itself
    assert during == before + 2


def test_two_apps_have_separate_registries() -> None:
    first, second = _runtime(), _runtime()
    metrics = [GatewayMetrics(first), GatewayMetrics(second)]  # no duplicate-series error
    first.call_ended(CallRecord("twilio", "CA1", SUMMARY, []))
    calls = ("gateway_calls_total", (("carrier", "twilio"), ("outcome", "carrier_stop")))
    assert _samples(metrics[0])[calls] == 1
    assert calls not in _samples(metrics[1])


def test_free_text_labels_are_folded_and_capped() -> None:
    runtime = _runtime()
    metrics = GatewayMetrics(runtime, standard_collectors=False)
    for k in range(80):
        runtime.call_ended(CallRecord("twilio", f"CA{k}", {"end_reason": f"Reason #{k}!"}, []))
    outcomes = {
        dict(labels)["outcome"]
        for (name, labels) in _samples(metrics)
        if name == "gateway_calls_total"
    }
    assert "reason_0" in outcomes
    assert "other" in outcomes
    assert len(outcomes) == 51
    assert label_value("Live closed (1011)") == "live_closed_1011"


def test_bulk_histogram_weights_thinned_samples() -> None:
    histogram = BulkHistogram("x_seconds", "x", "direction", (0.001, 0.01))
    histogram.observe_many("up", [0.0005, 0.002, 0.5], weight=2)
    family = histogram.collect()
    values = {(s.name, s.labels.get("le")): s.value for s in family.samples}
    assert values[("x_seconds_bucket", "0.001")] == 2
    assert values[("x_seconds_bucket", "0.01")] == 4
    assert values[("x_seconds_bucket", "+Inf")] == 6
    assert values[("x_seconds_count", None)] == 6


def test_readyz_and_metrics_routes() -> None:
    settings = load_settings({**ENV, "GATEWAY_MAX_CALLS": "1"}, env_file=None)
    app = build_app(settings, LiveConnector.from_settings(settings))
    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        runtime: GatewayRuntime = app.state.gateway
        runtime.issue_token("CA1")
        full = client.get("/readyz")
        assert full.status_code == 503
        assert full.json()["status"] == "at capacity"
        runtime.draining = True
        assert client.get("/readyz").json()["status"] == "draining"
        assert client.get("/healthz").status_code == 200  # alive while draining
        scraped = client.get("/metrics")
        assert scraped.status_code == 200
        assert scraped.headers["content-type"].startswith("text/plain")
        assert "gateway_draining 1.0" in scraped.text
        assert "process_cpu_seconds_total" in scraped.text


def test_the_twilio_webhook_answers_the_fallback_without_token_or_prewarm() -> None:
    env = {
        **ENV,
        "GATEWAY_MAX_CALLS": "1",
        "GATEWAY_FALLBACK_NUMBER": "+15551234567",
        "GATEWAY_UNSIGNED_CARRIERS": "twilio",  # no TWILIO_AUTH_TOKEN here
    }
    settings = load_settings(env, env_file=None)
    app = build_app(settings, LiveConnector.from_settings(settings))
    with TestClient(app) as client:
        runtime: GatewayRuntime = app.state.gateway
        prewarmed: list[str] = []
        runtime.prewarm.start = lambda call_id, *_: prewarmed.append(call_id) or True  # type: ignore[method-assign]
        form = {"CallSid": "CA1", "From": "+15550001111", "To": "+15550002222"}
        first = client.post("/twilio/voice", data=form)
        assert "<Connect>" in first.text
        second = client.post("/twilio/voice", data={**form, "CallSid": "CA2"})
        assert second.status_code == 200
        assert "<Connect>" not in second.text
        assert "<Say>" in second.text
        assert "<Dial><Number>+15551234567</Number></Dial>" in second.text
        assert prewarmed == ["CA1"]
        assert runtime.refused == {"at capacity": 1}
        assert runtime.load == 1  # no token was issued for CA2


def test_no_per_frame_work_in_metrics() -> None:
    """The observer runs once per call: a long call's samples are bucketed in one step."""
    runtime = _runtime()
    metrics = GatewayMetrics(runtime, standard_collectors=False)
    long_call = _latency([0.4] * 100_000)  # beyond the sample store: thinned, weighted
    runtime.call_ended(CallRecord("twilio", "CA1", SUMMARY, [], {"uplink": long_call}))
    count = _samples(metrics)[("gateway_added_latency_seconds_count", (("direction", "uplink"),))]
    assert count == 100_000


def test_handovers_are_counted_from_their_counts_and_gaps_from_the_sample() -> None:
    # A call lists only a sample of its handovers (first and last); the counts are exact.
    runtime = _runtime()
    metrics = GatewayMetrics(runtime, standard_collectors=False)
    summary = {
        **SUMMARY,
        "handovers": [
            {"reason": "go_away", "gap_ms": 20.0, "outcome": "resumed"},
            {"reason": "go_away", "gap_ms": None, "outcome": "failed"},
        ],
        "handovers_total": 501,
        "handover_counts": [
            {"reason": "go_away", "outcome": "resumed", "count": 500},
            {"reason": "go_away", "outcome": "failed", "count": 1},
        ],
        "internal_errors": 2,
    }
    runtime.call_ended(CallRecord("twilio", "CA1", summary, [], {}))
    samples = _samples(metrics)
    handovers = "gateway_live_handovers_total"
    assert samples[(handovers, (("outcome", "resumed"), ("reason", "go_away")))] == 500
    assert samples[(handovers, (("outcome", "failed"), ("reason", "go_away")))] == 1
    assert samples[("gateway_live_handover_gap_seconds_count", ())] == 1
    assert samples[("gateway_call_internal_errors_total", ())] == 2


def test_silence_check_ins_and_hang_ups_are_counted() -> None:
    runtime = _runtime()
    metrics = GatewayMetrics(runtime, standard_collectors=False)
    for prompts, hangups in ((2, 1), (1, 0)):
        summary = {"end_reason": "x", "silence_prompts": prompts, "silence_hangups": hangups}
        metrics.observe(CallRecord("twilio", "CA1", summary, []))
    metrics.observe(CallRecord("twilio", "CA2", {"end_reason": "x"}, []))  # an older summary
    samples = _samples(metrics)
    assert samples[("gateway_call_silence_total", (("step", "prompt"),))] == 3
    assert samples[("gateway_call_silence_total", (("step", "hang_up"),))] == 1
