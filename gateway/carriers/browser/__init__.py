"""The web softphone as a carrier: a browser tab calling the gateway (docs/softphone.md)."""
