"""Examples for the docs and the tests: a small business backend (`backend`) and Python tools
(`tools`) that `docs/examples/tools.toml` declares. Nothing here needs more than the gateway's
own dependencies."""
