"""Where call recordings live: per-day directories, WAV files written as they go, retention.

Layout, all names in UTC: `{directory}/{YYYY-MM-DD}/{HHMMSS}-{carrier}-{call id}-{hash}.wav` and
the transcript beside it as `.json`, the call's report as `.html` (gateway.shell.call_report).
The call id is made safe for a file name (letters, digits, `_`, `-`; at most 120 characters)
and `{hash}` (12 hex digits of the raw id's SHA-256) keeps calls whose ids differ only in what
the safe form drops apart. A file being written carries
`.part` after its name and is renamed when complete, so a finished name is always a whole file.
Recordings hold callers' voices (personal data): files are created 0o640 and directories 0o750
(the umask can only tighten them), and the retention sweeper deletes them once they are older
than the operator's retention.

These classes do small synchronous writes; the caller decides whether to run them in a thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from gateway.log import get_logger
from gateway.text import clean_text

__all__ = ["RecordingPaths", "RecordingStore", "WavWriter", "write_text", "write_transcript"]

_log = get_logger(component="recordings")

FILE_MODE = 0o640
DIR_MODE = 0o750
_PART = ".part"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# Only names this module makes are ever swept: a foreign file in the tree is left alone.
_NAME = re.compile(r"\d{6}-[A-Za-z0-9_-]+\.(?:wav|json|html)(?:\.part)?")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_MAX_ID_CHARS = 120  # with the prefix and suffix, well under the usual 255-byte name limit
_HASH_CHARS = 12  # 48 bits of the raw id's SHA-256


def _safe(text: str) -> str:
    """Letters, digits, `_` and `-` only: no `/`, no dots, so no name can leave its directory."""
    return _UNSAFE.sub("_", text)[:_MAX_ID_CHARS] or "_"


def _call_part(call_id: str) -> str:
    """The call's part of a file name: its id made safe, then a short hash of the raw id, so
    that ids the safe form would merge (`a.b` and `a/b` both become `a_b`, long ids are cut)
    never share a file."""
    digest = hashlib.sha256(call_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{_safe(call_id)}-{digest[:_HASH_CHARS]}"


def _part(path: Path) -> Path:
    return path.with_name(path.name + _PART)


def _create(path: Path) -> BinaryIO:
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    return os.fdopen(fd, "wb")


@dataclass(frozen=True)
class RecordingPaths:
    """A call's final file names (while written, each has `.part` appended)."""

    audio: Path
    transcript: Path
    report: Path | None = None
    """The call's HTML report (gateway.shell.call_report), written when its audio was."""


