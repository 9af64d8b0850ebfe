"""Carrier translators: one wire dialect each, behind the `CarrierTranslator` protocol."""
