"""Outbound calls (pure): the dial-out request, its placeholders, its status (docs/outbound.md).

The shell's `gateway.shell.dial_api` serves `POST /calls` and `GET /calls/{id}` over these;
each carrier's REST request builder is its `Dialer` (`gateway.carriers.dial`).
"""
