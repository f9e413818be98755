"""Outbound content checks (SCM-1, SCM-2): no request for a secret, links only to allow-listed
domains, no executable attachments. Also turns a Cloud API payload into the facts these need.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from loket.outbound.policy_rules import Rule
from loket.outbound.policy_secrets import asks_for_secret


class PolicyInputError(ValueError):
    """The caller's facts are incomplete or contradictory; the message says which."""


@dataclass(frozen=True, slots=True)
class TemplateFacts:
    """The template as Meta knows it (from the template store, not from the payload)."""

    name: str
    category: str  # MARKETING, UTILITY or AUTHENTICATION
    status: str  # APPROVED, PENDING, REJECTED, PAUSED, DISABLED...

    @property
    def approved(self) -> bool:
        return self.status.upper() == "APPROVED"

    @property
    def marketing(self) -> bool:
        return self.category.upper() == "MARKETING"


@dataclass(frozen=True, slots=True)
class OutgoingContent:
    """What the customer will see: free-form when `template` is None."""

    template: TemplateFacts | None = None
    texts: tuple[str, ...] = ()  # every customer-visible string: body, captions, buttons, parameters
    urls: tuple[str, ...] = ()  # explicit link fields (a CTA button's URL)
    attachment_filename: str | None = None
    attachment_mime: str | None = None

    @property
    def free_form(self) -> bool:
        return self.template is None

    @classmethod
    def from_payload(
        cls,
        payload: Mapping[str, Any],
        *,
        template: TemplateFacts | None = None,
        attachment_mime: str | None = None,
    ) -> OutgoingContent:
        """From the `type` + type-object part of a send body (`Message.to_payload()` or an outbox row)."""
        kind = payload.get("type")
        if kind == "template":
            if template is None:
                raise PolicyInputError("a template payload needs the template's facts (category and status)")
            name = payload.get("template", {}).get("name")
            if name != template.name:
                raise PolicyInputError("the template facts describe a different template than the payload")
        elif template is not None:
            raise PolicyInputError("template facts were given for a free-form payload")
        texts: list[str] = []
        urls: list[str] = []
        filenames: list[str] = []
        linked: list[str] = []
        for key, value in _strings(payload):
            if key == "url":
                urls.append(value)
            elif key == "filename":
                filenames.append(value)
            elif key == "link":  # media Meta fetches: its path names the file the customer gets
                linked.append(urlsplit(value).path.rsplit("/", 1)[-1])
            elif key not in _NOT_SHOWN:
                texts.append(value)
        return cls(
            template=template,
            texts=tuple(texts),
            urls=tuple(urls),
            attachment_filename=next((name for name in (*filenames, *linked) if name), None),
            attachment_mime=attachment_mime,
        )


# Payload keys whose values the customer never sees as text (ids, codes, machine fields).
_NOT_SHOWN = frozenset(
    {
        "type",
        "id",
        "media_id",
        "message_id",
        "name",
        "code",
        "language",
        "policy",
        "sub_type",
        "index",
        "payload",
        "flow_id",
        "flow_name",
        "flow_token",
        "flow_action",
        "flow_message_version",
        "screen",
        "mode",
        "messaging_product",
        "recipient_type",
        "to",
        "biz_opaque_callback_data",
        "link",
    }
)


