"""Merchants, billers, banks, employers and vehicles the demo ledgers and policies draw from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Merchant:
    name: str
    mcc: str  # ISO 18245
    low: int
    high: int
    step: int  # prices are multiples of this
    weight: int
    hours: tuple[int, int]  # local opening hours [from, to)
    descriptor: str = ""  # how the card network names the merchant, for card payments


QRIS_MERCHANTS: tuple[Merchant, ...] = (
    Merchant("Indomaret", "5411", 8_000, 185_000, 100, 10, (6, 23)),
    Merchant("Alfamart", "5411", 8_000, 175_000, 100, 9, (6, 23)),
    Merchant("Alfamidi", "5411", 15_000, 220_000, 100, 3, (7, 22)),
    Merchant("Superindo", "5411", 50_000, 600_000, 100, 2, (8, 22)),
    Merchant("Warteg Bahari", "5812", 12_000, 30_000, 1_000, 4, (6, 22)),
    Merchant("RM Padang Sederhana", "5812", 18_000, 55_000, 1_000, 4, (10, 22)),
    Merchant("Warung Bu Sri", "5812", 10_000, 35_000, 500, 3, (6, 21)),
    Merchant("Bakso Pak Kumis", "5812", 15_000, 40_000, 1_000, 2, (10, 21)),
    Merchant("Mie Gacoan", "5812", 20_000, 80_000, 500, 3, (10, 23)),
    Merchant("Kopi Kenangan", "5814", 18_000, 58_000, 1_000, 5, (7, 22)),
    Merchant("Janji Jiwa", "5814", 18_000, 50_000, 1_000, 3, (7, 22)),
    Merchant("Fore Coffee", "5814", 25_000, 70_000, 1_000, 2, (7, 22)),
    Merchant("Es Teh Indonesia", "5814", 8_000, 25_000, 1_000, 2, (9, 22)),
    Merchant("Roti'O", "5462", 12_000, 60_000, 1_000, 1, (6, 21)),
    Merchant("Apotek K-24", "5912", 15_000, 250_000, 100, 2, (0, 24)),
    Merchant("Kimia Farma", "5912", 15_000, 300_000, 100, 1, (8, 22)),
    Merchant("SPBU Pertamina", "5541", 50_000, 400_000, 1_000, 4, (5, 23)),
    Merchant("Gramedia", "5942", 45_000, 350_000, 500, 1, (10, 22)),
    Merchant("Matahari Department Store", "5311", 120_000, 900_000, 1_000, 1, (10, 22)),
    Merchant("Secure Parking", "7523", 3_000, 15_000, 1_000, 2, (7, 23)),
)

CARD_MERCHANTS: tuple[Merchant, ...] = (
    Merchant("GoFood", "5814", 25_000, 180_000, 100, 5, (10, 23), "GOJEK*GOFOOD JAKARTA"),
    Merchant("GrabFood", "5814", 25_000, 170_000, 100, 4, (10, 23), "GRAB*GRABFOOD JAKARTA"),
    Merchant("Tokopedia", "5399", 60_000, 750_000, 100, 2, (0, 24), "TOKOPEDIA JAKARTA"),
    Merchant("Shopee", "5399", 40_000, 650_000, 100, 3, (0, 24), "SHOPEE INDONESIA"),
    Merchant("Traveloka", "4722", 350_000, 2_500_000, 100, 1, (0, 24), "TRAVELOKA.COM"),
)

# Monthly card subscriptions: (name, mcc, amount, descriptor)
SUBSCRIPTIONS: tuple[tuple[str, str, int, str], ...] = (
    ("Netflix", "4899", 120_000, "NETFLIX.COM"),
    ("Spotify", "5815", 54_990, "SPOTIFY P2F4C1D7E2"),
    ("YouTube Premium", "5815", 59_000, "GOOGLE *YOUTUBEPREMIUM"),
    ("Vidio", "4899", 39_000, "VIDIO.COM"),
)

EWALLETS = ("GoPay", "OVO", "DANA", "ShopeePay", "LinkAja")
EWALLET_TOPUPS = (50_000, 100_000, 100_000, 150_000, 200_000, 250_000, 300_000, 500_000)
EWALLET_ADMIN_FEE = 1_000

PLN_TOKENS = (20_000, 50_000, 100_000, 100_000, 200_000, 500_000)
PLN_ADMIN_FEE = 2_500
BPJS_CLASS_FEES = (35_000, 100_000, 150_000)  # kelas 3 (after subsidy), 2, 1; per person per month
BILL_ADMIN_FEE = 2_500
MCC_UTILITIES = "4900"
MCC_TELECOM = "4814"
MCC_GOVERNMENT = "9399"

BIFAST_FEE = 2_500
ATM_NETWORK_FEE = 7_500
ATM_NETWORKS = ("ATM Bersama", "Jaringan Prima", "Link")

TRANSFER_BANKS = (
    "BCA",
    "Mandiri",
    "BRI",
    "BNI",
    "BSI",
    "CIMB Niaga",
    "BTN",
    "Permata",
    "Danamon",
    "Bank Jago",
    "SeaBank",
    "Bank DKI",
    "bank bjb",
    "Bank Jatim",
    "Bank Sumut",
    "Bank Nagari",
    "Bank Sulselbar",
    "BPD Bali",
    "Bank Papua",
    "Bank Kalsel",
)
TRANSFER_OUT_NOTES = (
    "Kirim untuk Ibu",
    "Uang bulanan adik",
    "Bayar arisan",
    "Patungan makan",
    "Ganti uang",
    "Bayar utang",
    "Titip beli",
    "Sumbangan nikahan",
    "Bayar les anak",
    None,
)
TRANSFER_IN_NOTES = ("Ganti uang", "Bayar patungan", "Kiriman", "Pelunasan", "Transfer", None)
RENT_NOTE = "Bayar kos"
LOANS = ("KPR Nusantara", "KKB Nusantara", "KPR BTN", "Kredit Mobil Adira Finance")

EMPLOYERS = (
    "PT Maju Bersama Logistik",
    "PT Sinar Harapan Retailindo",
    "PT Cahaya Abadi Manufaktur",
    "PT Samudra Teknologi Nusantara",
    "PT Garuda Prima Konstruksi",
    "PT Mitra Sehat Medika",
    "PT Karya Bumi Agro",
    "PT Lintas Kepulauan Energi",
    "PT Pelita Edukasi Indonesia",
    "PT Sentosa Jaya Farma",
    "Pemda Kota (ASN)",
    "RSUD Kota",
    "Universitas Harapan Bangsa",
    "CV Tunas Mandiri",
    "PT Arunika Digital",
)

BUSINESS_SUFFIXES = ("Jaya", "Makmur", "Sentosa", "Abadi", "Mandiri", "Sejahtera", "Berkah")
SUPPLIERS = (
    "UD Sumber Rejeki",
    "CV Mitra Abadi",
    "Toko Bangunan Sinar Jaya",
    "PT Distribusi Pangan Nusantara",
    "CV Kemasan Prima",
    "UD Tani Makmur",
    "PT Ekspedisi Cepat Kilat",
)

# (make and model, lowest and highest new price in rupiah)
CARS: tuple[tuple[str, int, int], ...] = (
    ("Toyota Avanza 1.3 G", 230_000_000, 290_000_000),
    ("Daihatsu Xenia 1.3 R", 220_000_000, 275_000_000),
    ("Honda Brio Satya E", 170_000_000, 240_000_000),
    ("Mitsubishi Xpander Ultimate", 260_000_000, 330_000_000),
    ("Toyota Kijang Innova Zenix", 420_000_000, 600_000_000),
    ("Honda HR-V 1.5 SE", 380_000_000, 520_000_000),
    ("Suzuki Ertiga GX", 230_000_000, 300_000_000),
    ("Toyota Fortuner 2.4 VRZ", 560_000_000, 700_000_000),
    ("Daihatsu Sigra 1.2 R", 140_000_000, 190_000_000),
    ("Hyundai Creta Prime", 300_000_000, 400_000_000),
    ("Wuling Air ev Long Range", 190_000_000, 260_000_000),
    ("Toyota Rush 1.5 S", 280_000_000, 320_000_000),
)

MOTOR_CLAIMS: tuple[tuple[str, int, int], ...] = (
    ("Baret dan penyok pintu kiri akibat serempetan", 2_500_000, 7_500_000),
    ("Kaca depan retak terkena batu di jalan tol", 3_000_000, 9_000_000),
    ("Bumper belakang rusak ditabrak dari belakang", 3_500_000, 12_000_000),
    ("Spion kanan patah tersenggol sepeda motor", 1_500_000, 4_500_000),
    ("Kerusakan mesin akibat terendam banjir", 15_000_000, 45_000_000),
    ("Lampu depan dan kap mesin rusak akibat tabrakan ringan", 6_000_000, 20_000_000),
)
HEALTH_CLAIMS: tuple[tuple[str, int, int], ...] = (
    ("Rawat inap demam berdarah (DBD), 4 hari", 8_000_000, 18_000_000),
    ("Rawat jalan dokter spesialis penyakit dalam", 750_000, 2_500_000),
    ("Operasi usus buntu (apendektomi)", 25_000_000, 45_000_000),
    ("Rawat inap demam tifoid, 5 hari", 9_000_000, 20_000_000),
    ("Pemeriksaan dan obat ISPA anak", 450_000, 1_500_000),
    ("Persalinan normal", 7_000_000, 15_000_000),
)
MOTOR_DEDUCTIBLE = 300_000  # risiko sendiri per kejadian
