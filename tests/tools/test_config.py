"""Loading the tools file: what it builds, and errors that name the file, the tool and the field."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gateway.core.digits import DigitCollection
from gateway.live.protocol import Scheduling
from gateway.settings import SettingsError, load_settings
from gateway.tools import Toolbox, ToolsFileError, load_toolbox, load_toolbox_from_settings
from gateway.tools.base import Handler, ToolError
from gateway.tools.builtin import Destination, DigitsHandler, TransferHandler
from gateway.tools.http_tool import HttpHandler
from tests.tools.helpers import toolbox

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "tools.toml"

LOOKUP = """
[[tools]]
name = "lookup_order"
kind = "http"
description = "Look up an order"
url = "https://orders.example.com/orders/{order_id}"
{extra}
[tools.parameters]
type = "object"
required = ["order_id"]
[tools.parameters.properties.order_id]
type = "string"
"""


def _handler(box: Toolbox, name: str) -> Handler:
    tool = box.tool(name)
    assert tool is not None
    return tool.handler


def lookup(extra: str = "") -> str:
    return LOOKUP.replace("{extra}", extra)


def test_the_example_file_loads_with_every_kind() -> None:
    box = load_toolbox(EXAMPLE, {"EXAMPLE_BACKEND_TOKEN": "example-token-0123"})
    assert box.names == (
        "lookup_order",
        "find_appointments",
        "book_appointment",
        "business_hours",
        "caller_number",
        "transfer_call",
        "end_call",
    )
    kinds = [spec.kind for name in box.names if (spec := box.spec(name)) is not None]
    assert kinds == ["http", "http", "http", "python", "python", "transfer", "hang_up"]
    declarations = {d.name: d for d in box.declarations()}
    assert declarations["caller_number"].parameters is None
    assert declarations["transfer_call"].parameters == {
        "type": "OBJECT",
        "properties": {
            "destination": {
                "type": "STRING",
                "enum": ["sales", "support"],
                "description": "Where to transfer the caller. sales: new orders, prices, offers; "
                "support: problems with an order.",
            }
        },
        "required": ["destination"],
    }
    assert not any(d.non_blocking for d in declarations.values())


def test_defaults_apply_unless_the_tool_sets_its_own() -> None:
    box = toolbox(
        "[defaults]\ntimeout_s = 3\nmax_result_bytes = 1000\nretries = 3\n"
        + lookup("timeout_s = 1.5\n")
    )
    spec = box.spec("lookup_order")
    assert spec is not None
    assert (spec.timeout_s, spec.max_result_bytes, spec.redact_args) == (1.5, 1000, False)
    handler = _handler(box, "lookup_order")
    assert isinstance(handler, HttpHandler)
    assert (handler.method, handler.args_in, handler.retries, handler.attempts) == (
        "GET",
        "query",
        3,
        4,
    )
    assert handler.headers == {"Accept": "application/json"}


def test_without_settings_the_documented_defaults_hold() -> None:
    spec = toolbox(lookup()).spec("lookup_order")
    assert spec is not None
    assert (spec.timeout_s, spec.max_result_bytes, spec.non_blocking, spec.scheduling) == (
        8.0,
        8192,
        False,
        None,
    )


def test_env_references_in_headers_url_and_destinations_are_resolved_at_load() -> None:
    text = lookup('headers = { Authorization = "Bearer ${ORDERS_TOKEN}", X-Cost = "$$5" }\n')
    text = text.replace("https://orders.example.com", "${ORDERS_URL:-http://127.0.0.1:9}")
    text += """
