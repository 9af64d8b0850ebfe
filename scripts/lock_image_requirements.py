"""Write deploy/requirements.lock: the container image's dependencies, pinned, with hashes.

The versions are the ones of the environment this runs in (`pip freeze`: the environment the
test suite passed in), resolved for the image's Python on Linux x86_64 and aarch64 with pip's
own resolver (`pip install --dry-run --report`), so the lock holds every wheel either platform
installs, each with its sha256. The image installs it with `pip install --require-hashes`.

    python scripts/lock_image_requirements.py              # Python 3.12, as deploy/Dockerfile
    python scripts/lock_image_requirements.py --python 3.13

It needs the package index (pip's configured one). Re-run it after changing pyproject.toml's
dependencies or upgrading them in the environment, and commit the lock with the change.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "deploy" / "requirements.lock"
EXTRAS = "vertex"
"""Extras the image installs (Vertex AI credentials)."""
BUILD_REQUIREMENTS = ("setuptools==84.2.1",)
"""The build backend, installed from the lock too (the image builds the gateway without build
isolation, so nothing unpinned is fetched)."""
PLATFORMS = {
    "x86_64": [
        "manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux_2_17_x86_64",
        "manylinux2014_x86_64", "manylinux_2_5_x86_64", "manylinux1_x86_64",
    ],
    "aarch64": [
        "manylinux_2_34_aarch64", "manylinux_2_28_aarch64", "manylinux_2_17_aarch64",
        "manylinux2014_aarch64",
    ],
}  # fmt: skip


def _resolve(python: str, platforms: list[str], constraints: Path) -> dict[str, tuple[str, str]]:
    """name -> (version, sha256) of every wheel pip would install for one platform."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        command = [
            sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
            "--only-binary=:all:", "--python-version", python, "--implementation", "cp",
            "--target", str(Path(scratch) / "target"), "--report", str(report),
            "-c", str(constraints), f".[{EXTRAS}]", *BUILD_REQUIREMENTS, "--quiet",
        ]  # fmt: skip
        for platform in platforms:
            command += ["--platform", platform]
        subprocess.run(command, cwd=ROOT, check=True)
        data = json.loads(report.read_text(encoding="utf-8"))
    found: dict[str, tuple[str, str]] = {}
    for item in data["install"]:
        name = item["metadata"]["name"].lower().replace("_", "-")
        if name == "gateway":
            continue
        sha256 = item["download_info"]["archive_info"]["hashes"]["sha256"]
        found[name] = (item["metadata"]["version"], sha256)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default="3.12", help="the image's Python version")
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        frozen = subprocess.run(
            [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        handle.write(frozen)
        constraints = Path(handle.name)
    versions: dict[str, str] = {}
    hashes: dict[str, set[str]] = {}
    for platforms in PLATFORMS.values():
        for name, (version, sha256) in _resolve(args.python, platforms, constraints).items():
            if versions.setdefault(name, version) != version:
                raise SystemExit(f"{name}: {version} on one platform, {versions[name]} on another")
            hashes.setdefault(name, set()).add(sha256)
    constraints.unlink()
    lines = [
        "# The container image's dependencies (gateway and its `vertex` extra, and the build",
        "# backend), pinned with the sha256 of every wheel for Linux x86_64 and aarch64.",
        f"# Generated for Python {args.python} by scripts/lock_image_requirements.py; do not edit.",
        "# deploy/Dockerfile installs it with `pip install --require-hashes`.",
    ]
    for name in sorted(versions):
        lines.append(f"{name}=={versions[name]} \\")
        digests = sorted(hashes[name])
        for i, digest in enumerate(digests):
            lines.append(f"    --hash=sha256:{digest}" + (" \\" if i < len(digests) - 1 else ""))
    LOCK.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {LOCK.relative_to(ROOT)}: {len(versions)} packages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
