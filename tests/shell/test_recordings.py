"""Recording files: WAV written as it goes, names per day, transcript JSON, retention sweep."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import stat
import wave
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from structlog.testing import capture_logs

from gateway.shell.recordings import RecordingStore, WavWriter, write_transcript

DAY_S = 86_400.0
# 2024-03-05 14:07:09 UTC
STARTED = datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC).timestamp()


@pytest.fixture
def umask() -> Iterator[int]:
    mask = os.umask(0o022)
    try:
        yield 0o022
    finally:
        os.umask(mask)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- WavWriter ----------------------------------------------------------------------------------


def test_wav_reads_back_exactly(tmp_path: Path) -> None:
    frames = np.arange(-500, 500, dtype="<i2").tobytes()  # 500 stereo frames
    writer = WavWriter(tmp_path / "call.wav", 8_000)
    writer.write(frames[:400])
    writer.write(b"")
    writer.write(frames[400:])
    final = writer.close()
    assert final == tmp_path / "call.wav"
    with wave.open(str(final), "rb") as wav:
        assert wav.getnchannels() == 2
        assert wav.getsampwidth() == 2
        assert wav.getframerate() == 8_000
        assert wav.getnframes() == 500
        assert wav.readframes(1_000) == frames
    assert final.stat().st_size == 44 + len(frames)


def test_mono_wav(tmp_path: Path) -> None:
    writer = WavWriter(tmp_path / "mono.wav", 16_000, channels=1)
    writer.write(b"\x01\x00\x02\x00\x03\x00")
    with wave.open(str(writer.close()), "rb") as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getnframes()) == (1, 16_000, 3)


def test_wav_is_a_part_file_until_closed(tmp_path: Path, umask: int) -> None:
    writer = WavWriter(tmp_path / "day" / "call.wav", 8_000)  # makes the directory if need be
    part = tmp_path / "day" / "call.wav.part"
    assert part.exists()
    assert part.stat().st_size == 44  # the header is written at once
    assert mode(part) == 0o640
    assert not (tmp_path / "day" / "call.wav").exists()
    writer.write(bytes(8))
    writer.close()
    assert not part.exists()
    assert mode(tmp_path / "day" / "call.wav") == 0o640
    assert mode(tmp_path / "day") == 0o750


def test_close_is_idempotent_and_abort_after_close_keeps_the_file(tmp_path: Path) -> None:
    writer = WavWriter(tmp_path / "call.wav", 8_000)
    writer.write(bytes(4))
    first = writer.close()
    size = first.stat().st_size
    assert writer.close() == first
    writer.abort()
    assert first.stat().st_size == size
    with pytest.raises(ValueError, match="closed"):
        writer.write(bytes(4))


def test_abort_removes_the_part_file(tmp_path: Path) -> None:
    writer = WavWriter(tmp_path / "call.wav", 8_000)
    writer.write(bytes(40))
    writer.abort()
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_write_takes_whole_frames_only(tmp_path: Path) -> None:
    writer = WavWriter(tmp_path / "call.wav", 8_000)
    with pytest.raises(ValueError, match="whole"):
        writer.write(bytes(6))
    writer.abort()


# --- transcript -----------------------------------------------------------------------------------


def test_transcript_json_is_written_then_renamed(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "2024-03-05" / "140709-twilio-CA1.json"
    document = {"call_id": "CA1", "turns": [{"role": "caller", "text": "¿Dónde está?"}]}
    write_transcript(path, document)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == document
    assert "¿Dónde está?" in text  # ensure_ascii off
    assert text.startswith('{\n  "call_id"')  # indent 2
    assert mode(path) == 0o640
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_transcript_that_fails_leaves_no_part(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    with pytest.raises(TypeError):
        write_transcript(path, {"bad": object()})
    assert list(tmp_path.iterdir()) == []


def test_a_transcript_with_a_lone_surrogate_is_written_with_a_replacement(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.json"
    write_transcript(path, {"from": "+1555\ud800", "lines": [{"text": "caf\udce9"}]})
    assert json.loads(path.read_bytes().decode("utf-8")) == {
        "from": "+1555\ufffd",
        "lines": [{"text": "caf\ufffd"}],
    }


# --- paths --------------------------------------------------------------------------------------


def test_paths_are_per_utc_day_with_time_carrier_and_call_id(tmp_path: Path, umask: int) -> None:
    store = RecordingStore(tmp_path / "rec", retention_days=None)
    paths = store.paths("twilio", "CA0123abc", STARTED)
    day = tmp_path / "rec" / "2024-03-05"
    digest = hashlib.sha256(b"CA0123abc").hexdigest()[:12]
    assert paths.audio == day / f"140709-twilio-CA0123abc-{digest}.wav"
    assert paths.transcript == day / f"140709-twilio-CA0123abc-{digest}.json"
    assert day.is_dir()
    assert mode(day) == 0o750


@pytest.mark.parametrize(
    "call_id", ["../../etc/passwd", "a/b", "..", "/abs", "x\\y", "a\x00b", "", "é" * 300]
)
def test_a_call_id_cannot_escape_the_directory(tmp_path: Path, call_id: str) -> None:
    store = RecordingStore(tmp_path, retention_days=None)
    paths = store.paths("../twilio", call_id, STARTED)
    for path in (paths.audio, paths.transcript):
        assert path.parent == tmp_path / "2024-03-05"
        assert "/" not in path.name
        assert ".." not in path.name
        assert len(path.name.encode()) < 255
    WavWriter(paths.audio, 8_000).close()
    assert paths.audio.exists()


def test_call_ids_that_differ_only_in_punctuation_get_their_own_files(tmp_path: Path) -> None:
    # Each of these ids is "a_b" once made safe; a long id is cut to its first 120 characters.
    ids = ["a.b", "a/b", "a:b", "a b", "a_b", "x" * 130 + "1", "x" * 130 + "2"]
    store = RecordingStore(tmp_path, retention_days=None)
    paths = [store.paths("twilio", call_id, STARTED) for call_id in ids]
    assert len({p.audio for p in paths}) == len({p.transcript for p in paths}) == len(ids)
    assert paths[0].audio.name.startswith("140709-twilio-a_b-")
    # The same id always gets the same name (so a sweep or a person can find it again).
    assert store.paths("twilio", "a.b", STARTED) == paths[0]
    # Four calls writing at once: four whole files, none truncating another's `.part`.
    writers = [WavWriter(p.audio, 8_000, channels=1) for p in paths[:4]]
    for index, writer in enumerate(writers):
        writer.write(bytes([index + 1, 0]) * 80)
    for writer in writers:
        writer.close()
    for index, p in enumerate(paths[:4]):
        with wave.open(str(p.audio)) as wav:
            assert wav.readframes(wav.getnframes()) == bytes([index + 1, 0]) * 80
    assert sorted(tmp_path.glob("*/*.part")) == []
    # The sweeper still knows these names as its own.
    assert RecordingStore(tmp_path, retention_days=0.0).sweep() == 4


# --- sweep --------------------------------------------------------------------------------------


def _touch(path: Path, mtime: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    os.utime(path, (mtime, mtime))
    return path


def test_sweep_deletes_only_old_recordings(tmp_path: Path) -> None:
    now = STARTED + 40 * DAY_S
    store = RecordingStore(tmp_path, retention_days=30, wall_clock_s=lambda: now)
    old = now - 31 * DAY_S
    new = now - 29 * DAY_S
    gone = [
        _touch(tmp_path / "2024-03-05" / "140709-twilio-CA1.wav", old),
        _touch(tmp_path / "2024-03-05" / "140709-twilio-CA1.json", old),
        _touch(tmp_path / "2024-03-05" / "150000-telnyx-v3_abc-1.wav.part", old),
        _touch(tmp_path / "2024-03-05" / "150000-telnyx-v3_abc-1.json.part", old),
        _touch(tmp_path / "2024-03-06" / "000001-plivo-x.wav", old),
    ]
    kept = [
        _touch(tmp_path / "2024-03-06" / "120000-twilio-CA2.wav", new),
        _touch(tmp_path / "2024-03-06" / "notes.txt", old),  # foreign name
        _touch(tmp_path / "2024-03-06" / "140709-twilio-CA1.mp3", old),  # foreign extension
        _touch(tmp_path / "other" / "140709-twilio-CA1.wav", old),  # not a day directory
        _touch(tmp_path / "140709-twilio-CA1.wav", old),  # not in a day directory
    ]
    assert store.sweep() == len(gone)
    assert not any(p.exists() for p in gone)
    assert all(p.exists() for p in kept)
    assert not (tmp_path / "2024-03-05").exists()  # left empty: removed
    assert (tmp_path / "2024-03-06").is_dir()
    assert store.sweep() == 0


def test_sweep_removes_stale_empty_day_dirs_but_not_a_fresh_one(tmp_path: Path) -> None:
    now = STARTED + 40 * DAY_S
    store = RecordingStore(tmp_path, retention_days=1, wall_clock_s=lambda: now)
    stale = tmp_path / "2024-03-05"
    stale.mkdir()
    os.utime(stale, (now - 2 * DAY_S, now - 2 * DAY_S))
    fresh = store.paths("twilio", "CA9", now).audio.parent  # a call about to write
    os.utime(fresh, (now, now))
    assert store.sweep() == 0
    assert not stale.exists()
    assert fresh.is_dir()


def test_no_retention_sweeps_nothing(tmp_path: Path) -> None:
    old = _touch(tmp_path / "2024-03-05" / "140709-twilio-CA1.wav", 0.0)
    store = RecordingStore(tmp_path, retention_days=None)
    assert store.sweep() == 0
    assert old.exists()


def test_sweep_of_a_missing_directory_is_nothing(tmp_path: Path) -> None:
    assert RecordingStore(tmp_path / "none", retention_days=1).sweep() == 0


async def test_run_sweeper_sweeps_at_once_and_is_cancellable(tmp_path: Path) -> None:
    old = _touch(tmp_path / "2024-03-05" / "140709-twilio-CA1.wav", 0.0)
    store = RecordingStore(tmp_path, retention_days=1)
    with capture_logs() as logs:
        task = asyncio.create_task(store.run_sweeper(interval_s=0.01))
        for _ in range(500):
            if not old.exists() and logs:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert not old.exists()
    swept = [e for e in logs if e["event"] == "recordings.swept"]
    assert swept[0]["files"] == 1
    assert swept[0]["directory"] == str(tmp_path)
    assert len(swept) == 1  # later sweeps deleted nothing: silent


async def test_run_sweeper_logs_a_failed_sweep_and_goes_on(tmp_path: Path) -> None:
    calls = 0

    def clock() -> float:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk on fire")
        return 1e12

    (tmp_path / "2024-03-05").mkdir()
    store = RecordingStore(tmp_path, retention_days=1, wall_clock_s=clock)
    with capture_logs() as logs:
        task = asyncio.create_task(store.run_sweeper(interval_s=0.01))
        for _ in range(500):
            if calls >= 2:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert calls >= 2
    failed = [e for e in logs if e["event"] == "recordings.sweep_failed"]
    assert failed[0]["error"] == "disk on fire"
