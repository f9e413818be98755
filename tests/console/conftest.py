"""Fixtures of the console tests; the harness itself lives in `console_harness`."""

from __future__ import annotations

from console_harness import console_world

__all__ = ["console_world"]
