"""The patterns and checks behind the secret shield (dlp.py), compiled once at import."""

from __future__ import annotations

import re

_I = re.IGNORECASE

# --- card numbers and NIKs -------------------------------------------------------------------------

DIGIT_RUN = re.compile(r"(?<![\d+])\d(?:[ -]?\d){12,}(?!\d)")
_GROUP = re.compile(r"\d+")
# Issuer prefixes that exist: 2 (Mastercard 2-series), 3 (Amex, JCB, Diners), 4 (Visa), 5 (Mastercard,
# Maestro), 6 (Discover, UnionPay, Maestro), 9 (domestic schemes such as GPN).
_CARD_FIRST_DIGITS = frozenset("234569")
_NIK_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61, 62, 63, 64, 65}
    | {71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96}
)
_NIK_WORDS = re.compile(r"\b(?:nik|e-?ktp|ktp|nomor\s+induk(?:\s+kependudukan)?|kependudukan|id\s+card)\b", _I)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def card_plausible(digits: str) -> bool:
    if not 13 <= len(digits) <= 19 or digits[0] not in _CARD_FIRST_DIGITS:
        return False
    return not (digits.startswith("628") and len(digits) <= 14)  # +62 8xx: an Indonesian mobile number


def nik_plausible(digits: str) -> bool:
    """16 digits: province, regency, district, birth date (day + 40 for women), serial."""
    if len(digits) != 16 or int(digits[0:2]) not in _NIK_PROVINCES:
        return False
    regency, district = int(digits[2:4]), int(digits[4:6])
    day, month, serial = int(digits[6:8]), int(digits[8:10]), int(digits[12:16])
    day_ok = 1 <= day <= 31 or 41 <= day <= 71
    return regency > 0 and district > 0 and day_ok and 1 <= month <= 12 and serial > 0


def nik_context(text: str, start: int) -> bool:
    return bool(_NIK_WORDS.search(text, max(0, start - 40), start))


def card_candidates(text: str, run: re.Match[str]) -> list[tuple[int, int, str, bool]]:
    """(start, end, digits, luhn) of each card- or NIK-shaped number in a run of digits and separators.

    A run may hold more than one number ("4111 1111 1111 1111 2026"), so from each group the
    longest span of whole groups with 13-19 digits that checks out is taken; a run without
    separators must be one number. Spans never exceed 19 digits, so this is linear in the run.
    """
    offset = run.start()
    groups = [(m.start() + offset, m.end() + offset, m.group(0)) for m in _GROUP.finditer(run.group(0))]
    found: list[tuple[int, int, str, bool]] = []
    index = 0
    while index < len(groups):
        best: tuple[int, int, str, bool] | None = None
        best_stop = index
        digits = ""
        for stop in range(index, len(groups)):
            digits += groups[stop][2]
            if len(digits) > 19:
                break
            if len(digits) >= 13:
                luhn = card_plausible(digits) and luhn_valid(digits)
                if luhn or nik_plausible(digits):
                    best, best_stop = (groups[index][0], groups[stop][1], digits, luhn), stop + 1
        if best is None:
            index += 1
        else:
            found.append(best)
            index = best_stop
    return found


CARD_TAIL_CVV = re.compile(
    r"[\s,;/|]*(?:(?:exp\w*|berlaku|valid)\W*)?\d{2}\s?/\s?\d{2,4}[\s,;/|]+(?P<cvv>\d{3,4})(?!\d)", _I
)

# --- contextual secrets ------------------------------------------------------------------------------

_GAP = r"[^\d\n.!?]{0,30}?"
_SHORT_GAP = r"[^\d\n.!?]{0,20}?"
_AFTER_GAP = r"[^\d\n.!?,;]{0,20}?"  # "123456 itu kode otp": the keyword follows in the same phrase
# A secret's digits stand alone: not part of a date, a time, an amount, or a longer spaced number.
_START = r"(?<![\d.,/:-])(?<!\d[ -])"
_END = r"(?![\d/:]|[.,]\d|[ -]\d)(?!\s?(?:rb|ribu|jt|juta|k|rupiah|idr|%)\b)"
_CODE = rf"{_START}(?P<secret>\d{{4,8}}|\d{{3}}[ -]\d{{3}}){_END}"

_OTP_KEY = (
    r"\b(?:otp(?:nya|ku)?|one[\s-]?time[\s-]?(?:password|pin|code)|kode(?:nya)?|code|token|passcode"
    r"|m-?token|tac)\b"
)
# "kode" and "code" also name harmless things: postal codes, promo codes, bank codes, billing codes.
_NOT_OTP_AFTER = re.compile(
    r"\s*(?:pos|promo|voucher|kupon|referr?al|reff?|booking|bank|billing|bayar|pembayaran|va|virtual|transaksi"
    r"|cabang|wilayah|area|negara|produk|tiket|ticket|pengaduan|komplain|klaim|listrik|pln|swift|zip|postal)\b",
    _I,
)
_NOT_OTP_BEFORE = re.compile(
    r"\b(?:zip|postal|post|promo|promotional|discount|voucher|coupon|referral|area|country|swift|bank|bar|qr"
    r"|booking|tracking|listrik|pln)\s*$",
    _I,
)
OTP_BEFORE = re.compile(rf"{_OTP_KEY}{_GAP}{_CODE}", _I)
OTP_AFTER = re.compile(rf"{_CODE}{_AFTER_GAP}{_OTP_KEY}", _I)
OTP_FROM_SMS = re.compile(rf"{_CODE}\s*(?:(?:yang|yg)\s+)?(?:dari|from|di|in|lewat|via)\s+(?:sms|message|pesan)\b", _I)
_KEY_ONLY = re.compile(_OTP_KEY, _I)


