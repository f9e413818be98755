"""Insurer customers: their policies, and where their claims are. Filing a claim is a later issue:
the bot says how to file one today."""

from __future__ import annotations

import re
from typing import Any

from babel.dates import format_date

from loket.channel.outgoing import Text
from loket.conversation.journey import Context, Given, Outcome
from loket.conversation.turn import Turn
from loket.core.port import CorePort
from loket.i18n.catalog import t
from loket.i18n.formatting import rupiah

_CLAIM_ID = re.compile(r"\bCLM[\s-]?(\d{4,12})\b", re.IGNORECASE)


def _locale(language: str) -> str:
    return "id_ID" if language == "id" else "en_GB"


async def policies(core: CorePort, turn: Turn) -> list[Text]:
    assert turn.customer is not None
    language = turn.language
    found = await core.list_policies(turn.tenant.tenant_id, turn.customer.customer_id)
    if not found:
        return [Text(body=t(language, "policies.none"))]
    lines = [t(language, "policies.header")]
    for policy in found:
        status_key = "policies.status_active" if policy.status == "active" else "policies.status_lapsed"
        lines.append(
            t(
                language,
                "policies.line",
                product=policy.product_name,
                number=policy.policy_number,
                object=policy.insured_object,
                status=t(language, status_key),
                end=format_date(policy.end_date, "d MMM yyyy", locale=_locale(language)),
            )
        )
    return [Text(body="\n\n".join(lines))]


class PoliciesJourney:
    name = "policies"
    kinds = frozenset({"insurer"})
    needs_customer = True
    step_up = False

    async def start(self, ctx: Context, given: Given) -> Outcome:
        return Outcome(list(await policies(ctx.core, ctx.turn)))

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        return await self.start(ctx, given)


class ClaimsJourney:
    name = "claims"
    kinds = frozenset({"insurer"})
    needs_customer = True
    step_up = False

    async def start(self, ctx: Context, given: Given) -> Outcome:
        language = ctx.language
        found = await ctx.core.list_policies(ctx.tenant.tenant_id, ctx.customer.customer_id)
        claims = [(policy, claim) for policy in found for claim in policy.claims]
        wanted = {"CLM" + m.group(1) for m in _CLAIM_ID.finditer(given.text or "")}
        if wanted:
            claims = [(p, c) for p, c in claims if c.claim_id.upper() in wanted] or claims
        parts: list[str] = []
        if given.intent is not None and given.intent.value == "claim_submit":
            parts.append(
                t(language, "claims.submit", call_centre=ctx.tenant.call_centre, institution=ctx.tenant.display_name)
            )
        if not claims:
            parts.append(t(language, "claims.none"))
            return Outcome([Text(body="\n\n".join(parts))])
        parts.append(t(language, "claims.header"))
        for policy, claim in sorted(claims, key=lambda pair: pair[1].submitted_on, reverse=True):
            approved = rupiah(claim.amount_approved) if claim.amount_approved is not None else "-"
            parts.append(
                t(
                    language,
                    "claims.line",
                    claim=claim.claim_id,
                    product=policy.product_name,
                    description=claim.description,
                    submitted=format_date(claim.submitted_on, "d MMM yyyy", locale=_locale(language)),
                    status=t(language, f"claims.status.{claim.status}"),
                    claimed=rupiah(claim.amount_claimed),
                    approved=approved,
                )
            )
        return Outcome([Text(body="\n\n".join(parts))])

    async def advance(self, ctx: Context, step: str, data: dict[str, Any], given: Given) -> Outcome:
        return await self.start(ctx, given)


POLICIES = PoliciesJourney()
CLAIMS = ClaimsJourney()