[[tools]]
name = "transfer"
kind = "transfer"
destinations = { sales = "${SALES_NUMBER}", support = { target = "sip:help@pbx.example.com" } }
"""
    box = toolbox(text, {"ORDERS_TOKEN": "tok-secret-value-1", "SALES_NUMBER": "+15551230100"})
    handler = _handler(box, "lookup_order")
    assert isinstance(handler, HttpHandler)
    assert handler.url == "http://127.0.0.1:9/orders/{order_id}"
    assert handler.headers == {
        "Accept": "application/json",
        "Authorization": "Bearer tok-secret-value-1",
        "X-Cost": "$5",
    }
    assert "tok-secret-value-1" not in repr(handler)
    transfer = _handler(box, "transfer")
    assert transfer == TransferHandler(
        {
            "sales": Destination("+15551230100"),
            "support": Destination("sip:help@pbx.example.com"),
        }
    )


def test_a_missing_env_var_is_named_and_no_value_is_shown() -> None:
    text = lookup('headers = { Authorization = "Bearer ${ORDERS_TOKEN}" }\n')
    with pytest.raises(ToolsFileError) as caught:
        toolbox(text, {"OTHER": "tok-secret-value-1"})
    assert str(caught.value) == (
        'tools.toml: tool "lookup_order": headers.Authorization uses ${ORDERS_TOKEN}, '
        "which is not set in the environment"
    )


def test_non_blocking_and_scheduling_are_kept() -> None:
    box = toolbox(lookup('non_blocking = true\nscheduling = "when_idle"\n'))
    spec = box.spec("lookup_order")
    assert spec is not None
    assert (spec.non_blocking, spec.scheduling) == (True, Scheduling.WHEN_IDLE)
    assert box.declarations()[0].non_blocking is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (lookup("timeout_s = 0\n"), 'tool "lookup_order": timeout_s must be > 0'),
        (lookup("timeout_s = 301\n"), 'tool "lookup_order": timeout_s must be at most 300'),
        (lookup('timeout_s = "5"\n'), 'tool "lookup_order": timeout_s must be a number'),
        (lookup("timout_s = 5\n"), "tool \"lookup_order\": unknown field 'timout_s' for kind"),
        (
            lookup("max_result_bytes = 10\n"),
            'tool "lookup_order": max_result_bytes must be between 256 and 1048576',
        ),
        (lookup('method = "FETCH"\n'), 'tool "lookup_order": method must be one of DELETE, GET'),
        (
            lookup('method = "POST"\nretries = 2\n'),
            'tool "lookup_order": retries only apply to idempotent methods, not POST',
        ),
        (
            lookup('args_in = "json"\n'),
            'tool "lookup_order": args_in = "json" needs a method with a body, not GET',
        ),
        (lookup('args_in = "form"\n'), 'tool "lookup_order": args_in must be "json" or "query"'),
        (
            lookup('scheduling = "INTERRUPT"\n'),
            'tool "lookup_order": scheduling only applies to a non_blocking tool',
        ),
        (
            lookup('non_blocking = true\nscheduling = "LATER"\n'),
            'tool "lookup_order": scheduling must be one of INTERRUPT, WHEN_IDLE, SILENT',
        ),
        (lookup("redact_args = 1\n"), 'tool "lookup_order": redact_args must be true or false'),
        (
            lookup('headers = { "Bad Name" = "x" }\n'),
            "tool \"lookup_order\": headers: 'Bad Name' is not a valid header name",
        ),
        (
            lookup().replace("https://orders.example.com", "ftp://x"),
            'tool "lookup_order": url must be an http:// or https:// URL with a host',
        ),
        (
            lookup().replace("{order_id}", "{order_ref}"),
            'tool "lookup_order": url uses {order_ref}, which must be a required parameter',
        ),
        (
            lookup().replace('required = ["order_id"]', "required = []"),
            'tool "lookup_order": url uses {order_id}, which must be a required parameter',
        ),
        (
            lookup().replace('type = "string"', 'type = "string"\noneOf = []'),
            'tool "lookup_order": parameters.properties.order_id: unsupported JSON Schema '
            'keyword "oneOf"',
        ),
        (lookup().replace('kind = "http"', 'kind = "ftp"'), 'tool "lookup_order": kind must be'),
        (
            lookup().replace('name = "lookup_order"', 'name = "lookup order"'),
            "tool \"lookup order\": name: invalid tool name 'lookup order'",
        ),
        (lookup() + lookup(), 'tool "lookup_order": another tool has the same name'),
        (
            lookup().replace('description = "Look up an order"\n', ""),
            'tool "lookup_order": description is required',
        ),
        ('[[tools]]\nkind = "hang_up"\n', "tools[0]: name is required"),
        (
            '[[tools]]\nname = "x"\nkind = "python"\nfunction = "nowhere"\ndescription = "d"\n',
            'tool "x": function: must be "package.module:function"',
        ),
        (
            '[[tools]]\nname = "x"\nkind = "python"\ndescription = "d"\n'
            'function = "gateway.nonexistent_module:f"\n',
            'tool "x": function: cannot import gateway.nonexistent_module (ModuleNotFoundError',
        ),
        (
            '[[tools]]\nname = "x"\nkind = "python"\ndescription = "d"\n'
            'function = "gateway.examples.tools:no_such_function"\n',
            'tool "x": function: gateway.examples.tools has no no_such_function',
        ),
        (
            '[[tools]]\nname = "x"\nkind = "python"\ndescription = "d"\n'
            'function = "gateway.examples.tools:OPENING_HOURS"\n',
            'tool "x": function: gateway.examples.tools:OPENING_HOURS is not callable',
        ),
        (
            '[[tools]]\nname = "x"\nkind = "python"\ndescription = "d"\n'
            'function = "gateway.examples.tools:business_hours"\n'
            '[tools.parameters.properties.context]\ntype = "string"\n',
            'tool "x": parameters.properties.context: the name is reserved',
        ),
        (
            '[[tools]]\nname = "t"\nkind = "transfer"\n',
            'tool "t": destinations must be a table of name = number or sip: URI',
        ),
        (
            '[[tools]]\nname = "t"\nkind = "transfer"\ndestinations = { sales = "555-1234" }\n',
            'tool "t": destinations.sales must be an E.164 number (+15551234567) or a sip: URI',
        ),
        (
            '[[tools]]\nname = "t"\nkind = "transfer"\ndestinations = { "a b" = "+15551234567" }\n',
            'tool "t": destinations.a b: names are letters, digits',
        ),
        (
            '[[tools]]\nname = "t"\nkind = "transfer"\n'
            'destinations = { s = { target = "+15551234567", number = "x" } }\n',
            "tool \"t\": destinations.s: unknown field 'number'",
        ),
        (
            '[[tools]]\nname = "t"\nkind = "transfer"\ndestinations = { s = "+15551234567" }\n'
            '[tools.parameters]\ntype = "object"\n',
            "tool \"t\": unknown field 'parameters' for kind 'transfer'",
        ),
        ("[tool]\nname = 1\n", "unknown top-level field 'tool'"),
        ("[defaults]\nmethod = 'GET'\n", "defaults: unknown field 'method'"),
        ("tools = 3\n", "tools must be an array of tables ([[tools]])"),
    ],
)
def test_errors_name_the_tool_and_the_field(text: str, message: str) -> None:
    with pytest.raises(ToolsFileError) as caught:
        toolbox(text)
    assert str(caught.value).startswith(f"tools.toml: {message}")


def test_built_ins_get_a_description_of_their_own() -> None:
    box = toolbox('[[tools]]\nname = "bye"\nkind = "hang_up"\n')
    (declaration,) = box.declarations()
    assert declaration.description.startswith("End the phone call.")
    assert declaration.parameters is None


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ToolsFileError, match="cannot be read"):
        load_toolbox(tmp_path / "missing.toml", {})
    bad = tmp_path / "tools.toml"
    bad.write_text('[[tools]]\nname = "x\n')
    with pytest.raises(ToolsFileError, match=r"^tools.toml: not valid TOML"):
        load_toolbox(bad, {})


def test_an_empty_file_is_an_empty_toolbox(tmp_path: Path) -> None:
    path = tmp_path / "tools.toml"
    path.write_text("# no tools yet\n")
    box = load_toolbox(path, {})
    assert (box.names, box.declarations()) == ((), ())


def test_from_settings_reads_the_file_and_env_over_dotenv(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=None)
    assert settings.tools_file is None
    assert load_toolbox_from_settings(settings, {}) is None
    dotenv = tmp_path / ".env"
    dotenv.write_text("EXAMPLE_BACKEND_TOKEN=from-dotenv-0123\nSALES_NUMBER=+15550000001\n")
    settings = load_settings({"GATEWAY_TOOLS_FILE": str(EXAMPLE)}, env_file=None)
    assert settings.tools_file == EXAMPLE
    box = load_toolbox_from_settings(settings, {"SALES_NUMBER": "+15550000002"}, dotenv)
    assert box is not None
    handler = _handler(box, "lookup_order")
    assert isinstance(handler, HttpHandler)
    assert handler.headers["Authorization"] == "Bearer from-dotenv-0123"
    transfer = _handler(box, "transfer_call")
    assert isinstance(transfer, TransferHandler)
    assert transfer.destinations["sales"].target == "+15550000002"


def test_from_settings_refuses_non_blocking_tools_for_3x_models(tmp_path: Path) -> None:
    path = tmp_path / "tools.toml"
    path.write_text(lookup("non_blocking = true\n"))
    env = {"GATEWAY_TOOLS_FILE": str(path), "GATEWAY_MODEL": "gemini-3.1-flash-live-preview"}
    settings = load_settings(env, env_file=None)
    with pytest.raises(ToolsFileError) as caught:
        load_toolbox_from_settings(settings, {}, None)
    assert str(caught.value) == (
        'tools.toml: tool "lookup_order": non_blocking is not supported by 3.x Live models '
        "(models/gemini-3.1-flash-live-preview)"
    )
    settings = dataclasses.replace(settings, live=dataclasses.replace(settings.live, model="x"))
    assert load_toolbox_from_settings(settings, {}, None) is not None


def test_settings_refuse_a_tools_file_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="GATEWAY_TOOLS_FILE is not a file"):
        load_settings({"GATEWAY_TOOLS_FILE": str(tmp_path / "nope.toml")}, env_file=None)


def test_the_docs_example_loads() -> None:
    text = (REPO / "docs" / "tools.md").read_text()
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    box = toolbox(example, {"EXAMPLE_BACKEND_TOKEN": "docs-token-0123"})
    assert box.names == (
        "lookup_order",
        "book_appointment",
        "business_hours",
        "transfer_call",
        "end_call",
    )


def test_collect_digits_tools_are_read_into_what_the_bridge_gathers() -> None:
    box = toolbox(
        '[[tools]]\nname = "pin"\nkind = "collect_digits"\nmax_digits = 6\nredact = true\n'
        "inter_digit_timeout_s = 3\n"
        '[[tools]]\nname = "account"\nkind = "collect_digits"\nend_key = "none"\n'
        '[[tools]]\nname = "bye"\nkind = "hang_up"\n'
    )
    assert box.digit_collections(["pin", "account", "bye"]) == (
        DigitCollection("pin", 6, "#", 15_000.0, 3_000.0, redact=True),
        DigitCollection("account", 16, "", 15_000.0, 5_000.0, redact=False),
    )
    assert box.digit_collections(["bye"]) == ()
    pin = next(d for d in box.declarations() if d.name == "pin")
    assert pin.description.startswith("Collect digits the caller types on the phone keypad")
    assert pin.parameters is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ('end_key = "0"', 'end_key must be "#", "*" or "none"'),
        ("max_digits = 0", "max_digits must be between 1 and 64"),
        ("inter_digit_timeout_s = 0", "inter_digit_timeout_s must be > 0"),
        ('method = "GET"', "unknown field 'method' for kind 'collect_digits'"),
    ],
)
def test_collect_digits_errors(fields: str, message: str) -> None:
    with pytest.raises(ToolsFileError) as caught:
        toolbox(f'[[tools]]\nname = "pin"\nkind = "collect_digits"\n{fields}\n')
    assert str(caught.value) == f'tools.toml: tool "pin": {message}'


async def test_collect_digits_run_outside_a_call_is_an_error_for_the_model() -> None:
    box = toolbox('[[tools]]\nname = "pin"\nkind = "collect_digits"\n')
    handler = _handler(box, "pin")
    assert isinstance(handler, DigitsHandler)
    with pytest.raises(ToolError, match="only possible during a phone call"):
        await handler.invoke({}, None)  # type: ignore[arg-type]
