"""The `python` kind: a function of yours (`module:function`) called in the gateway's process.

The model's arguments become keyword arguments; a function that declares a `context` parameter
also gets the call's `ToolContext` (caller's number, carrier call id, the shared HTTP client).
`async def` functions are awaited; plain functions run in one of the tools' own worker threads
(`gateway.tools.threads.ToolThreads`, `[limits] threads` in the tools file) so that a slow one
cannot stall the calls around it, nor the recordings and lookups that use asyncio's default
threads. A worker thread cannot be stopped: when the tool times out or is cancelled the call
goes on without its result, but the function runs to its end, so keep plain functions short.

The return value must be JSON (dicts, lists, strings, numbers, booleans, None; tuples become
lists); anything else is an error. Raise `gateway.tools.ToolError("message")` to give the model a
failure it can talk about; any other exception reaches the model as its type name only.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from gateway.tools.base import Reply, ToolContext, ToolError
from gateway.tools.results import json_value
from gateway.tools.threads import ToolThreads

__all__ = ["CONTEXT_PARAMETER", "PythonHandler", "resolve_function"]

CONTEXT_PARAMETER: Final = "context"


def resolve_function(reference: str) -> Callable[..., Any]:
    """The callable named by `package.module:function` (or `module:Class.method`).

    Raises ValueError with a message that says what is wrong (never runs more than the import)."""
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f'must be "package.module:function", not {reference!r}')
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as exc:  # an import can fail in any way; say how, not why in detail
        raise ValueError(f"cannot import {module_name} ({type(exc).__name__}: {exc})") from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ValueError(f"{module_name} has no {attribute}") from None
    if not callable(target):
        raise ValueError(f"{reference} is not callable")
    return target  # type: ignore[no-any-return]


@dataclass(frozen=True)
class PythonHandler:
    function: Callable[..., Any] = field(repr=False)
    reference: str
    """`module:function`, for logs and messages."""
    threads: ToolThreads = field(repr=False, compare=False)
    """Where a plain (`def`) function runs."""

    @classmethod
    def from_reference(cls, reference: str, threads: ToolThreads) -> PythonHandler:
        return cls(resolve_function(reference), reference, threads)

    @property
    def signature(self) -> inspect.Signature:
        return inspect.signature(self.function)

    @property
    def wants_context(self) -> bool:
        parameter = self.signature.parameters.get(CONTEXT_PARAMETER)
        return parameter is not None and parameter.kind not in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
            inspect.Parameter.POSITIONAL_ONLY,
        )

    async def invoke(self, args: Mapping[str, Any], context: ToolContext) -> Reply:
        kwargs = {name: value for name, value in args.items() if name != CONTEXT_PARAMETER}
        if self.wants_context:
            kwargs[CONTEXT_PARAMETER] = context
        try:
            self.signature.bind(**kwargs)
        except TypeError as exc:  # the message names parameters only
            raise ToolError(f"invalid arguments: {exc}") from None
        if inspect.iscoroutinefunction(self.function):
            result = await self.function(**kwargs)
        else:
            result = await self.threads.call(self.function, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        try:
            output = json_value(result)
        except (TypeError, ValueError):
            raise ToolError(
                f"{self.reference} returned a {type(result).__name__}, which is not JSON"
            ) from None
        return Reply(output)
