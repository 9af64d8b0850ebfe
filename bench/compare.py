"""Before and after, side by side: the figures of two or more `bench/load.py` outputs.

    python bench/load.py --profiles heavy --tls on --levels 50 > before.txt   # old tree
    python bench/load.py --profiles heavy --tls on --levels 50 > after.txt    # new tree
    python bench/compare.py before.txt after.txt

For each level (N) and variant found in every file it prints one table: WebSocket messages and
system calls per call-second in each direction (carrier in/out, Live in/out, from the gateway's
side), epoll waits and the other syscalls, the gateway's CPU-s per call-minute, its share of a
core, the added latency p99 per direction and what else used the machine, with the ratio of
the last file to the first. The runs are only comparable when the machine was as busy in both:
the `other work` and `caller pacing lag` rows say how busy it was.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

__all__ = ["parse_levels"]

_LEVEL = re.compile(r"^N=(\d+) (\S+): (.*)$")
_PER_SECOND = re.compile(r"^\s+per call-second: (.*)$")
_FIELDS = {
    "gateway CPU-s per call-minute": r"([\d.]+) gateway CPU s per call-minute",
    "gateway share of a core (%)": r"gateway (\d+)% of a core",
    "gateway waited for a CPU (%)": r"waited for a CPU (\d+)%",
    "uplink p99 (ms bucket)": r"uplink p99 ([\d.<>-]+) ms",
    "downlink p99 (ms bucket)": r"downlink p99 ([\d.<>-]+) ms",
    "other work (% of a core)": r"other processes on the machine (\d+)% of a core",
    "caller pacing lag p99 (ms)": r"caller pacing lag p99 ([\d.]+) ms",
}
Level = dict[str, str]


def parse_levels(text: str) -> dict[str, Level]:
    """`N=<n> <variant>` -> its figures (strings as printed), from a `bench/load.py` output."""
    levels: dict[str, Level] = {}
    current: Level | None = None
    for line in text.splitlines():
        match = _LEVEL.match(line)
        if match:
            key = f"N={match.group(1)} {match.group(2)}"
            current = levels[key] = {}  # a retried level: the last run counts
            for name, pattern in _FIELDS.items():
                found = re.search(pattern, match.group(3))
                if found:
                    current[name] = found.group(1)
            continue
        match = _PER_SECOND.match(line)
        if match and current is not None:
            for part in match.group(1).split(";"):
                part = part.strip()
                if part.startswith("/proc io r / w "):
                    reads, _, writes = part.removeprefix("/proc io r / w ").partition(" / ")
                    current["/proc io reads /call-s"] = reads
                    current["/proc io writes /call-s"] = writes
                    continue
                name, _, value = part.rpartition(" ")
                if name:
                    current[f"{name} /call-s"] = value
    return levels


def _ratio(first: str, last: str) -> str:
    try:
        a, b = float(first), float(last)
    except ValueError:
        return ""
    return f"x{b / a:.2f}" if a else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("outputs", type=Path, nargs="+", help="bench/load.py outputs, oldest first")
    parser.add_argument("--names", help="column names, comma-separated (default: file names)")
    args = parser.parse_args()
    runs = [parse_levels(path.read_text()) for path in args.outputs]
    names = args.names.split(",") if args.names else [path.stem for path in args.outputs]
    common = [key for key in runs[0] if all(key in run for run in runs[1:])]
    if not common:
        raise SystemExit("no level (N and variant) is in every file")
    for key in common:
        print(f"\n{key}")
        print("| figure | " + " | ".join(names) + " | last / first |")
        print("|---|" + "---|" * len(names) + "---|")
        rows = list(dict.fromkeys(name for run in runs for name in run[key]))
        for row in rows:
            values = [run[key].get(row, "-") for run in runs]
            print(f"| {row} | " + " | ".join(values) + f" | {_ratio(values[0], values[-1])} |")


if __name__ == "__main__":
    main()
