"""Understanding customer text: intents, entities and the language a customer writes in.

Pure domain code: no web framework, database or network. The classifier is trained from the
labelled examples shipped in `data/train.tsv` on first use (see docs/intents.md).
"""

from __future__ import annotations

from loket.understanding.amounts import Amount, find_amounts
from loket.understanding.entities import (
    AccountRef,
    Entities,
    Link,
    Phone,
    Ticket,
    extract,
    find_accounts,
    find_links,
    find_phones,
    find_tickets,
)
from loket.understanding.intents import (
    CLARIFY_FLOOR,
    CONFIDENT,
    MARGIN,
    SENSITIVE,
    SENSITIVE_CONFIDENT,
    Decision,
    Intent,
    IntentResult,
    decide,
    is_sensitive,
)
from loket.understanding.language import guess_language
from loket.understanding.model import IntentModel, classify, default_model
from loket.understanding.normalise import normalise
from loket.understanding.periods import Period, find_period, find_periods

__all__ = [
    "CLARIFY_FLOOR",
    "CONFIDENT",
    "MARGIN",
    "SENSITIVE",
    "SENSITIVE_CONFIDENT",
    "AccountRef",
    "Amount",
    "Decision",
    "Entities",
    "Intent",
    "IntentModel",
    "IntentResult",
    "Link",
    "Period",
    "Phone",
    "Ticket",
    "classify",
    "decide",
    "default_model",
    "extract",
    "find_accounts",
    "find_amounts",
    "find_links",
    "find_period",
    "find_periods",
    "find_phones",
    "find_tickets",
    "guess_language",
    "is_sensitive",
    "normalise",
]
