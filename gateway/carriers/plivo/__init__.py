"""Plivo as a carrier plug-in: everything plivo-specific; `plugin.py` describes it."""
