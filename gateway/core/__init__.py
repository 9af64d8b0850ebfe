"""Decisions: the pure, clock-free call bridge and its vocabulary (see events.py)."""
