"""Every registered option: the core's and each carrier's, checked for clashes.

The carriers' options are declared in their folders (gateway/carriers/<name>/settings.py) and
passed in as `extra` (`gateway.carriers.registry.options()` does that for every registered
carrier), so this package imports nothing of the rest of the gateway."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.options.call import CALL_OPTIONS
from gateway.options.conduct import CONDUCT_OPTIONS
from gateway.options.core import CORE
from gateway.options.dial import DIAL_OPTIONS
from gateway.options.option import Option

__all__ = ["all_options", "by_env", "check_unique"]


def check_unique(options: Iterable[Option]) -> tuple[Option, ...]:
    """The options, in order; raises ValueError when two declare one variable or profile key."""
    result = tuple(options)
    seen_env: set[str] = set()
    seen_profile: set[str] = set()
    for option in result:
        if option.env is not None:
            if option.env in seen_env:
                raise ValueError(f"{option.env} is declared twice")
            seen_env.add(option.env)
        if option.profile is not None:
            if option.profile in seen_profile:
                raise ValueError(f"profile key {option.profile} is declared twice")
            seen_profile.add(option.profile)
    return result


def all_options(extra: Iterable[Option] = ()) -> tuple[Option, ...]:
    """The core's options, the call policy's, the conduct's (silence, hold, keypad, webhooks),
    the dial-out's, then `extra` (the registered carriers')."""
    return check_unique((*CORE, *CALL_OPTIONS, *CONDUCT_OPTIONS, *DIAL_OPTIONS, *extra))


def by_env(options: Iterable[Option] | None = None) -> dict[str, Option]:
    """The options that have a variable, by its name."""
    return {o.env: o for o in (all_options() if options is None else options) if o.env}
