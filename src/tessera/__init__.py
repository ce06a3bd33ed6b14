"""Tessera: privacy-first case management and data collaboration against human trafficking."""

__version__ = "0.1.0"
