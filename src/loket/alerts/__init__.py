"""Alerts and notices for customers: composition and preferences (domain code, no I/O)."""
