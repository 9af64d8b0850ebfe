"""Signalwire as a carrier plug-in: everything signalwire-specific; `plugin.py` describes it."""
