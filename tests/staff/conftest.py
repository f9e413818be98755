"""Fixtures for the staff tests; the harness itself lives in `staff_harness`."""

from __future__ import annotations

from staff_harness import world

__all__ = ["world"]
