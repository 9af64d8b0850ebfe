"""Telnyx as a carrier plug-in: everything telnyx-specific; `plugin.py` describes it."""
