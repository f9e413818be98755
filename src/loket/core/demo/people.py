"""Name pools and geography for the demo customers. Written for this demo; every person is fictional."""

from __future__ import annotations

import random
from dataclasses import dataclass

WIB = "Asia/Jakarta"
WITA = "Asia/Makassar"
WIT = "Asia/Jayapura"
UTC_OFFSET_HOURS = {WIB: 7, WITA: 8, WIT: 9}  # Indonesia keeps no daylight saving time

PROVINCE_ZONE: dict[str, str] = {
    "Aceh": WIB,
    "Sumatera Utara": WIB,
    "Sumatera Barat": WIB,
    "Riau": WIB,
    "Kepulauan Riau": WIB,
    "Sumatera Selatan": WIB,
    "Lampung": WIB,
    "DKI Jakarta": WIB,
    "Jawa Barat": WIB,
    "Banten": WIB,
    "Jawa Tengah": WIB,
    "DI Yogyakarta": WIB,
    "Jawa Timur": WIB,
    "Kalimantan Barat": WIB,
    "Bali": WITA,
    "Nusa Tenggara Barat": WITA,
    "Nusa Tenggara Timur": WITA,
    "Kalimantan Selatan": WITA,
    "Kalimantan Timur": WITA,
    "Sulawesi Utara": WITA,
    "Sulawesi Selatan": WITA,
    "Sulawesi Tenggara": WITA,
    "Maluku": WIT,
    "Maluku Utara": WIT,
    "Papua": WIT,
    "Papua Barat": WIT,
    "Papua Tengah": WIT,
    "Papua Pegunungan": WIT,
}

# Vehicle registration prefixes (tanda nomor kendaraan bermotor) by province.
PLATE_PREFIXES: dict[str, tuple[str, ...]] = {
    "Aceh": ("BL",),
    "Sumatera Utara": ("BK", "BB"),
    "Sumatera Barat": ("BA",),
    "Riau": ("BM",),
    "Kepulauan Riau": ("BP",),
    "Sumatera Selatan": ("BG",),
    "Lampung": ("BE",),
    "DKI Jakarta": ("B",),
    "Jawa Barat": ("D", "F", "B", "E", "Z", "T"),
    "Banten": ("A", "B"),
    "Jawa Tengah": ("H", "AD", "G", "K", "R", "AA"),
    "DI Yogyakarta": ("AB",),
    "Jawa Timur": ("L", "N", "W", "AG", "S", "P"),
    "Kalimantan Barat": ("KB",),
    "Bali": ("DK",),
    "Nusa Tenggara Barat": ("DR", "EA"),
    "Nusa Tenggara Timur": ("DH", "EB", "ED"),
    "Kalimantan Selatan": ("DA",),
    "Kalimantan Timur": ("KT",),
    "Sulawesi Utara": ("DB",),
    "Sulawesi Selatan": ("DD", "DP"),
    "Sulawesi Tenggara": ("DT",),
    "Maluku": ("DE",),
    "Maluku Utara": ("DG",),
    "Papua": ("PA",),
    "Papua Barat": ("PB",),
    "Papua Tengah": ("PA",),
    "Papua Pegunungan": ("PA",),
}

# Where people from any background commonly move to for work.
MIGRATION_PROVINCES = ("DKI Jakarta", "Jawa Barat", "Banten", "Kalimantan Timur", "Jawa Timur", "Papua")


@dataclass(frozen=True, slots=True)
class NamePool:
    key: str
    male_given: tuple[str, ...]
    female_given: tuple[str, ...]
    male_family: tuple[str, ...]
    female_family: tuple[str, ...]
    home_provinces: tuple[str, ...]
    style: str = "given_family"  # or "balinese", "bugis"
    elder_mononyms: tuple[str, ...] = ()
    stays_home: bool = False


def _t(words: str) -> tuple[str, ...]:
    return tuple(w.replace("_", " ") for w in words.split())


