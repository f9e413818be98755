"""Which alerts a customer wants, and how: now, in the daily digest, or not at all.

Customers choose a minimum amount, the kinds they want, and a threshold below which transactions
are gathered into one quiet daily digest instead of a message each. Security-relevant alerts (a
card blocked, frozen or replaced) and confirmation requests are never filtered.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

KINDS = ("transaction", "balance", "card", "notice", "loan", "claim")
DEFAULT_KINDS = frozenset(KINDS) - {"balance"}  # a balance alert after every transaction is noise
ALWAYS_SENT = frozenset({("card", "blocked"), ("card", "frozen"), ("card", "replaced")})


class Route(enum.StrEnum):
    SEND = "send"
    DIGEST = "digest"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class AlertPreferences:
    min_amount: int = 0  # transactions below this are not alerted at all
    kinds: frozenset[str] | None = None  # None: DEFAULT_KINDS
    digest_below: int = 0  # transactions below this go to the daily digest

    def __post_init__(self) -> None:
        if self.min_amount < 0 or self.digest_below < 0:
            raise ValueError("amounts in alert preferences cannot be negative")
        unknown = (self.kinds or frozenset()) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown alert kinds: {', '.join(sorted(unknown))}")

    @property
    def wanted(self) -> frozenset[str]:
        return DEFAULT_KINDS if self.kinds is None else self.kinds


def route(prefs: AlertPreferences, kind: str, *, amount: int | None = None, status: str | None = None) -> Route:
    if (kind, status) in ALWAYS_SENT:
        return Route.SEND
    if kind not in prefs.wanted:
        return Route.SKIP
    if amount is not None:
        if amount < prefs.min_amount:
            return Route.SKIP
        if amount < prefs.digest_below:
            return Route.DIGEST
    return Route.SEND
