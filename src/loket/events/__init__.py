"""The events API for institution systems, and what the events drive."""
