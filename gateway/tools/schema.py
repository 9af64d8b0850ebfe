"""JSON Schema (as people write it) to the schema Live's function declarations accept.

Live takes an OpenAPI-3.0 subset (protocols.md A.5.1): `type` in upper case, and a fixed set of
keywords; an unknown keyword can get the whole session refused (close 1007). The rule here:

* kept as they are: `description`, `title`, `format`, `pattern`, `nullable`, `minimum`,
  `maximum`, `minLength`, `maxLength`, `minItems`, `maxItems`, `minProperties`,
  `maxProperties`, `default`, `example`, `propertyOrdering`, and the structure (`properties`,
  `required`, `items`, `anyOf`, `enum`), converted recursively;
* rewritten: `type` upper-cased; `type = ["string", "null"]` becomes `STRING` + `nullable`;
  `const: "x"` becomes `enum: ["x"]`; `examples: [a, ...]` becomes `example: a`; a missing
  `type` is inferred from `properties` (OBJECT), `items` (ARRAY) or `enum`/`const` (STRING);
* dropped, because they only annotate: `$schema`, `$id`, `$comment`, `deprecated`,
  `readOnly`, `writeOnly`, and `additionalProperties = false` (the model only fills the
  properties it is shown anyway);
* refused with an error naming the place, because Live cannot express them and silently
  losing a constraint would surprise: everything else (`$ref`, `oneOf`, `allOf`, `not`,
  `additionalProperties` other than false, `exclusiveMinimum`, `multipleOf`, `uniqueItems`,
  ...). Also refused: `enum` values that are not strings (Live's enum is a list of strings),
  an array without `items`, a `required` name that is not a property, a top level that is not
  an object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["SchemaError", "to_live_schema"]

_TYPES: Final = {"string", "number", "integer", "boolean", "array", "object"}
_ANNOTATIONS: Final = frozenset(
    {"$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly"}
)
_STRINGS: Final = ("description", "title", "format", "pattern")
_NUMBERS: Final = ("minimum", "maximum")
_COUNTS: Final = (
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
)
_VALUES: Final = ("default", "example")
_HANDLED: Final = frozenset(
    {
        "type",
        "properties",
        "required",
        "items",
        "anyOf",
        "enum",
        "const",
        "examples",
        "nullable",
        "propertyOrdering",
        "additionalProperties",
        *_STRINGS,
        *_NUMBERS,
        *_COUNTS,
        *_VALUES,
    }
)


class SchemaError(ValueError):
    """A schema Live cannot take; `path` names the place (`parameters.properties.day`)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def to_live_schema(schema: Mapping[str, Any], path: str = "parameters") -> dict[str, Any]:
    """The Live schema for a JSON Schema of a tool's arguments (the top level is an object)."""
    live = _convert(schema, path)
    if live.get("type") != "OBJECT":
        raise SchemaError(path, 'the arguments must be an object (type = "object")')
    return live


