"""JSON Schema -> Live schema: what is kept, rewritten, dropped and refused (docs/tools.md)."""

from __future__ import annotations

from typing import Any

import pytest
from google.genai import types

from gateway.tools import SchemaError, to_live_schema


def test_types_are_upper_cased_and_structure_is_kept() -> None:
    schema = {
        "type": "object",
        "description": "an order query",
        "properties": {
            "order_id": {"type": "string", "pattern": "^A[0-9]+$", "minLength": 2},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 9, "default": 1},
            "price": {"type": "number", "format": "double"},
            "gift": {"type": "boolean"},
            "tags": {
                "type": "array",
                "items": {"type": "string", "enum": ["red", "blue"]},
                "minItems": 1,
                "maxItems": 3,
            },
            "address": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
                "required": ["city"],
                "propertyOrdering": ["city", "zip"],
            },
        },
        "required": ["order_id", "quantity"],
    }
    assert to_live_schema(schema) == {
        "type": "OBJECT",
        "description": "an order query",
        "properties": {
            "order_id": {"type": "STRING", "pattern": "^A[0-9]+$", "minLength": 2},
            "quantity": {"type": "INTEGER", "minimum": 1, "maximum": 9, "default": 1},
            "price": {"type": "NUMBER", "format": "double"},
            "gift": {"type": "BOOLEAN"},
            "tags": {
                "type": "ARRAY",
                "items": {"type": "STRING", "enum": ["red", "blue"]},
                "minItems": 1,
                "maxItems": 3,
            },
            "address": {
                "type": "OBJECT",
                "properties": {"city": {"type": "STRING"}, "zip": {"type": "STRING"}},
                "required": ["city"],
                "propertyOrdering": ["city", "zip"],
            },
        },
        "required": ["order_id", "quantity"],
    }


def test_rewrites_nullable_const_examples_and_inferred_types() -> None:
    schema = {
        "properties": {
            "note": {"type": ["string", "null"], "examples": ["leave at the door", "ring"]},
            "kind": {"const": "refund"},
            "choice": {"enum": ["a", "b"]},
            "list": {"items": {"type": "integer"}},
            "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        }
    }
    assert to_live_schema(schema) == {
        "type": "OBJECT",
        "properties": {
            "note": {"type": "STRING", "nullable": True, "example": "leave at the door"},
            "kind": {"type": "STRING", "enum": ["refund"]},
            "choice": {"type": "STRING", "enum": ["a", "b"]},
            "list": {"type": "ARRAY", "items": {"type": "INTEGER"}},
            "either": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]},
        },
    }


def test_annotations_and_closed_objects_are_dropped() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:x",
        "$comment": "generated",
        "type": "object",
        "additionalProperties": False,
        "properties": {"a": {"type": "string", "deprecated": True, "readOnly": False}},
    }
    assert to_live_schema(schema) == {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}}


def test_upper_case_types_are_accepted_as_well() -> None:
    assert to_live_schema({"type": "OBJECT", "properties": {"a": {"type": "STRING"}}}) == {
        "type": "OBJECT",
        "properties": {"a": {"type": "STRING"}},
    }


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            {"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}]}}},
            'parameters.properties.a: unsupported JSON Schema keyword "oneOf"',
        ),
        (
            {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}},
            'parameters.properties.a: unsupported JSON Schema keyword "$ref"',
        ),
        (
            {"type": "object", "properties": {"n": {"type": "integer", "exclusiveMinimum": 0}}},
            'parameters.properties.n: unsupported JSON Schema keyword "exclusiveMinimum"',
        ),
        (
            {"type": "object", "additionalProperties": True},
            "parameters.additionalProperties: only false is supported",
        ),
        (
            {"type": "object", "properties": {"n": {"type": "integer", "enum": [1, 2]}}},
            "parameters.properties.n.enum: values must be strings",
        ),
        (
            {"type": "object", "properties": {"l": {"type": "array"}}},
            'parameters.properties.l: an array needs "items"',
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]},
            "parameters.required: names no such property: b",
        ),
        ({"type": "string"}, "parameters: the arguments must be an object"),
        (
            {"type": "object", "properties": {"a": {"type": ["string", "integer"]}}},
            "parameters.properties.a.type: must be one type (optionally with null)",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "date"}}},
            "parameters.properties.a.type: unknown type 'date'",
        ),
        (
            {"type": "object", "properties": {"a": {"description": "what?"}}},
            'parameters.properties.a: needs a "type"',
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string", "maxLength": -1}}},
            "parameters.properties.a.maxLength: must be a whole number >= 0",
        ),
    ],
)
def test_what_live_cannot_express_is_refused_with_its_place(
    schema: dict[str, Any], message: str
) -> None:
    with pytest.raises(SchemaError) as caught:
        to_live_schema(schema)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": ["string", "null"], "examples": ["x"]}}},
        {"properties": {"l": {"items": {"properties": {"x": {"type": "number"}}}}}},
        {"type": "object", "properties": {"e": {"anyOf": [{"type": "string"}, {"const": "x"}]}}},
        {"type": "object", "additionalProperties": False, "required": []},
    ],
)
def test_converted_schemas_validate_as_the_sdk_schema_type(schema: dict[str, Any]) -> None:
    # google-genai's Schema forbids unknown fields: what we send is what Live defines.
    types.Schema.model_validate(to_live_schema(schema))
