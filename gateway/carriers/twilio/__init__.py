"""Twilio as a carrier plug-in: everything twilio-specific; `plugin.py` describes it."""