def _convert(schema: Any, path: str) -> dict[str, Any]:
    if not isinstance(schema, Mapping):
        raise SchemaError(path, "must be a table (a JSON Schema object)")
    for key in schema:
        if key not in _HANDLED and key not in _ANNOTATIONS:
            raise SchemaError(
                path, f'unsupported JSON Schema keyword "{key}" (Live takes an OpenAPI subset)'
            )
    out: dict[str, Any] = {}
    type_name, nullable = _type(schema, path)
    if type_name is not None:
        out["type"] = type_name
    if nullable or schema.get("nullable") is True:
        out["nullable"] = True
    for key in _STRINGS:
        if key in schema:
            out[key] = _expect(schema[key], str, f"{path}.{key}", "a string")
    for key in _NUMBERS:
        if key in schema:
            value = schema[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SchemaError(f"{path}.{key}", "must be a number")
            out[key] = value
    for key in _COUNTS:
        if key in schema:
            value = schema[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise SchemaError(f"{path}.{key}", "must be a whole number >= 0")
            out[key] = value
    for key in _VALUES:
        if key in schema:
            out[key] = schema[key]
    if "examples" in schema and "example" not in schema:
        examples = schema["examples"]
        if not isinstance(examples, list):
            raise SchemaError(f"{path}.examples", "must be a list")
        if examples:
            out["example"] = examples[0]
    _enum(schema, path, out)
    _structure(schema, path, out)
    return out


def _type(schema: Mapping[str, Any], path: str) -> tuple[str | None, bool]:
    raw = schema.get("type")
    if raw is None:
        if "properties" in schema:
            return "OBJECT", False
        if "items" in schema:
            return "ARRAY", False
        if "enum" in schema or "const" in schema:
            return "STRING", False
        if "anyOf" in schema:
            return None, False
        raise SchemaError(path, 'needs a "type"')
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise SchemaError(f"{path}.type", "must be a type name or a list of them")
    lowered = [n.lower() for n in names]
    nullable = "null" in lowered
    rest = [n for n in lowered if n != "null"]
    if len(rest) != 1:
        raise SchemaError(
            f"{path}.type", "must be one type (optionally with null); use anyOf for several"
        )
    if rest[0] not in _TYPES:
        raise SchemaError(f"{path}.type", f"unknown type {names[0]!r}")
    return rest[0].upper(), nullable


def _enum(schema: Mapping[str, Any], path: str, out: dict[str, Any]) -> None:
    if "enum" in schema and "const" in schema:
        raise SchemaError(path, "use enum or const, not both")
    if "const" in schema:
        values: Any = [schema["const"]]
        where = f"{path}.const"
    elif "enum" in schema:
        values = schema["enum"]
        where = f"{path}.enum"
    else:
        return
    if not isinstance(values, list) or not values:
        raise SchemaError(where, "must be a non-empty list")
    if not all(isinstance(v, str) for v in values):
        raise SchemaError(where, "values must be strings (Live's enum is a list of strings)")
    if out.get("type") != "STRING":
        raise SchemaError(where, 'an enum needs type = "string"')
    out["enum"] = list(values)


def _structure(schema: Mapping[str, Any], path: str, out: dict[str, Any]) -> None:
    kind = out.get("type")
    if "properties" in schema:
        if kind != "OBJECT":
            raise SchemaError(f"{path}.properties", 'only an object (type = "object") has them')
        props = schema["properties"]
        if not isinstance(props, Mapping):
            raise SchemaError(f"{path}.properties", "must be a table of schemas")
        out["properties"] = {
            name: _convert(sub, f"{path}.properties.{name}") for name, sub in props.items()
        }
    if "required" in schema:
        required = schema["required"]
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            raise SchemaError(f"{path}.required", "must be a list of property names")
        missing = [r for r in required if r not in out.get("properties", {})]
        if missing:
            raise SchemaError(f"{path}.required", f"names no such property: {', '.join(missing)}")
        out["required"] = list(required)
    if "propertyOrdering" in schema:
        order = schema["propertyOrdering"]
        if not isinstance(order, list) or not all(isinstance(r, str) for r in order):
            raise SchemaError(f"{path}.propertyOrdering", "must be a list of property names")
        out["propertyOrdering"] = list(order)
    extra = schema.get("additionalProperties")
    if extra is not None and extra is not False:
        raise SchemaError(
            f"{path}.additionalProperties", "only false is supported (Live objects are closed)"
        )
    if kind == "ARRAY":
        if "items" not in schema:
            raise SchemaError(path, 'an array needs "items"')
        out["items"] = _convert(schema["items"], f"{path}.items")
    elif "items" in schema:
        raise SchemaError(f"{path}.items", 'only an array (type = "array") has them')
    if "anyOf" in schema:
        options = schema["anyOf"]
        if not isinstance(options, list) or not options:
            raise SchemaError(f"{path}.anyOf", "must be a non-empty list of schemas")
        out["anyOf"] = [_convert(sub, f"{path}.anyOf[{i}]") for i, sub in enumerate(options)]


def _expect(value: Any, kind: type, path: str, what: str) -> Any:
    if not isinstance(value, kind):
        raise SchemaError(path, f"must be {what}")
    return value
