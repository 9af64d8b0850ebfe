"""Telephony gateway: carrier media streams to a Gemini Live voice agent."""

__version__ = "0.1.0"
