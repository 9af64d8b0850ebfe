"""Tools the Live agent may call: business backends over HTTP, Python functions, and the
built-in transfer and hang-up (docs/tools.md).

The gateway loads them once (`load_toolbox_from_settings`), declares them in the Live setup
(`Toolbox.declarations()`) and runs each function call with `Toolbox.run(call, context)`, which
always answers with a `ToolFinished` (or lets a cancellation through).
"""

from gateway.tools.base import Reply, ToolContext, ToolError, ToolLimits, ToolSpec
from gateway.tools.config import ToolsFileError, load_toolbox, parse_toolbox
from gateway.tools.schema import SchemaError, to_live_schema
from gateway.tools.startup import load_toolbox_from_settings
from gateway.tools.toolbox import Tool, Toolbox

__all__ = [
    "Reply",
    "SchemaError",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolLimits",
    "ToolSpec",
    "Toolbox",
    "ToolsFileError",
    "load_toolbox",
    "load_toolbox_from_settings",
    "parse_toolbox",
    "to_live_schema",
]
