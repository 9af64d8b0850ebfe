"""The options schema: every setting declared once (docs/configuration.md is generated from it).

`Option` (gateway.options.option) is the declaration and its one coercion path;
gateway.options.core declares the gateway's own options, gateway.options.carriers the carriers'
variables, and gateway.options.registry joins them. Pure: no I/O.
"""

from gateway.options.option import Option, OptionValueError, from_text, from_toml

__all__ = ["Option", "OptionValueError", "from_text", "from_toml"]
