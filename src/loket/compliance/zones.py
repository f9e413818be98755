"""The customer's own time zone, from their domicile province; unknown means all three zones at once.

TZ-1: three fixed-offset legal zones, no daylight saving. TZ-2: province → zone. TZ-3: "local time"
is where the consumer lives, so the zone comes from the recorded domicile province, never from the
server clock or the +62 prefix. TZ-4: when it is unknown, a rule must hold in every zone at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WIB = ZoneInfo("Asia/Jakarta")  # UTC+7
WITA = ZoneInfo("Asia/Makassar")  # UTC+8
WIT = ZoneInfo("Asia/Jayapura")  # UTC+9

INDONESIAN_ZONES: tuple[ZoneInfo, ...] = (WIB, WITA, WIT)

_ABBREVIATIONS = {"wib": WIB, "wita": WITA, "wit": WIT}

# TZ-2, with the Kemendagri province codes (KYC-3). Kalbar and Kalteng are WIB, Bali is WITA
# (Keppres 41/1987). Every Papua code 91-96 is WIT, so the disputed Papua numbering cannot
# change a zone.
_PROVINCES: tuple[tuple[ZoneInfo, str, tuple[str, ...]], ...] = (
    (WIB, "11", ("Aceh", "Nanggroe Aceh Darussalam", "NAD")),
    (WIB, "12", ("Sumatera Utara", "Sumut", "North Sumatra", "North Sumatera")),
    (WIB, "13", ("Sumatera Barat", "Sumbar", "West Sumatra", "West Sumatera")),
    (WIB, "14", ("Riau",)),
    (WIB, "15", ("Jambi",)),
    (WIB, "16", ("Sumatera Selatan", "Sumsel", "South Sumatra", "South Sumatera")),
    (WIB, "17", ("Bengkulu",)),
    (WIB, "18", ("Lampung",)),
    (WIB, "19", ("Kepulauan Bangka Belitung", "Bangka Belitung", "Babel", "Bangka Belitung Islands")),
    (WIB, "21", ("Kepulauan Riau", "Kep. Riau", "Kepri", "Riau Islands")),
    (WIB, "31", ("DKI Jakarta", "Jakarta", "Daerah Khusus Ibukota Jakarta", "Daerah Khusus Jakarta", "DKJ")),
    (WIB, "32", ("Jawa Barat", "Jabar", "West Java")),
    (WIB, "33", ("Jawa Tengah", "Jateng", "Central Java")),
    (WIB, "34", ("DI Yogyakarta", "Daerah Istimewa Yogyakarta", "Yogyakarta", "DIY", "Special Region of Yogyakarta")),
    (WIB, "35", ("Jawa Timur", "Jatim", "East Java")),
    (WIB, "36", ("Banten",)),
    (WIB, "61", ("Kalimantan Barat", "Kalbar", "West Kalimantan")),
    (WIB, "62", ("Kalimantan Tengah", "Kalteng", "Central Kalimantan")),
    (WITA, "51", ("Bali",)),
    (WITA, "52", ("Nusa Tenggara Barat", "NTB", "West Nusa Tenggara")),
    (WITA, "53", ("Nusa Tenggara Timur", "NTT", "East Nusa Tenggara")),
    (WITA, "63", ("Kalimantan Selatan", "Kalsel", "South Kalimantan")),
    (WITA, "64", ("Kalimantan Timur", "Kaltim", "East Kalimantan")),
    (WITA, "65", ("Kalimantan Utara", "Kaltara", "North Kalimantan")),
    (WITA, "71", ("Sulawesi Utara", "Sulut", "North Sulawesi")),
    (WITA, "72", ("Sulawesi Tengah", "Sulteng", "Central Sulawesi")),
    (WITA, "73", ("Sulawesi Selatan", "Sulsel", "South Sulawesi")),
    (WITA, "74", ("Sulawesi Tenggara", "Sultra", "Southeast Sulawesi")),
    (WITA, "75", ("Gorontalo",)),
    (WITA, "76", ("Sulawesi Barat", "Sulbar", "West Sulawesi")),
    (WIT, "81", ("Maluku",)),
    (WIT, "82", ("Maluku Utara", "Malut", "North Maluku")),
    (WIT, "91", ("Papua",)),
    (WIT, "92", ("Papua Barat", "West Papua")),
    (WIT, "93", ("Papua Selatan", "South Papua")),
    (WIT, "94", ("Papua Tengah", "Central Papua")),
    (WIT, "95", ("Papua Pegunungan", "Highland Papua")),
    (WIT, "96", ("Papua Barat Daya", "Southwest Papua")),
)

_NOISE = re.compile(r"[^a-z0-9]+")
_PREFIX = re.compile(r"^(provinsi|propinsi|prov|province of)\b\.?\s*")


def _normalise(name: str) -> str:
    text = _PREFIX.sub("", name.strip().casefold())
    return _NOISE.sub("", text)


def _index() -> dict[str, ZoneInfo]:
    index: dict[str, ZoneInfo] = {}
    for zone, code, names in _PROVINCES:
        index[code] = zone
        for name in names:
            index[_normalise(name)] = zone
    return index


_BY_PROVINCE = _index()


def zone_for_province(province: str) -> ZoneInfo | None:
    """The IANA zone for a province name, abbreviation (Jabar, NTB) or Kemendagri code ("32")."""
    return _BY_PROVINCE.get(_normalise(province))


@dataclass(frozen=True, slots=True)
class ContactZone:
    """The zone(s) a contact rule is evaluated in: one when known, all three when not (TZ-4)."""

    zones: tuple[ZoneInfo, ...]
    label: str  # for the decision record, e.g. "Asia/Makassar (province)"

    @property
    def known(self) -> bool:
        return len(self.zones) == 1


UNKNOWN_ZONE = ContactZone(INDONESIAN_ZONES, "unknown: WIB, WITA and WIT together (TZ-4)")


def _zone_named(name: str) -> ZoneInfo | None:
    key = name.strip()
    if key.casefold() in _ABBREVIATIONS:
        return _ABBREVIATIONS[key.casefold()]
    if not key or "/" not in key:
        return None
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def resolve_zone(zone: str | None = None, province: str | None = None) -> ContactZone:
    """An explicit zone (IANA key or WIB/WITA/WIT) wins, then the domicile province, else TZ-4.

    Unrecognised values are not an error: they fall through to the next source and finally to
    the intersection of all three zones, which is never later than any customer's own clock allows.
    """
    if zone:
        found = _zone_named(zone)
        if found is not None:
            return ContactZone((found,), f"{found.key} (recorded zone)")
    if province:
        found = zone_for_province(province)
        if found is not None:
            return ContactZone((found,), f"{found.key} (domicile province)")
    return UNKNOWN_ZONE