_BATAK_MARGA = _t(
    "Simanjuntak Siregar Nasution Lubis Hutapea Sitompul Pardede Sinaga Panjaitan Harahap Situmorang "
    "Manurung Tampubolon Sihombing Hutagalung Nainggolan Simatupang Sitorus Pasaribu Silalahi"
)
_CHINESE_SURNAMES = _t(
    "Wijaya Halim Tanuwijaya Gunawan Kurniawan Santoso Hartono Lim Tjandra Susanto Sugianto Wibisono "
    "Widjaja Salim Setiadi Chandra Kusuma Tanzil Hadinata Liem"
)
_PAPUAN_CLANS = _t(
    "Wenda Kogoya Rumbiak Waromi Mandowen Rumbewas Yoku Krey Sawaki Ayomi Wanimbo Tabuni Mirino Wonda "
    "Rumaropen Karubaba Kambu Mayor Ohee Iek"
)
_MALUKU_FAMILIES = _t(
    "Latuperissa Pattinama Sahetapy Lekatompessy Tuhumury Matulessy Pattiasina Tahapary Siahaya "
    "Wattimena Rehatta Nanlohy Sopacua Tuasikal Ohorella Latuconsina Marasabessy"
)
_MINAHASA_FAMILIES = _t(
    "Lumenta Wowor Rondonuwu Sondakh Tumbelaka Mandagi Pangemanan Runtukahu Tangkilisan Kaunang "
    "Rumengan Sumampouw Lengkong"
)
_NTT_FAMILIES = _t("Bria Manek Seran Nahak Tallo Fernandez Parera Lado Ndun Djami Bunga Keraf Wangge Mbete")

