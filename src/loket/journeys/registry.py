"""Every journey by name, and which intent and which menu row start which journey."""

from __future__ import annotations

from loket.conversation.journey import Journey
from loket.journeys import (
    balance,
    block_card,
    e_statement,
    education,
    help,
    mutations,
    official_channel,
    policies,
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
}

# Intents a person handles until their journeys exist (complaints, data-subject requests).
TO_A_PERSON: dict[Intent, str] = {
    Intent.TALK_TO_HUMAN: "asked",
    Intent.COMPLAINT: "complaint",
    Intent.COMPLAINT_STATUS: "complaint_status",
    Intent.DATA_ACCESS_REQUEST: "data_request",
    Intent.DATA_ERASURE_REQUEST: "data_request",
}
