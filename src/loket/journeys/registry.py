"""Every journey by name, and which intent and which menu row start which journey."""

from __future__ import annotations

from loket.conversation.journey import Journey
from loket.journeys import (
    balance,
    block_card,
    complaint,
    e_statement,
    education,
    help,
    mutations,
    official_channel,
    policies,
    privacy,
    products,
    scam_check,
    spending,
)
from loket.understanding import Intent

JOURNEYS: dict[str, Journey] = {
    journey.name: journey
    for journey in (
        balance.JOURNEY,
        mutations.JOURNEY,
        e_statement.JOURNEY,
        block_card.JOURNEY,
        spending.JOURNEY,
        official_channel.JOURNEY,
        scam_check.JOURNEY,
        education.JOURNEY,
        products.JOURNEY,
        policies.POLICIES,
        policies.CLAIMS,
        help.HELP,
        help.SECURITY,
        # data-subject requests under UU PDP (loket.privacy)
        privacy.ACCESS,
        privacy.ERASURE,
        privacy.VERIFIED,
        privacy.CORRECTION,
        privacy.OBJECTION,
        privacy.CONSENT,
        # complaints (pengaduan, loket.complaints)
        complaint.JOURNEY,
        complaint.STATUS,
    )
}

BY_INTENT: dict[Intent, str] = {
    Intent.BALANCE: "balance",
    Intent.MUTATIONS: "mutations",
    Intent.E_STATEMENT: "e_statement",
    Intent.BLOCK_CARD: "block_card",
    Intent.SPENDING_INSIGHT: "spending",
    Intent.OFFICIAL_CHANNEL_CHECK: "official_channel",
    Intent.SCAM_CHECK: "scam_check",
    Intent.EDUCATION: "education",
    Intent.PRODUCT_INFO: "products",
    Intent.POLICY_LOOKUP: "policies",
    Intent.CLAIM_STATUS: "claims",
    Intent.CLAIM_SUBMIT: "claims",
    Intent.HELP: "help",
    Intent.DATA_ACCESS_REQUEST: "privacy_access",
    Intent.DATA_ERASURE_REQUEST: "privacy_erasure",
    Intent.DATA_CORRECTION_REQUEST: "privacy_correction",
    Intent.AUTOMATED_DECISION_OBJECTION: "privacy_objection",
    Intent.MARKETING_OPT_OUT: "privacy_consent",
    Intent.COMPLAINT: "complaint",
    Intent.COMPLAINT_STATUS: "complaint_status",
}

# Intents a person handles.
TO_A_PERSON: dict[Intent, str] = {
    Intent.TALK_TO_HUMAN: "asked",
}
