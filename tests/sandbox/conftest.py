"""Fixtures for the sandbox tests; the harness itself lives in `sandbox_harness`."""

from __future__ import annotations

from sandbox_harness import clock, receiver, sandbox, sandbox_overrides

__all__ = ["clock", "receiver", "sandbox", "sandbox_overrides"]
