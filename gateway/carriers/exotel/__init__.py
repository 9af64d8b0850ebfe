"""Exotel as a carrier plug-in: everything exotel-specific; `plugin.py` describes it."""
