"""Outbound: the outbox, pacing, the dispatcher, and delivery statuses."""
