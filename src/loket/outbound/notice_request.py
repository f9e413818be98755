"""What an account notice request is: its content, its segment, and the checks it must pass before
it is stored (loket.outbound.notices sends it)."""

from __future__ import annotations

import hashlib
from typing import Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from loket.alerts import compose
from loket.alerts.compose import Audience

TEMPLATE_PARAM_MAX = 300  # what `compose.template_param` keeps: a notice must fit whole
MAX_CUSTOMER_IDS = 100_000
ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}


class NoticeText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=80)
    body: str = Field(min_length=1, max_length=240)


class Segment(BaseModel):
    """Who gets the notice: every filter given must match (all customers when none is given)."""

    model_config = ConfigDict(extra="forbid")
    languages: list[Literal["id", "en"]] | None = Field(default=None, min_length=1)
    zones: list[str] | None = Field(default=None, min_length=1, description="WIB, WITA, WIT or their IANA names")
    products: list[str] | None = Field(
        default=None, min_length=1, description="customers with an account whose product name contains one of these"
    )
    customer_ids: list[str] | None = Field(default=None, min_length=1, max_length=MAX_CUSTOMER_IDS)

    @field_validator("zones")
    @classmethod
    def _zones(cls, zones: list[str] | None) -> list[str] | None:
        if zones is None:
            return None
        known = set(ZONES.values())
        resolved = []
        for zone in zones:
            name = ZONES.get(zone.upper(), zone)
            if name not in known:
                raise ValueError(f"unknown zone {zone!r}: use WIB, WITA, WIT or {', '.join(sorted(known))}")
            resolved.append(name)
        return sorted(set(resolved))

    @field_validator("products")
    @classmethod
    def _products(cls, products: list[str] | None) -> list[str] | None:
        if products is not None and not all(p.strip() for p in products):
            raise ValueError("a product filter must not be empty")
        return products


class NoticeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "fees-2027-01",
                    "kind": "fees",
                    "content": {
                        "id": {
                            "title": "Perubahan biaya administrasi",
                            "body": "Mulai 1 Januari 2027 biaya administrasi Tabungan Nusantara Rp12.500/bulan.",
                        },
                        "en": {
                            "title": "Change of the monthly fee",
                            "body": "From 1 January 2027 the Tabungan Nusantara monthly fee is Rp12,500.",
                        },
                    },
                    "effective_at": "2027-01-01T00:00:00+07:00",
                    "segment": {"products": ["Tabungan Nusantara"], "zones": ["WIB", "WITA"]},
                }
            ]
        },
    )
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    kind: Literal["terms", "fees", "maintenance", "other"]
    content: dict[Literal["id", "en"], NoticeText] = Field(min_length=1)
    effective_at: AwareDatetime | None = None
    segment: Segment = Field(default_factory=Segment)


class NoticeRejected(Exception):
    """Bad input, an unusable tenant or a reused id: `status` and `code` say which."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.field = status, code, field


def parse_request(body: object) -> NoticeRequest:
    try:
        return NoticeRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        raise NoticeRejected(422, "invalid_notice", f"{where}: {first.get('msg', 'invalid')}", where or None) from None


def digest(request: NoticeRequest) -> str:
    return hashlib.sha256(orjson.dumps(request.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest()


def check_fits(request: NoticeRequest, institution: str) -> None:
    """The fallback template carries the whole text in one parameter: refuse what would be cut."""
    for language, text in request.content.items():
        audience = Audience(language, "Asia/Jayapura", institution, "")
        composed = compose.notice_text(audience, title=text.title, body=text.body, effective_at=request.effective_at)
        if len(compose.template_param(composed).text) < len(" ".join(composed.split())):
            raise NoticeRejected(
                422,
                "invalid_notice",
                f"content.{language}: title and body together must fit in {TEMPLATE_PARAM_MAX} characters "
                "(what a template outside the 24-hour window can carry)",
                f"content.{language}.body",
            )
