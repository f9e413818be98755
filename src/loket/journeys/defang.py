"""Links the bot must not make clickable: a lookalike domain the customer asked about, a merchant's
web address in a transaction description. Written the way security people write them
("bank-nusantara-promo[.]com"), so WhatsApp shows no link and the policy gate, which refuses links
outside the institution's domains, lets the answer through."""

from __future__ import annotations

from collections.abc import Iterable

from loket.understanding import find_links


def defang(host: str) -> str:
    return host.replace(".", "[.]")


def owned(host: str, domains: Iterable[str]) -> bool:
    host = host.casefold().removeprefix("www.")
    return any(host == d or host.endswith("." + d) for d in (str(d).casefold().removeprefix("www.") for d in domains))


def defang_text(text: str, keep: Iterable[str] = ()) -> str:
    """`text` with every link outside the domains in `keep` defanged."""
    kept = list(keep)
    out, last = [], 0
    for link in find_links(text):
        if owned(link.host, kept):
            continue
        start, end = link.span
        out.append(text[last:start])
        out.append(defang(text[start:end].replace("://", "[://]")))
        last = end
    out.append(text[last:])
    return "".join(out)
