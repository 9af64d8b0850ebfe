"""Write the option tables of the docs and `.env.example` from the options schema.

    python scripts/gen_config_docs.py          # rewrite both files
    python scripts/gen_config_docs.py --check  # exit 1 when either is out of date

The tables of docs/configuration.md (one per section) and of docs/agents.md (the profile keys)
sit between `<!-- options:begin NAME -->` and `<!-- options:end -->` (the prose around them is
hand-written); `.env.example` is generated below its marker line. The options are gateway/options'
and every registered carrier's (gateway/carriers/<name>/settings.py), one section each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.carriers import registry
from gateway.options.docs import env_example, fill_docs, fill_profile_docs, split_env_example

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "configuration.md"
AGENTS = ROOT / "docs" / "agents.md"
ENV_EXAMPLE = ROOT / ".env.example"


def generated() -> dict[Path, str]:
    """Each generated file's expected content: the core's options and every registered
    carrier's (declared in its folder)."""
    options = registry.options()
    docs = DOCS.read_text(encoding="utf-8")
    env = ENV_EXAMPLE.read_text(encoding="utf-8")
    return {
        DOCS: fill_docs(docs, options),
        AGENTS: fill_profile_docs(AGENTS.read_text(encoding="utf-8"), options),
        ENV_EXAMPLE: env_example(split_env_example(env), options),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated().items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    for path in stale:
        verb = "is out of date" if args.check else "rewritten"
        print(f"{path.relative_to(ROOT)} {verb}", file=sys.stderr)
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    raise SystemExit(main())