POOLS: dict[str, NamePool] = {
    p.key: p
    for p in (
        NamePool(
            "javanese",
            _t(
                "Budi Agus Eko Joko Bambang Slamet Wahyu Dwi Heru Hadi Sigit Teguh Yudi Aris Bayu Dimas "
                "Rizky Aditya Arif Gilang Fajar Anang"
            ),
            _t("Sri Siti Dewi Rina Endang Yuni Wulan Ratna Retno Ayu Putri Indah Kartika Dyah Anis Tri Nur Ika"),
            _t(
                "Santoso Setiawan Prasetyo Susilo Hidayat Wibowo Nugroho Purnomo Kurniawan Saputra "
                "Wicaksono Pratama Utomo Suryadi Hartono Sutrisno"
            ),
            _t(
                "Wahyuni Lestari Rahayu Kusumawati Handayani Astuti Rahmawati Wulandari Puspitasari "
                "Anggraini Susanti Permatasari Ningsih Maharani"
            ),
            ("Jawa Tengah", "Jawa Timur", "DI Yogyakarta", "DKI Jakarta", "Jawa Timur", "Jawa Tengah"),
            elder_mononyms=_t("Paiman Sukirno Suparman Sumarno Tukiman Suharti Sulastri Sumarni Tumini Painem"),
        ),
        NamePool(
            "sundanese",
            _t("Asep Ujang Dede Cecep Yayan Dadang Encep Jajang Usep Iwan Rudi Deden Ilham Rizal"),
            _t("Euis Neneng Iis Eneng Imas Cucu Lilis Nining Yeni Tati Nenden Ai Siti"),
            _t(
                "Saepudin Supriatna Rohman Hidayat Sopandi Kurnia Permana Gunawan Sumantri Suryana "
                "Mulyana Ruhiyat Nugraha"
            ),
            _t("Komariah Sumarni Rohmah Nurhasanah Hermawati Kurniasih Maryani Rosmiati Fitriani Nurjanah Mulyani"),
            ("Jawa Barat", "Jawa Barat", "Banten", "DKI Jakarta"),
        ),
        NamePool(
            "betawi",
            _t("Ahmad Muhammad Abdul Mamat Mursid Rojali Sanusi Jaelani"),
            _t("Siti Nur Juleha Aminah Fatimah Zubaidah Nurlela"),
            _t("Sanusi Jaelani Syahroni Mursyid Fauzi Ridwan Saputra Rohim"),
            _t("Aisyah Romlah Maesaroh Khodijah Nurhayati Mardiah"),
            ("DKI Jakarta", "DKI Jakarta", "Banten", "Jawa Barat"),
        ),
        NamePool(
            "batak",
            _t("Togar Hotma Rudolf Parlindungan Tumpal Benny Hendra Marudut Sahat Poltak Jonner Daniel Ricardo Samuel"),
            _t("Maria Rosmawati Lamtiur Debora Friska Sondang Lasma Tiurma Hotnida Ruth Agnes Romauli"),
            _BATAK_MARGA,
            _BATAK_MARGA,
            ("Sumatera Utara", "Sumatera Utara", "DKI Jakarta", "Riau"),
        ),
        NamePool(
            "minang",
            _t("Afrizal Zulfikar Yusrizal Syafrudin Hendri Rahmat Irwan Fadli Zulkifli Andri Fauzan"),
            _t("Nofrianti Desmaniar Elfiza Rosnida Yulnita Fitri Rahmi Mardiana Yessi Silvia"),
            _t("Chaniago Piliang Tanjung Koto Sikumbang Jambak Putra Effendi Syahputra"),
            _t("Chaniago Piliang Tanjung Koto Putri Yanti Sikumbang"),
            ("Sumatera Barat", "Sumatera Barat", "Riau", "DKI Jakarta"),
        ),
        NamePool(
            "acehnese",
            _t("Teuku_Muhammad Muhammad Zulfan Fakhrurrazi Munawar Iskandar Rahmat"),
            _t("Cut Nurul Rahmah Safrina Maulida Cut_Nyak"),
            _t("Rizal Hasan Daud Syahputra Ibrahim Yusuf"),
            _t("Fitriani Hayati Ulfa Zahra Aini Maghfirah"),
            ("Aceh", "Aceh", "Sumatera Utara"),
        ),
        NamePool(
            "chinese_indonesian",
            _t(
                "Hendra Kevin Yohanes Felix Budiman Steven Rudy Hansen Jimmy Andreas William Edward "
                "Michael Darmawan Jonathan"
            ),
            _t(
                "Stefani Cindy Michelle Liliana Vivian Jessica Olivia Yenny Lanny Meiliana Susanna "
                "Natalia Angeline Fransisca"
            ),
            _CHINESE_SURNAMES,
            _CHINESE_SURNAMES,
            ("DKI Jakarta", "Sumatera Utara", "Kalimantan Barat", "Jawa Timur", "Kepulauan Riau", "DKI Jakarta"),
        ),
        NamePool(
            "bugis",
            _t("Muhammad Muh._Ilham Syamsuddin Hasanuddin Arsyad Ridwan Amiruddin Baharuddin Irfan Akbar Fadel"),
            _t("Sitti Nurhayati Rahmawati Hasnah Suriani Hasmawati Nurul Asriani Marlina Tenri"),
            _t("Amir Rahman Hamzah Syarif Rasyid Mappasessu Pananrangi Latief Mustari"),
            _t("Rahma Aisyah Amir Hamzah Nurbaya Tenriawaru"),
            ("Sulawesi Selatan", "Sulawesi Selatan", "Kalimantan Timur", "Sulawesi Tenggara"),
            style="bugis",
        ),
        NamePool(
            "balinese",
            _t("Sudarsana Arsana Ariawan Suardana Widiana Mahendra Suarjaya Adnyana Parwata Sukadana Budiarta Wirawan"),
            _t(
                "Ayu_Lestari Sri_Widiantari Eka_Pratiwi Ari_Susanti Dewi_Suryani Rai_Sukmawati "
                "Sukarmini Yuliantari Ratih_Purnamasari"
            ),
            (),
            (),
            ("Bali", "Bali", "Bali", "Nusa Tenggara Barat"),
            style="balinese",
        ),
        NamePool(
            "minahasa",
            _t("Jeffry Ronald Stevanus Meiky Frangky Hendrik Ferdinand Johny Reynaldo Vicky"),
            _t("Grace Meiske Vonny Stella Deisy Olvie Novita Priscilla Tessa"),
            _MINAHASA_FAMILIES,
            _MINAHASA_FAMILIES,
            ("Sulawesi Utara",),
        ),
        NamePool(
            "banjar",
            _t("Muhammad Ahmad Gusti Rusdi Hairul Rahmadi Fahriannor"),
            _t("Siti Noorhayati Rusmilawati Hairiyah Aulia Raudah"),
            _t("Noor Hidayat Rahman Anwar Fauzan Effendi Basri Syahrani"),
            _t("Aisyah Aini Jannah Rahmah Maulida"),
            ("Kalimantan Selatan", "Kalimantan Selatan", "Kalimantan Timur"),
        ),
        NamePool(
            "papuan",
            _t("Yohanis Markus Demianus Ruben Yakob Elias Isak Petrus Obed Yulianus Frans Melkior Yosias"),
            _t("Fransina Yakomina Mince Martha Selfina Yohana Agustina Ribka Debora Naomi Merry Dorkas"),
            _PAPUAN_CLANS,
            _PAPUAN_CLANS,
            ("Papua", "Papua", "Papua Barat", "Papua Tengah", "Papua Pegunungan"),
            stays_home=True,
        ),
        NamePool(
            "maluku",
            _t("Johanis Ferry Marthen Glenn Alfons Benny Nicolaas Semuel Ronny Abraham Husein"),
            _t("Meity Yolanda Christina Marlen Josephina Elisabeth Hana Salma"),
            _MALUKU_FAMILIES,
            _MALUKU_FAMILIES,
            ("Maluku", "Maluku", "Maluku Utara"),
            stays_home=True,
        ),
        NamePool(
            "ntt",
            _t("Yohanes Fransiskus Aloysius Kornelius Stefanus Agustinus Benediktus Wilhelmus"),
            _t("Maria Theresia Yuliana Florentina Katarina Skolastika Margaretha"),
            _NTT_FAMILIES,
            _NTT_FAMILIES,
            ("Nusa Tenggara Timur",),
        ),
    )
}

