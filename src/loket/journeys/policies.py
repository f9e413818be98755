"""Policy summary for insurance customers."""

from __future__ import annotations

from babel.dates import format_date

from loket.channel.outgoing import Text
from loket.conversation.turn import Turn
from loket.core.port import CorePort
from loket.i18n.catalog import t


async def policies(core: CorePort, turn: Turn) -> list[Text]:
    assert turn.customer is not None
    language = turn.language
    found = await core.list_policies(turn.tenant.tenant_id, turn.customer.customer_id)
    if not found:
        return [Text(body=t(language, "policies.none"))]
    locale = "id_ID" if language == "id" else "en_GB"
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
                end=format_date(policy.end_date, "d MMM yyyy", locale=locale),
            )
        )
    return [Text(body="\n\n".join(lines))]
