"""The generated parts of the docs and `.env.example`, from the option declarations.

docs/agents.md's table of profile keys sits between `<!-- options:begin profile keys -->` and
`<!-- options:end -->`, each section's table in docs/configuration.md between
`<!-- options:begin SECTION -->` and `<!-- options:end -->`; the prose around the blocks is
hand-written. `.env.example` is generated whole below its marker line.
`scripts/gen_config_docs.py` writes them; a test fails when one has drifted from the options.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable

from gateway.options.option import Option, render_default

__all__ = [
    "ENV_MARKER",
    "DocsError",
    "env_example",
    "fill_docs",
    "fill_profile_docs",
    "profile_table",
    "sections",
    "split_env_example",
    "table",
]

BEGIN = re.compile(r"<!-- options:begin (?P<section>[^>]+?) -->\n.*?<!-- options:end -->", re.S)
ENV_MARKER = "# --- generated from gateway/options by scripts/gen_config_docs.py; edit there ---"
WIDTH = 99


class DocsError(ValueError):
    """The docs cannot take the tables (a section without a block, a block without options)."""


def sections(options: Iterable[Option]) -> dict[str, list[Option]]:
    """The options with a variable, by section, in declaration order."""
    grouped: dict[str, list[Option]] = {}
    for option in options:
        if option.env is not None:
            grouped.setdefault(option.section, []).append(option)
    return grouped


def _default_cell(option: Option) -> str:
    if option.default_doc is not None:
        return option.default_doc
    text = render_default(option)
    return f"`{text}`" if text else "none"


def table(options: Iterable[Option]) -> str:
    """One section's Markdown table; an option with `own_row=False` joins the row above."""
    rows: list[tuple[list[str], list[str], str]] = []
    for option in options:
        if option.own_row or not rows:
            rows.append(([f"`{option.env}`"], [_default_cell(option)], option.doc))
        else:
            rows[-1][0].append(f"`{option.env}`")
            rows[-1][1].append(_default_cell(option))
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for names, defaults, doc in rows:
        default = defaults[0] if len(set(defaults)) == 1 else ", ".join(defaults)
        lines.append(f"| {', '.join(names)} | {default} | {doc} |")
    return "\n".join(lines)


PROFILES = "profile keys"
"""The block name of docs/agents.md's table of profile keys."""


def profile_table(options: Iterable[Option]) -> str:
    """The Markdown table of every key an agent profile may set."""
    lines = ["| field | default | meaning |", "|---|---|---|"]
    for option in options:
        if option.profile is None:
            continue
        default = option.profile_default_doc or _default_cell(option)
        lines.append(f"| `{option.profile}` | {default} | {option.profile_doc or option.doc} |")
    return "\n".join(lines)


def fill_profile_docs(text: str, options: Iterable[Option]) -> str:
    """`text` (docs/agents.md) with its table of profile keys regenerated."""
    rows = profile_table(options)
    found = False

    def block(match: re.Match[str]) -> str:
        nonlocal found
        if match["section"] != PROFILES:
            raise DocsError(f"docs/agents.md has a block for {match['section']!r}")
        found = True
        return f"<!-- options:begin {PROFILES} -->\n{rows}\n<!-- options:end -->"

    result = BEGIN.sub(block, text)
    if not found:
        raise DocsError(f"no <!-- options:begin {PROFILES} --> block")
    return result


def fill_docs(text: str, options: Iterable[Option]) -> str:
    """`text` (docs/configuration.md) with every section's block regenerated."""
    grouped = sections(options)
    found: set[str] = set()

    def block(match: re.Match[str]) -> str:
        section = match["section"]
        if section not in grouped:
            raise DocsError(f"the docs have a block for {section!r}, which has no options")
        found.add(section)
        return f"<!-- options:begin {section} -->\n{table(grouped[section])}\n<!-- options:end -->"

    result = BEGIN.sub(block, text)
    missing = [section for section in grouped if section not in found]
    if missing:
        raise DocsError(f"no <!-- options:begin ... --> block for {', '.join(missing)}")
    return result


def _plain(doc: str) -> str:
    doc = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1", doc)
    return doc.replace("`", "")


def env_example(header: str, options: Iterable[Option]) -> str:
    """`.env.example`: the hand-written `header` (up to the marker), then every option."""
    out = [header.rstrip("\n"), "", ENV_MARKER]
    for section, members in sections(options).items():
        out += ["", f"# --- {section} ".ljust(WIDTH, "-")]
        for option in members:
            out += textwrap.wrap(
                _plain(option.doc), WIDTH, initial_indent="# ", subsequent_indent="# "
            )
            if option.example is not None:
                out.append(f"# {option.env}={option.example}")
            else:
                out.append(f"{option.env}={render_default(option)}")
    return "\n".join(out) + "\n"


def split_env_example(text: str) -> str:
    """The hand-written header of an `.env.example` (what precedes the marker)."""
    head, marker, _ = text.partition(ENV_MARKER)
    return head if marker else text
