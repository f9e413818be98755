from __future__ import annotations

import pytest

from loket.compliance.zones import UNKNOWN_ZONE, WIB, WIT, WITA, resolve_zone, zone_for_province

# TZ-2, as the compliance notes list it.
WIB_PROVINCES = [
    "Aceh",
    "Sumut",
    "Sumbar",
    "Riau",
    "Kepri",
    "Jambi",
    "Sumsel",
    "Babel",
    "Bengkulu",
    "Lampung",
    "Banten",
    "DKI Jakarta",
    "Jabar",
    "Jateng",
    "DIY",
    "Jatim",
    "Kalimantan Barat",
    "Kalimantan Tengah",
]
WITA_PROVINCES = [
    "Kalimantan Timur",
    "Kalimantan Selatan",
    "Kalimantan Utara",
    "Bali",
    "NTB",
    "NTT",
    "Sulut",
    "Gorontalo",
    "Sulteng",
    "Sulbar",
    "Sulsel",
    "Sultra",
]
WIT_PROVINCES = [
    "Maluku",
    "Maluku Utara",
    "Papua",
    "Papua Barat",
    "Papua Tengah",
    "Papua Pegunungan",
    "Papua Selatan",
    "Papua Barat Daya",
]


@pytest.mark.parametrize(
    ("province", "zone"),
    [(name, WIB) for name in WIB_PROVINCES]
    + [(name, WITA) for name in WITA_PROVINCES]
    + [(name, WIT) for name in WIT_PROVINCES],
)
def test_every_province_has_its_zone(province: str, zone: object) -> None:
    assert zone_for_province(province) is zone


def test_thirty_eight_provinces() -> None:
    assert len(WIB_PROVINCES) + len(WITA_PROVINCES) + len(WIT_PROVINCES) == 38
    codes = [f"{code}" for code in (11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 61, 62)]
    assert all(zone_for_province(code) is WIB for code in codes)
    assert all(zone_for_province(str(code)) is WIT for code in (81, 82, 91, 92, 93, 94, 95, 96))


def test_the_disputed_ones_follow_keppres_41_1987() -> None:
    # The notes call out a source that puts all of Kalimantan in WIB: only Kalbar and Kalteng are.
    assert zone_for_province("Kalbar") is WIB
    assert zone_for_province("Kalteng") is WIB
    assert zone_for_province("Kaltim") is WITA
    assert zone_for_province("Bali") is WITA


@pytest.mark.parametrize(
    "spelling",
    ["Jawa Barat", "jawa barat", "PROVINSI JAWA BARAT", "Prov. Jawa Barat", "West Java", "Jawa-Barat", "32"],
)
def test_spellings(spelling: str) -> None:
    assert zone_for_province(spelling) is WIB


def test_unknown_provinces() -> None:
    assert zone_for_province("Atlantis") is None
    assert zone_for_province("") is None
    assert zone_for_province("99") is None


def test_resolve_prefers_recorded_zone_then_province_then_intersection() -> None:
    assert resolve_zone("Asia/Jayapura", "Jabar").zones == (WIT,)
    assert resolve_zone("WITA", None).zones == (WITA,)
    assert resolve_zone(None, "Bali").zones == (WITA,)
    assert "domicile province" in resolve_zone(None, "Bali").label
    assert resolve_zone("Not/AZone", "Papua").zones == (WIT,)
    assert resolve_zone("bogus", None) is UNKNOWN_ZONE
    assert resolve_zone(None, "Atlantis") is UNKNOWN_ZONE
    assert resolve_zone(None, None) is UNKNOWN_ZONE
    assert not UNKNOWN_ZONE.known
    assert UNKNOWN_ZONE.zones == (WIB, WITA, WIT)
