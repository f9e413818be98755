"""Loket: a regulated service counter on WhatsApp."""

__version__ = "0.1.0"
