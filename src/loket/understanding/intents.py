"""What a customer can mean, how sure the classifier is, and what the engine may do about it.

The decision rule (documented in docs/intents.md):

- ACT when the top intent's probability reaches its threshold (`CONFIDENT`, or `SENSITIVE_CONFIDENT`
  for intents that read or change money, cards or personal data) *and* it leads the runner-up by
  at least `MARGIN`.
- Otherwise CLARIFY (ask one question offering the top alternatives) when the top probability is
  at least `CLARIFY_FLOOR`: a sensitive intent below its stricter threshold lands here, so the
  engine asks instead of guessing.
- Otherwise show the MENU.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Intent(enum.StrEnum):
    GREETING = "greeting"
    MENU = "menu"
    HELP = "help"
    BALANCE = "balance"
    MUTATIONS = "mutations"
    E_STATEMENT = "e_statement"
    BLOCK_CARD = "block_card"
    OFFICIAL_CHANNEL_CHECK = "official_channel_check"
    SCAM_CHECK = "scam_check"
    EDUCATION = "education"
    PRODUCT_INFO = "product_info"
    POLICY_LOOKUP = "policy_lookup"
    CLAIM_STATUS = "claim_status"
    CLAIM_SUBMIT = "claim_submit"
    SPENDING_INSIGHT = "spending_insight"
    TALK_TO_HUMAN = "talk_to_human"
    COMPLAINT = "complaint"
    COMPLAINT_STATUS = "complaint_status"
    DATA_ACCESS_REQUEST = "data_access_request"
    DATA_ERASURE_REQUEST = "data_erasure_request"
    DATA_CORRECTION_REQUEST = "data_correction_request"
    AUTOMATED_DECISION_OBJECTION = "automated_decision_objection"
    MARKETING_OPT_OUT = "marketing_opt_out"
    LANGUAGE_EN = "language_en"
    LANGUAGE_ID = "language_id"
    CANCEL = "cancel"
    THANKS = "thanks"
    GOODBYE = "goodbye"
    AFFIRM = "affirm"
    DENY = "deny"
    OUT_OF_SCOPE = "out_of_scope"


SENSITIVE: frozenset[Intent] = frozenset(
    {
        Intent.BALANCE,
        Intent.MUTATIONS,
        Intent.E_STATEMENT,
        Intent.BLOCK_CARD,
        Intent.SPENDING_INSIGHT,
        Intent.CLAIM_SUBMIT,
        Intent.DATA_ERASURE_REQUEST,
    }
)

CONFIDENT = 0.55
SENSITIVE_CONFIDENT = 0.75
MARGIN = 0.15
CLARIFY_FLOOR = 0.30


class Decision(enum.StrEnum):
    ACT = "act"
    CLARIFY = "clarify"
    MENU = "menu"


@dataclass(frozen=True, slots=True)
class IntentResult:
    intent: Intent
    confidence: float
    alternatives: tuple[tuple[Intent, float], ...]  # the next most likely, best first
    language_guess: str | None  # "id", "en", or None when the text says nothing either way

    @property
    def runner_up(self) -> float:
        return self.alternatives[0][1] if self.alternatives else 0.0


def is_sensitive(intent: Intent | str) -> bool:
    return intent in SENSITIVE


def threshold(intent: Intent | str) -> float:
    return SENSITIVE_CONFIDENT if is_sensitive(intent) else CONFIDENT


def decide(result: IntentResult) -> Decision:
    if result.confidence >= threshold(result.intent) and result.confidence - result.runner_up >= MARGIN:
        return Decision.ACT
    if result.confidence >= CLARIFY_FLOOR:
        return Decision.CLARIFY
    return Decision.MENU