def otp_keyword_allowed(text: str, match: re.Match[str]) -> bool:
    """False when the keyword is a postal, promo, bank, billing... code rather than a one-time code."""
    keyword = _KEY_ONLY.search(text, match.start(), match.end())
    key_start, key_end = keyword.span() if keyword else match.span()
    if _NOT_OTP_AFTER.match(text, key_end):
        return False
    return not _NOT_OTP_BEFORE.search(text, max(0, key_start - 20), key_start)


_PIN_KEY = r"\b(?:pin(?:nya|ku)?|m-?pin|personal\s+identification\s+number)\b"
_PIN_CODE = rf"{_START}(?P<secret>\d{{4,6}}){_END}"
PIN_BEFORE = re.compile(rf"{_PIN_KEY}{_SHORT_GAP}{_PIN_CODE}", _I)
PIN_AFTER = re.compile(rf"{_PIN_CODE}{_AFTER_GAP}{_PIN_KEY}", _I)

CVV_EXPLICIT = re.compile(rf"\b(?:cvv2?|cvc2?|cvn|cid)(?:nya)?\b{_SHORT_GAP}{_START}(?P<secret>\d{{3,4}}){_END}", _I)
# Described rather than named: "kode keamanan", "3 digit di belakang kartu"; only three digits, since a
# longer "kode keamanan" is a one-time code.
CVV_DESCRIBED = re.compile(
    r"\b(?:kode\s+keamanan(?:\s+kartu)?|security\s+code|(?:kode\s+)?(?:3|tiga)\s+(?:digit|angka)"
    r"(?:\s+(?:di\s+)?belakang(?:\s+kartu)?)?|(?:angka|digit|kode)\s+(?:di\s+)?belakang(?:\s+kartu)?)\b"
    rf"{_SHORT_GAP}{_START}(?P<secret>\d{{3}}){_END}",
    _I,
)

# --- passwords ---------------------------------------------------------------------------------------

PASSWORD_HINT = re.compile(r"pass|pwd|sandi|kata\s+kunci", _I)
PASSWORD = re.compile(
    r"\b(?:password(?:nya|ku)?|passwd|pwd|pass(?:nya|ku)|pass(?=\s*[:=])|(?:kata\s+)?sandi(?:nya|ku)?|kata\s+kunci"
    r"(?:nya)?|passcode)\b"
    r"(?P<connector>(?:\s*(?:[:=]|-(?=\s)|\b(?:saya|aku|ku|sy|gw|gue|my|is|adalah|yaitu|yakni|ialah|nya|itu|ya|nih|ini"
    r"|sekarang|baru|lama|new|old|m-?banking|mbanking|i-?banking|internet\s+banking|app|aplikasi|login|email|akun"
    r"|account)\b))*)\s*"
    r"(?P<secret>[^\s\"'`]{3,64})",
    _I,
)
_EXPLICIT = re.compile(r"[:=]|\b(?:is|adalah|yaitu|yakni|ialah)\b", _I)
_COMMON_WORDS = frozenset(
    """
    lupa salah hilang blokir diblokir terblokir kadaluarsa expired gimana bagaimana gmn cara ganti ubah reset
    buat bikin apa kenapa knp kok tidak gak ga nggak ngga enggak bisa mau minta sudah udah sdh belum blm terkunci
    locked wrong forgot forgotten incorrect invalid was has have the a an my not doesnt didnt cant cannot change
    how what why where harus perlu berapa digit karakter huruf angka minimal yang yg untuk utk di ke dari dan atau
    saya aku dengan dgn tolong mohon please dong ya kak min admin aja saja lagi terus selalu masih sering gagal
    error tetap kenapa tapi tp jadi akan sedang telah pernah juga ini itu nya sama berbeda beda same different
    for to of and or too and kena ketahuan diketahui dicuri bocor leaked stolen hacked dihack kebobolan aman safe
    diganti direset dirubah diubah baru lama sekarang kemarin tadi need needs harus required wajib kuat lemah
    strong weak baik benar bener betul mana where which yang m-banking mbanking i-banking ibanking banking internet
    app aplikasi login email akun account
    """.split()
)


def password_confidence(match: re.Match[str]) -> float:
    """How likely the word after a password keyword is the password itself; 0.0 when it is not."""
    secret = match.group("secret").rstrip(".,;!?)")
    if len(secret) < 3 or secret.casefold() in _COMMON_WORDS or secret.startswith("["):
        return 0.0
    explicit = bool(_EXPLICIT.search(match.group("connector")))
    strong = any(char.isdigit() for char in secret) or not secret.isalnum() or secret.lower() != secret
    if strong:
        return 0.9 if explicit else 0.8
    return 0.75 if explicit else 0.5


# --- account numbers in a risky context --------------------------------------------------------------

ACCOUNT_NUMBER = re.compile(
    r"\b(?:no\.?\s*rek(?:ening)?|nomor\s+rek(?:ening)?|norek|rek(?:ening)?|account(?:\s+(?:number|no\.?))?"
    r"|acc(?:ount)?\s*no\.?|a/c)\b"
    rf"{_SHORT_GAP}{_START}(?P<secret>\d(?:[ .-]?\d){{7,17}})(?![\d/:]|[.,]\d)",
    _I,
)
CREDENTIAL_WORDS = re.compile(
    r"\b(?:pin|m-?pin|otp|password|pwd|sandi|user\s*id|username|login|kode\s+akses|m-?token|cvv|cvc)\b", _I
)
