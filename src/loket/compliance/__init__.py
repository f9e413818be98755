"""Regulatory building blocks: Indonesian time zones, the holiday calendar and contact hours.

REQ ids in comments refer to docs/reference ojk-compliance.md (shared reference notes).
"""
