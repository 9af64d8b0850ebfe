"""Every file the documentation points at exists: relative Markdown links, and repository paths
in the text or in examples (`tests/...`, `docs/...`, `deploy/...`, `gateway/...`, `bench/...`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", ROOT / "deploy" / "README.md", *ROOT.glob("docs/**/*.md")])
_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
_PATH = re.compile(
    r"(?<![\w/.-])((?:tests|docs|deploy|gateway|bench)/[\w./-]+\.(?:py|md|toml|yaml|wav|json|txt))"
)


def _relative_links(text: str) -> list[str]:
    return [t for t in _LINK.findall(text) if not re.match(r"^[a-z]+:", t)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_referenced_file_exists(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    missing = [link for link in _relative_links(text) if not (doc.parent / link).exists()]
    if doc.name != "protocols.md":  # its sources name files of the vendors' repositories
        missing += [path for path in _PATH.findall(text) if not (ROOT / path).exists()]
    assert missing == []


def test_the_protocol_reference_the_docs_cite_is_in_the_repository() -> None:
    cited = [doc for doc in DOCS if "protocols.md" in doc.read_text(encoding="utf-8")]
    assert len(cited) > 5
    assert (ROOT / "docs" / "protocols.md").is_file()
