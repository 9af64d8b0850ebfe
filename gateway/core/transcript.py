"""The call's transcript, and the part of the agent's words the caller actually heard.

Caller lines collect the final (not interim) pieces of the input transcription; a line ends at a
`finished` piece, or at the end of the model turn it led to. Agent lines collect the output
transcription of one model turn. Each agent piece is attributed to the mark of the model audio
chunk most recently received in the turn (or, before any audio, to the next chunk's mark): the
piece counts as heard when that mark was echoed as played (see `PlaybackLedger`). Text of a turn
that never had audio is never heard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.core.playback import PlaybackLedger

__all__ = ["AGENT", "CALLER", "HOLD", "Transcript", "TranscriptLine", "as_heard"]

CALLER = "caller"
AGENT = "agent"
HOLD = "hold"
"""The hold audio the caller heard while a tool ran (text: how long)."""


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    role: str
    """`CALLER`, `AGENT` or `HOLD`."""
    text: str
    """Everything transcribed."""
    heard_text: str
    """What the caller heard of it (agent lines); the whole text for caller lines."""
    at_ms: float | None = None
    """When the line's first words reached the gateway, in ms since the call started (None when
    the caller of `caller`/`agent` gave no time)."""

    @property
    def heard(self) -> bool:
        """All of the line was heard."""
        return self.heard_text == self.text


class _Line:
    __slots__ = ("at_ms", "index", "marks", "role", "text")

    def __init__(self, role: str, index: int, at_ms: float | None) -> None:
        self.role = role
        self.index = index
        self.at_ms = at_ms
        self.text = ""  # caller text; agent text not attributed to a mark (yet)
        self.marks: list[str] = []  # agent: marks holding this line's text, in order


class Transcript:
    def __init__(self, ledger: PlaybackLedger) -> None:
        self._ledger = ledger
        self._lines: list[_Line] = []
        self._caller: _Line | None = None
        self._agent: _Line | None = None
        self._mark: str | None = None  # the turn's most recent chunk mark

    def caller(self, text: str, *, finished: bool = False, at_ms: float | None = None) -> None:
        """A final piece of the caller's transcript (`at_ms`: when it arrived, call time)."""
        if self._caller is None:
            self._caller = self._open(CALLER, at_ms)
        self._caller.text += text
        if finished:
            self._caller = None

    def keypad(self, text: str, *, at_ms: float | None = None) -> None:
        """A keypad entry (`core.digits`): a caller line of its own."""
        self._caller = None
        self.caller(text, finished=True, at_ms=at_ms)

    def hold(self, heard_ms: float, *, at_ms: float | None = None) -> None:
        """The caller heard the hold audio for `heard_ms` (a line of its own)."""
        self._open(HOLD, at_ms).text = f"[hold audio, {heard_ms / 1000:.1f} s]"

    def agent(self, text: str, *, at_ms: float | None = None) -> None:
        """A piece of the agent's transcript (`at_ms`: when it arrived, call time)."""
        line = self._agent
        if line is None:
            line = self._agent = self._open(AGENT, at_ms)
        mark = self._mark
        if mark is None:
            line.text += text
            return
        self._ledger.add_text(mark, text)
        if not line.marks or line.marks[-1] != mark:
            line.marks.append(mark)

    def chunk_mark(self, mark: str) -> None:
        """A model audio chunk of this turn went into the queue ahead of mark `mark`."""
        self._mark = mark
        line = self._agent
        if line is not None and line.text:
            self._ledger.add_text(mark, line.text)
            line.text = ""
            line.marks.append(mark)

    def audio_dropped(self) -> None:
        """The rest of this turn's audio is dropped (never played): the words that come after
        are attributed to no mark, so they are never counted as heard."""
        self._mark = None

    def end_turn(self) -> None:
        """The model's turn is over: close its agent line, and the caller line that led to it
        (a caller line opened during the turn is the caller's next utterance, and stays open)."""
        agent, caller = self._agent, self._caller
        if agent is not None and caller is not None and caller.index < agent.index:
            self._caller = None
        self._agent = None
        self._mark = None

    def _open(self, role: str, at_ms: float | None) -> _Line:
        line = _Line(role, len(self._lines), at_ms)
        self._lines.append(line)
        return line

    def lines(self) -> list[TranscriptLine]:
        out = []
        for line in self._lines:
            if line.role != AGENT:  # caller and hold lines: all of it was heard
                out.append(TranscriptLine(line.role, line.text, line.text, line.at_ms))
                continue
            ledger = self._ledger
            text = "".join(ledger.text(mark) for mark in line.marks) + line.text
            heard = "".join(ledger.text(mark) for mark in line.marks if ledger.played(mark))
            out.append(TranscriptLine(AGENT, text, heard, line.at_ms))
        return out

    def heard(self) -> list[tuple[str, str]]:
        """The conversation as the caller experienced it: (role, text), agent lines cut to what
        was played, lines with nothing heard left out."""
        lines = self.lines()
        return [(ln.role, ln.heard_text) for ln in lines if ln.heard_text and ln.role != HOLD]


def as_heard(lines: Sequence[TranscriptLine]) -> list[dict[str, object]]:
    """The lines as the caller experienced them, JSON-ready: `role`, `at_ms`, `text`.

    Agent lines are cut to what was heard; one cut by a barge-in keeps what the model meant to
    say in `generated` (a line cut before its first words has an empty `text`). Lines with no
    words at all are left out."""
    out: list[dict[str, object]] = []
    for line in lines:
        agent = line.role == AGENT
        text = (line.heard_text if agent else line.text).strip()
        if not text and not (agent and line.text.strip()):
            continue
        entry: dict[str, object] = {"role": line.role, "at_ms": line.at_ms, "text": text}
        if agent and not line.heard:
            entry["generated"] = line.text.strip()
        out.append(entry)
    return out
