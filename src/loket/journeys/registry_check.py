"""Is a number, site, e-mail address or social account the institution's? Answered from the tenant's
registry of official channels; lookalikes (the brand inside another domain, one or two letters off,
digits for letters) are called out as such.

Pure: the registry is the `official_channels` document of the tenant row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from loket.understanding import Entities

OFFICIAL = "official"
LOOKALIKE = "lookalike"
UNKNOWN = "unknown"

SOCIAL_HOSTS: dict[str, str] = {
    "instagram.com": "instagram",
    "x.com": "x",
    "twitter.com": "x",
    "facebook.com": "facebook",
    "fb.com": "facebook",
    "tiktok.com": "tiktok",
    "youtube.com": "youtube",
    "t.me": "telegram",
}
# Two-level public suffixes our customers meet; the registrable domain is one label more.
_SECOND_LEVEL = frozenset(
    {"co.id", "or.id", "ac.id", "go.id", "web.id", "my.id", "biz.id", "sch.id", "co.uk", "com.sg", "com.my"}
)
_HANDLE = re.compile(r"(?<![\w@.])@([A-Za-z0-9_.]{3,30})\b")
_SHORT_CODE = re.compile(r"(?<![\d+])(1[45]\d{3,5})(?!\d)")
_LEET = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "$": "s"})


@dataclass(frozen=True, slots=True)
class Check:
    kind: str  # number, site, email, social
    value: str  # as the customer wrote it (a number in E.164)
    verdict: str  # official, lookalike, unknown
    what: str = ""  # for official ones: whatsapp, call_centre, web, email, or the social platform


@dataclass(frozen=True, slots=True)
class Registry:
    numbers: Mapping[str, str]  # digits -> whatsapp | call_centre
    domains: frozenset[str]
    email_domains: frozenset[str]
    socials: frozenset[tuple[str, str]]  # (platform, handle lower-case)
    brands: frozenset[str]  # compact brand names: "banknusantara"

    @classmethod
    def of(cls, official: Mapping[str, Any], display_name: str) -> Registry:
        numbers: dict[str, str] = {}
        for key, what in (("whatsapp_numbers", "whatsapp"), ("call_centre_numbers", "call_centre")):
            for number in official.get(key) or ():
                numbers[_digits(str(number))] = what
        domains = frozenset(str(d).casefold().removeprefix("www.") for d in official.get("web_domains") or ())
        emails = frozenset(str(d).casefold() for d in official.get("email_domains") or ())
        socials = frozenset(filter(None, (_social(str(url)) for url in official.get("social_accounts") or ())))
        brands = {_compact(display_name)} | {_compact(registrable(d).split(".")[0]) for d in domains | emails}
        return cls(numbers, domains, emails, socials, frozenset(b for b in brands if len(b) >= 5))


def _digits(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    return "62" + digits[1:] if digits.startswith("0") else digits


def _compact(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def registrable(host: str) -> str:
    labels = host.casefold().strip(".").split(".")
    keep = 3 if ".".join(labels[-2:]) in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def _social(url: str) -> tuple[str, str] | None:
    parts = urlsplit(url if "://" in url else "https://" + url)
    platform = SOCIAL_HOSTS.get((parts.hostname or "").casefold().removeprefix("www.").removeprefix("m."))
    handle = parts.path.strip("/").split("/")[0].removeprefix("@").casefold() if parts.path else ""
    return (platform, handle) if platform and handle else None


def _distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def resembles(registry: Registry, text: str) -> bool:
    """Whether a name that is not official looks like the brand: contains it, or is one or two edits away."""
    compact = _compact(text.translate(_LEET))
    for brand in registry.brands:
        if brand in compact:
            return True
        if abs(len(compact) - len(brand)) <= 2 and _distance(compact, brand) <= 2:
            return True
    return False


def check_host(registry: Registry, host: str, *, email: bool = False) -> str:
    host = host.casefold().removeprefix("www.")
    owned = registry.email_domains if email else registry.domains | registry.email_domains
    if any(host == domain or host.endswith("." + domain) for domain in owned):
        return OFFICIAL
    labels = registrable(host).split(".")[0]
    if resembles(registry, host) or resembles(registry, labels):
        return LOOKALIKE
    return UNKNOWN


def check_number(registry: Registry, e164_or_digits: str) -> tuple[str, str]:
    what = registry.numbers.get(_digits(e164_or_digits))
    return (OFFICIAL, what) if what else (UNKNOWN, "")


def _socials_in(registry: Registry, text: str, links: Iterable[tuple[str, str]]) -> list[Check]:
    found: list[Check] = []
    for url, _host in links:
        social = _social(url)
        if social is None:
            continue
        platform, handle = social
        verdict = OFFICIAL if social in registry.socials else LOOKALIKE if resembles(registry, handle) else UNKNOWN
        found.append(Check("social", f"{platform}: @{handle}", verdict, platform if verdict == OFFICIAL else ""))
    for match in _HANDLE.finditer(text):
        handle = match.group(1).casefold().rstrip(".")
        platforms = sorted(p for p, h in registry.socials if h == handle)
        if platforms:
            found.append(Check("social", "@" + handle, OFFICIAL, ", ".join(platforms)))
        else:
            found.append(Check("social", "@" + handle, LOOKALIKE if resembles(registry, handle) else UNKNOWN))
    return found


def check_text(registry: Registry, text: str, entities: Entities) -> list[Check]:
    """Every number, site, e-mail address and social account in `text`, checked; in order of kind."""
    checks: list[Check] = []
    seen: set[str] = set()
    for phone in entities.phones:
        if phone.e164 not in seen:
            seen.add(phone.e164)
            verdict, what = check_number(registry, phone.e164)
            checks.append(Check("number", phone.e164, verdict, what))
    for match in _SHORT_CODE.finditer(text):
        verdict, what = check_number(registry, match.group(1))
        if match.group(1) not in seen:
            seen.add(match.group(1))
            checks.append(Check("number", match.group(1), verdict, what))
    social_links = []
    for link in entities.links:
        if link.host in seen:
            continue
        seen.add(link.host)
        if _social(link.url) is not None:
            social_links.append((link.url, link.host))
            continue
        email = "@" in link.url and "://" not in link.url
        verdict = check_host(registry, link.host, email=email)
        checks.append(
            Check(
                "email" if email else "site",
                link.url if email else link.host,
                verdict,
                "web" if verdict == OFFICIAL else "",
            )
        )
    outside_links = list(text)
    for link in entities.links:
        outside_links[link.span[0] : link.span[1]] = " " * (link.span[1] - link.span[0])
    checks.extend(_socials_in(registry, "".join(outside_links), social_links))
    return checks
