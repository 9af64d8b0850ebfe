from __future__ import annotations

import pytest

from gateway.outbound.template import fill, placeholders


def test_placeholders_are_lower_case_identifiers_in_braces() -> None:
    texts = ["Call {customer_name} about {day}.", None, 'JSON {"a": 1} and {{escaped}} {Not}']
    assert placeholders(texts) == {"customer_name", "day"}


def test_fill_replaces_each_and_leaves_other_braces() -> None:
    text = 'Hi {name}, {name}! {"x": 1} {{name}}'
    assert fill(text, {"name": "Ada"}) == 'Hi Ada, Ada! {"x": 1} {{name}}'


def test_a_value_is_not_read_as_a_template_again() -> None:
    assert fill("{a}", {"a": "{b}"}) == "{b}"


def test_a_missing_value_raises_naming_it() -> None:
    with pytest.raises(KeyError, match="day"):
        fill("{day}", {})