def _strings(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield key, node
    elif isinstance(node, Mapping):
        for child_key, child in node.items():
            yield from _strings(child, str(child_key))
    elif isinstance(node, list | tuple):
        for child in node:
            yield from _strings(child, key)


# --- links ----------------------------------------------------------------------------------------

_SCHEME_URL = re.compile(r"(?<![\w.+-])[a-z][a-z0-9+.-]{1,20}://[^\s<>\"'`]+", re.IGNORECASE)
# A bare domain: labels of letters/digits/hyphens (any script, so lookalikes in other alphabets
# are caught), then an alphabetic top-level label.
_BARE_HOST = re.compile(
    r"(?<![\w.-])((?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+([^\W\d_]{2,63}))(?![\w-]|\.[^\W_])",
    re.UNICODE,
)
_TRAILING = ".,;:!?)]}'\"»”’"
# Without "www." or a scheme, word.word is taken for a link only when the last part is a
# top-level domain in use for links: generic ones seen in phishing and common country codes.
# Two-letter codes that collide with Indonesian academic titles (S.Pd, M.Si, S.Th, Dr.Ir, A.Md,
# S.ST...) are left out; a scheme or "www." always makes it a link.
_LINK_TLDS = frozenset(
    "com net org info biz gov edu mil int xyz top online site website web app dev io me ly link click shop store "
    "club live vip icu buzz fun space tech pro asia mobi name tv cloud digital email finance financial money "
    "loan loans credit cash win bid lol today world life news one page promo support help services center claims "
    "group ltd company cyou sbs rest bond cfd quest monster host "
    "id co to cc tk ml ga cf gq ws sg my ph vn us uk in ru cn au jp kr de nl fr es it eu ca br su pw la vc gg nu "
    "ai gl im is sh ac cx gd nz ch at be pl se no fi dk cz pt ie tw hk mx ar cl za ng ua tr il ae sa qa pk bd lk "
    "np kh mm bn tl fm am".split()
)


def _normalise_host(host: str) -> str:
    host = unicodedata.normalize("NFKC", host).strip().rstrip(".").casefold()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host  # cannot be a valid registered name, so it matches no allow-listed domain


def normalise_domain(domain: str) -> str:
    """An allow-list entry in the form hosts are compared in (lower-case, IDNA, no dots at the ends)."""
    return _normalise_host(domain.strip().lstrip("."))


def find_hosts(texts: Iterable[str], urls: Iterable[str] = ()) -> list[str]:
    """Every host a link in the texts (URLs, www., bare domains, e-mail domains) or in `urls` points at.

    A URL whose scheme is not http(s) (intent://, ftp://...) yields "<scheme>:" so it is refused.
    """
    hosts: list[str] = []
    for raw in urls:
        hosts.append(_url_host(raw.strip()))
    for text in texts:
        remainder = text
        for match in _SCHEME_URL.finditer(text):
            hosts.append(_url_host(match.group(0).rstrip(_TRAILING)))
            remainder = remainder.replace(match.group(0), " ")
        for match in _BARE_HOST.finditer(remainder):
            host, tld = match.group(1), match.group(2).casefold()
            if host.casefold().startswith("www.") or tld in _LINK_TLDS:
                hosts.append(_normalise_host(host))
    return hosts


def _url_host(url: str) -> str:
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        return "<unparseable>"
    if parts.scheme.casefold() not in ("http", "https"):
        return f"{parts.scheme.casefold()}:"
    return _normalise_host(hostname or "<no host>")


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """The domain itself or a subdomain of it; never a longer name that merely starts with it."""
    return any(host == domain or host.endswith("." + domain) for domain in allowed if domain)


# --- attachments ----------------------------------------------------------------------------------

EXECUTABLE_EXTENSIONS = frozenset(
    ".apk .apks .xapk .aab .ipa .exe .dll .bat .cmd .com .scr .pif .cpl .msi .msix .msp .appx .jar .js .jse "
    ".vbs .vbe .wsf .wsh .hta .ps1 .psm1 .sh .bash .run .bin .elf .deb .rpm .dmg .pkg .app .command .lnk .reg "
    ".scf .gadget .iso .img".split()
)
EXECUTABLE_MIME_TYPES = frozenset(
    {
        "application/vnd.android.package-archive",
        "application/x-android-package",
        "application/x-msdownload",
        "application/x-msdos-program",
        "application/x-dosexec",
        "application/x-ms-installer",
        "application/x-msi",
        "application/x-ms-shortcut",
        "application/vnd.microsoft.portable-executable",
        "application/x-executable",
        "application/x-elf",
        "application/x-sharedlib",
        "application/x-mach-binary",
        "application/x-apple-diskimage",
        "application/x-iso9660-image",
        "application/x-sh",
        "application/x-shellscript",
        "text/x-shellscript",
        "text/x-sh",
        "application/x-bat",
        "application/x-powershell",
        "application/java-archive",
        "application/x-java-archive",
        "application/javascript",
        "application/x-javascript",
        "text/javascript",
        "text/vbscript",
        "application/hta",
        "application/x-debian-package",
        "application/x-rpm",
        "application/octet-stream+apk",
    }
)
# Bidirectional controls can show "fotokpa.jpg" for a file really named "foto\u202egpj.apk".
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def attachment_problem(filename: str | None, mime: str | None) -> tuple[Rule, str] | None:
    if filename is not None:
        if any(char in _BIDI_CONTROLS for char in filename):
            return Rule.DECEPTIVE_FILENAME, "the attachment's filename contains bidirectional control characters"
        # Windows ignores trailing dots and spaces, so "x.exe. " runs as x.exe.
        name = unicodedata.normalize("NFKC", filename).strip().rstrip(". ").casefold()
        dot = name.rfind(".")
        extension = name[dot:] if dot >= 0 else ""
        if extension in EXECUTABLE_EXTENSIONS:
            return Rule.EXECUTABLE_ATTACHMENT, f"attachment extension {extension} is executable"
    if mime is not None:
        essence = mime.split(";", 1)[0].strip().casefold()
        if essence in EXECUTABLE_MIME_TYPES:
            return Rule.EXECUTABLE_ATTACHMENT, f"attachment type {essence} is executable"
    return None


# --- all content checks ---------------------------------------------------------------------------


def content_problem(content: OutgoingContent, allowed_domains: Iterable[str]) -> tuple[Rule, str] | None:
    """The first content rule the message breaks, with a PII-free reason; None when it is clean."""
    for text in content.texts:
        if asks_for_secret(text):
            return Rule.ASKS_FOR_SECRET, "the message asks the customer for a PIN, OTP, password, CVV or similar"
    allowed = {normalise_domain(domain) for domain in allowed_domains}
    for host in find_hosts(content.texts, content.urls):
        if not host_allowed(host, allowed):
            # A domain is not personal data; naming it lets the author fix the text.
            return Rule.LINK_NOT_ALLOWED, f"link to {host[:100]} is not on the tenant's allow-list"
    return attachment_problem(content.attachment_filename, content.attachment_mime)
