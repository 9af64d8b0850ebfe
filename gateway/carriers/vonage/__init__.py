"""Vonage as a carrier plug-in: everything vonage-specific; `plugin.py` describes it."""