class RecordingStore:
    """The recordings directory: names for new calls, and deletion past the retention."""

    def __init__(
        self,
        directory: Path,
        *,
        retention_days: float | None,
        wall_clock_s: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.retention_days = retention_days
        self._now = wall_clock_s

    def paths(self, carrier: str, call_id: str, started_at_s: float) -> RecordingPaths:
        """Names for a call started at `started_at_s` (epoch seconds); creates the day directory."""
        started = datetime.fromtimestamp(started_at_s, UTC)
        day = self.directory / started.strftime("%Y-%m-%d")
        day.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        stem = f"{started:%H%M%S}-{_safe(carrier)}-{_call_part(call_id)}"
        return RecordingPaths(
            audio=day / f"{stem}.wav", transcript=day / f"{stem}.json", report=day / f"{stem}.html"
        )

    def sweep(self) -> int:
        """Delete recordings older than the retention (by mtime); returns the files deleted.

        Only names this store makes are touched (finished and `.part` files); day directories
        left empty go too. Nothing happens without a retention.
        """
        if self.retention_days is None or not self.directory.is_dir():
            return 0
        cutoff = self._now() - self.retention_days * 86_400.0
        deleted = 0
        for day in sorted(self.directory.iterdir()):
            if not _DAY.fullmatch(day.name) or not day.is_dir() or day.is_symlink():
                continue
            removed_here = 0
            for entry in day.iterdir():
                if not _NAME.fullmatch(entry.name) or not entry.is_file() or entry.is_symlink():
                    continue
                try:
                    if entry.stat().st_mtime < cutoff:
                        entry.unlink()
                        removed_here += 1
                except FileNotFoundError:
                    continue  # gone meanwhile: a finished call renamed its .part
                except OSError as exc:
                    _log.warning("recordings.delete_failed", path=str(entry), error=str(exc))
            deleted += removed_here
            # A day directory emptied now, or empty and stale; a fresh empty one may be about to
            # receive a call's files (paths() makes it before the writer opens its file).
            try:
                if removed_here or day.stat().st_mtime < cutoff:
                    day.rmdir()  # fails when not empty: exactly what we want
            except OSError:
                pass
        return deleted

    async def run_sweeper(self, interval_s: float = 3600.0) -> None:
        """Sweep now, then every `interval_s`, in a thread, until cancelled."""
        while True:
            try:
                deleted = await asyncio.to_thread(self.sweep)
            except Exception as exc:  # a failed sweep must not end the sweeper: the next may do
                _log.warning(
                    "recordings.sweep_failed", directory=str(self.directory), error=str(exc)
                )
            else:
                if deleted:
                    _log.info("recordings.swept", files=deleted, directory=str(self.directory))
            await asyncio.sleep(interval_s)


_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")
_RIFF_SIZE_AT = 4
_DATA_SIZE_AT = 40
_MAX_DATA = 0xFFFF_FFFF - (_HEADER.size - 8)  # RIFF sizes are 32-bit


class WavWriter:
    """A stereo (or mono) PCM16 WAV written as it goes, finished by patching the RIFF sizes.

    Written to `path` + `.part` and renamed to `path` by `close()`, so readers never see half a
    file under the final name. `write` takes whole frames (channels x 2 bytes each).
    """

    def __init__(self, path: Path, rate_hz: int, channels: int = 2) -> None:
        self.path = path
        self.rate_hz = rate_hz
        self.channels = channels
        self.data_bytes = 0
        self._block = 2 * channels
        self._part = _part(path)
        self._file: BinaryIO | None = _create(self._part)
        self._closed = False
        self._too_long = False
        self._file.write(self._header())
        self._file.flush()  # on disk at once: a crash leaves a WAV header before any audio

    def _header(self) -> bytes:
        return _HEADER.pack(
            b"RIFF", _HEADER.size - 8 + self.data_bytes, b"WAVE",
            b"fmt ", 16, 1, self.channels, self.rate_hz, self.rate_hz * self._block,
            self._block, 16,
            b"data", self.data_bytes,
        )  # fmt: skip

    def write(self, frames: bytes) -> None:
        """Append interleaved PCM16 LE frames."""
        if self._file is None:
            raise ValueError(f"write to a closed recording: {self.path.name}")
        if len(frames) % self._block:
            raise ValueError(f"{len(frames)} bytes is not whole {self.channels}-channel frames")
        room = _MAX_DATA - self.data_bytes
        if len(frames) > room:
            # A WAV cannot say more than 4 GiB; the rest of a days-long call is not kept.
            frames = frames[: room - room % self._block]
            if not self._too_long:
                self._too_long = True
                _log.warning("recordings.too_long", path=self.path.name, data_bytes=_MAX_DATA)
        self._file.write(frames)
        self.data_bytes += len(frames)

    def close(self) -> Path:
        """Patch the sizes, flush, rename to the final name; returns it. Idempotent."""
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.seek(_RIFF_SIZE_AT)
                file.write(struct.pack("<I", _HEADER.size - 8 + self.data_bytes))
                file.seek(_DATA_SIZE_AT)
                file.write(struct.pack("<I", self.data_bytes))
                file.flush()
            finally:
                file.close()
        if not self._closed:
            os.replace(self._part, self.path)  # a failed rename may be retried by a second close
            self._closed = True
        return self.path

    def abort(self) -> None:
        """Drop the recording: the `.part` goes, nothing appears under the final name."""
        if self._file is not None:
            file, self._file = self._file, None
            file.close()
        if not self._closed:
            self._part.unlink(missing_ok=True)


def write_transcript(path: Path, document: Mapping[str, Any]) -> None:
    """Write `document` as JSON (indent 2, UTF-8 text) under a temporary name, then rename.

    Text that cannot be UTF-8 (a lone surrogate from a carrier's field) is written as U+FFFD."""
    write_text(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8, lone surrogates as U+FFFD) under a temporary name, then rename."""
    text = clean_text(text)
    part = _part(path)
    try:
        with _create(part) as file:
            file.write(text.encode("utf-8"))
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