# How many demo people come from each background: fixed so every seed spreads over all three zones.
POOL_QUOTAS: tuple[tuple[str, int], ...] = (
    ("javanese", 11),
    ("sundanese", 6),
    ("betawi", 2),
    ("batak", 4),
    ("minang", 3),
    ("acehnese", 1),
    ("chinese_indonesian", 5),
    ("bugis", 3),
    ("balinese", 3),
    ("minahasa", 2),
    ("banjar", 1),
    ("papuan", 4),
    ("maluku", 2),
    ("ntt", 1),
)

_BALINESE_ORDER = ("Wayan", "Putu", "Gede", "Made", "Kadek", "Nengah", "Nyoman", "Komang", "Ketut")


def make_name(rng: random.Random, pool: NamePool, *, female: bool, age: int) -> str:
    if pool.elder_mononyms and age >= 55 and rng.random() < 0.4:
        half = len(pool.elder_mononyms) // 2
        return rng.choice(pool.elder_mononyms[half:] if female else pool.elder_mononyms[:half])
    given = rng.choice(pool.female_given if female else pool.male_given)
    if pool.style == "balinese":
        order = rng.choice(_BALINESE_ORDER)
        if female and order == "Gede":
            order = "Luh"
        return f"{'Ni' if female else 'I'} {order} {given}"
    family = rng.choice(pool.female_family if female else pool.male_family)
    if family == given:
        family = (pool.female_family if female else pool.male_family)[0]
    if pool.style == "bugis" and rng.random() < 0.3:
        return f"Andi {given} {family}"
    return f"{given} {family}"


def choose_province(rng: random.Random, pool: NamePool) -> str:
    if not pool.stays_home and rng.random() < 0.2:
        return rng.choice(MIGRATION_PROVINCES)
    return rng.choice(pool.home_provinces)


# Indonesian mobile prefixes (after the leading 0) and their operators.
MOBILE_PREFIXES: tuple[tuple[str, str], ...] = (
    ("811", "Telkomsel"),
    ("812", "Telkomsel"),
    ("813", "Telkomsel"),
    ("821", "Telkomsel"),
    ("822", "Telkomsel"),
    ("852", "Telkomsel"),
    ("853", "Telkomsel"),
    ("814", "Indosat"),
    ("815", "Indosat"),
    ("856", "Indosat"),
    ("857", "Indosat"),
    ("817", "XL"),
    ("818", "XL"),
    ("819", "XL"),
    ("877", "XL"),
    ("878", "XL"),
    ("895", "Tri"),
    ("896", "Tri"),
    ("897", "Tri"),
    ("881", "Smartfren"),
    ("882", "Smartfren"),
)

# Reserved domains (RFC 2606), so demo addresses can never reach a real mailbox.
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "example.com", "example.com")
