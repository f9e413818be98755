"""Typed failures of staff identity; the web layer maps each to one HTTP status."""

from __future__ import annotations


class StaffError(Exception):
    """Base class; the message is safe to show to the person who made the request."""


class InvalidCredentials(StaffError):
    """Unknown account, wrong password, disabled account: one message, so none can be told apart."""

    def __init__(self) -> None:
        super().__init__("invalid email or password")


class Throttled(StaffError):
    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = max(1, retry_after_seconds)
        super().__init__(f"too many attempts; try again in {self.retry_after_seconds} seconds")


class SessionInvalid(StaffError):
    """No session, or one that is expired, revoked or unknown: sign in again."""

    def __init__(self, message: str = "not signed in, or the session has ended: sign in again") -> None:
        super().__init__(message)


class WrongStep(StaffError):
    """The session is at another step of signing in (e.g. TOTP still to do)."""


class InvalidCode(StaffError):
    def __init__(self) -> None:
        super().__init__("invalid or already used code")


class Forbidden(StaffError):
    pass


class NotFound(StaffError):
    pass


class Conflict(StaffError):
    pass


class InvalidRequest(StaffError):
    """Well-formed but not acceptable input: the message says what to change."""


class InvalidApiKey(StaffError):
    def __init__(self) -> None:
        super().__init__("invalid, expired or revoked API key, or one without the needed scope")
