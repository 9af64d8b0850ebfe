"""The options schema: every setting declared once (docs/configuration.md is generated from it).

`Option` (gateway.options.option) is the declaration and its one coercion path;
gateway.options.core and gateway.options.call declare the gateway's own options, each carrier's
folder (gateway/carriers/<name>/settings.py) its own, and gateway.options.registry joins them
(the carriers' passed in, so this package imports nothing of the rest of the gateway). Pure:
no I/O.
"""

from gateway.options.option import Option, OptionValueError, from_text, from_toml

__all__ = ["Option", "OptionValueError", "from_text", "from_toml"]
