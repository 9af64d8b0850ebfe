"""The Gemini Live protocol layer: setup builder, server-message parser, client-message encoder,
close classification and endpoints. Pure: no I/O, no asyncio, no clock."""
