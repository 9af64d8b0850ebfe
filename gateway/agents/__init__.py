"""Agent profiles: which agent answers which dialed number, and how (docs/agents.md)."""
