"""Text from outside made safe to carry: no lone surrogates.

JSON may escape half of a UTF-16 surrogate pair (`"\\ud800"`: a JavaScript backend that cut a
string in the middle of an emoji sends exactly that), and Python's `json` decodes it into a `str`
that cannot be encoded as UTF-8: the first log line, `toolResponse`, recap or transcript file
holding it would raise `UnicodeEncodeError`. Text from business backends and from Live is cleaned
once, where it enters the gateway (`gateway.live.protocol.parse_server_message`,
`gateway.tools.toolbox.Toolbox.run`), so that no text can fail a call further in: each lone
surrogate becomes U+FFFD (the replacement character); whole pairs become the character they
encode. Pure and cheap: text that is already clean is returned as it is, unchanged and uncopied.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["REPLACEMENT", "clean_json", "clean_text", "may_hold_surrogates"]

REPLACEMENT: Final = "\ufffd"
_ESCAPES: Final = ("\\ud", "\\uD")
_RAW_ESCAPES: Final = (b"\\ud", b"\\uD")


def clean_text(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (the same object when it has none)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def clean_json(value: Any) -> Any:
    """Parsed JSON with every string (keys too) cleaned; containers are copied only when
    something in them changed, so clean data comes back as the very same object."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        changed = False
        items: list[tuple[Any, Any]] = []
        for key, item in value.items():
            new_key = clean_text(key) if isinstance(key, str) else key
            new_item = clean_json(item)
            changed = changed or new_key is not key or new_item is not item
            items.append((new_key, new_item))
        return dict(items) if changed else value
    if isinstance(value, list | tuple):
        cleaned = [clean_json(item) for item in value]
        if any(new is not old for new, old in zip(cleaned, value, strict=True)):
            return cleaned if isinstance(value, list) else tuple(cleaned)
        return value
    return value


def may_hold_surrogates(frame: str | bytes) -> bool:
    """Whether JSON text `frame` could decode into a lone surrogate: it holds a `\\uD8xx`-style
    escape (UTF-8 on the wire cannot carry a surrogate itself). A fast test on raw frames, so
    that only the rare frame with such an escape is walked by `clean_json`."""
    # A one-byte search first (memchr): audio frames hold no backslash at all.
    if isinstance(frame, bytes):
        return b"\\" in frame and (_RAW_ESCAPES[0] in frame or _RAW_ESCAPES[1] in frame)
    escaped = "\\" in frame and (_ESCAPES[0] in frame or _ESCAPES[1] in frame)
    return escaped or not frame.isascii()
