"""A toy carrier, registered from the test suite alone: a tiny JSON-over-WebSocket dialect.

It proves the plug-in seam: `plugin.TOY` (this folder's descriptor) gets routes, a simulated
call and an end-to-end call with no edit outside this folder (tests/carriers/test_toy.py).
"""
