"""A light normaliser for chat text, applied before the intent classifier sees it.

Customers write "sldo brp ya", "kartu atm sy ilanggg!!", "CMP-2026-000123 gmn min 🙏". The
classifier generalises better when spelling variants that mean the same thing look the same, when
numbers of one shape (a phone number, a ticket, a link) are one token, and when an emoji becomes a
word it can learn from. It is deliberately small: character n-grams handle the remaining typos.
"""

from __future__ import annotations

import re
import unicodedata

# Chat abbreviations and spelling variants -> one canonical word. Only unambiguous ones: "no"
# stays (English "no"), "dah" stays ("dah" is also a goodbye), "kk" stays (kakak or kartu kredit).
ABBREVIATIONS: dict[str, str] = {
    "sy": "saya",
    "sldo": "saldo",
    "sldonya": "saldonya",
    "aq": "aku",
    "gw": "gue",
    "gmn": "gimana",
    "gmna": "gimana",
    "gimn": "gimana",
    "bgmn": "bagaimana",
    "brp": "berapa",
    "brapa": "berapa",
    "berapaan": "berapa",
    "tdk": "tidak",
    "gak": "tidak",
    "ga": "tidak",
    "gk": "tidak",
    "nggak": "tidak",
    "ngga": "tidak",
    "enggak": "tidak",
    "engga": "tidak",
    "kagak": "tidak",
    "gamau": "tidak mau",
    "gajadi": "tidak jadi",
    "gausah": "tidak usah",
    "gabisa": "tidak bisa",
    "gatau": "tidak tahu",
    "gaada": "tidak ada",
    "tak": "tidak",
    "dgn": "dengan",
    "dg": "dengan",
    "utk": "untuk",
    "untk": "untuk",
    "min": "admin",
    "mimin": "admin",
    "yg": "yang",
    "sdh": "sudah",
    "udh": "sudah",
    "udah": "sudah",
    "blm": "belum",
    "blom": "belum",
    "belom": "belum",
    "krn": "karena",
    "karna": "karena",
    "tp": "tapi",
    "tpi": "tapi",
    "bs": "bisa",
    "bsa": "bisa",
    "jd": "jadi",
    "jdi": "jadi",
    "knp": "kenapa",
    "napa": "kenapa",
    "kpn": "kapan",
    "dmn": "dimana",
    "dmana": "dimana",
    "trs": "terus",
    "trus": "terus",
    "org": "orang",
    "hr": "hari",
    "bln": "bulan",
    "thn": "tahun",
    "mgg": "minggu",
    "mggu": "minggu",
    "rek": "rekening",
    "tlg": "tolong",
    "tlng": "tolong",
    "mksh": "makasih",
    "makasi": "makasih",
    "mksih": "makasih",
    "mkasih": "makasih",
    "maksih": "makasih",
    "thx": "thanks",
    "thanx": "thanks",
    "tq": "thanks",
    "ty": "thanks",
    "trims": "makasih",
    "tks": "makasih",
    "tf": "transfer",
    "trf": "transfer",
    "txn": "transaksi",
    "trx": "transaksi",
    "pls": "please",
    "plz": "please",
    "plis": "please",
    "u": "you",
    "ur": "your",
    "acc": "account",
    "aja": "saja",
    "ajah": "saja",
    "sj": "saja",
    "lg": "lagi",
    "lgi": "lagi",
    "sm": "sama",
    "ama": "sama",
    "mo": "mau",
    "mao": "mau",
    "pgn": "pengen",
    "pingin": "pengen",
    "pengin": "pengen",
    "bkn": "bukan",
    "emg": "emang",
    "bgt": "banget",
    "skrg": "sekarang",
    "skrng": "sekarang",
    "skg": "sekarang",
    "kmrn": "kemarin",
    "kmrin": "kemarin",
    "kemaren": "kemarin",
    "dr": "dari",
    "dri": "dari",
    "klo": "kalau",
    "kalo": "kalau",
    "kl": "kalau",
    "ato": "atau",
    "atw": "atau",
    "ni": "ini",
    "nih": "ini",
    "tu": "itu",
    "msh": "masih",
    "hrs": "harus",
    "cm": "cuma",
    "cmn": "cuma",
    "nmr": "nomor",
    "nmor": "nomer",
    "nomer": "nomor",
    "okay": "ok",
    "oke": "ok",
    "okey": "ok",
    "okeh": "ok",
    "okk": "ok",
    "y": "ya",
    "iy": "iya",
    "yoi": "iya",
    "maf": "maaf",
    "mf": "maaf",
    "kaka": "kak",
    "kakak": "kak",
    "ilang": "hilang",
    "blokiran": "blokir",
    "ngeblokir": "blokir",
    "diblokir": "blokir",
    "wa": "whatsapp",
    "sampe": "sampai",
    "ampe": "sampai",
    "gpp": "tidak apa",
    "gapapa": "tidak apa",
    "pake": "pakai",
    "pkai": "pakai",
    "bhs": "bahasa",
    "bhsa": "bahasa",
    "eng": "english",
    "engl": "english",
    "indo": "indonesia",
}

# Emoji that carry intent get a word; any other pictograph becomes the generic token.
_EMOJI_WORDS: dict[str, str] = {
    "👍": "emojiyes",
    "👌": "emojiyes",
    "✅": "emojiyes",
    "🆗": "emojiyes",
    "👎": "emojino",
    "❌": "emojino",
    "🙅": "emojino",
    "🙏": "emojipray",
    "😡": "emojiangry",
    "🤬": "emojiangry",
    "😠": "emojiangry",
    "💢": "emojiangry",
    "👋": "emojiwave",
    "😭": "emojisad",
    "😢": "emojisad",
    "😞": "emojisad",
    "❤": "emojilove",
    "🥰": "emojilove",
    "😍": "emojilove",
    "😊": "emojismile",
    "🙂": "emojismile",
    "😁": "emojismile",
}
GENERIC_EMOJI = "emojiother"

_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+){0,6}\.(?:com|id|net|org|info|xyz|ly|co|me|io|link|site|online|top|cc|biz|app)\b(?:/\S*)?",
    re.IGNORECASE,
)
_TICKET = re.compile(r"\b(cmp|blk|clm|dsr)[\s-]?\d{4}[\s-]?\d{3,8}\b", re.IGNORECASE)
_PHONE = re.compile(r"(?:\+?62|\b0)8\d{1,3}(?:[\s.-]?\d{2,5}){1,4}\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_REPEAT = re.compile(r"([a-z])\1{2,}")
_WORD = re.compile(r"[a-z]+|\d+|[^\sa-z\d]")
_PUNCT_RUN = re.compile(r"([!?.])\1+")


def _is_emoji(char: str) -> bool:
    code = ord(char)
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2600 <= code <= 0x27BF
        or 0x2B00 <= code <= 0x2BFF
        or unicodedata.category(char) == "So"
    )


def _emoji_to_words(text: str) -> str:
    if text.isascii():
        return text
    out: list[str] = []
    for char in text:
        word = _EMOJI_WORDS.get(char)
        if word is not None:
            out.append(f" {word} ")
        elif unicodedata.category(char) in {"Mn", "Cf"} or 0x1F3FB <= ord(char) <= 0x1F3FF:
            continue  # accents, variation selectors, zero-width joiners, skin tones
        elif _is_emoji(char):
            out.append(f" {GENERIC_EMOJI} ")
        else:
            out.append(char)
    return "".join(out)


def normalise(text: str) -> str:
    """Lower-case, de-emoji'd, de-stretched, abbreviation-expanded text with shaped placeholders."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = _emoji_to_words(folded)
    folded = _URL.sub(" linktoken ", folded)
    folded = _TICKET.sub(lambda match: f" ticket{match.group(1)} ", folded)
    folded = _PHONE.sub(" phonetoken ", folded)
    folded = _NUMBER.sub(" numtoken ", folded)
    folded = _REPEAT.sub(r"\1", folded)
    folded = _PUNCT_RUN.sub(r"\1", folded)
    words: list[str] = []
    for piece in _WORD.findall(folded):
        if piece.isalpha():
            words.append(ABBREVIATIONS.get(piece, piece))
        elif piece in "?!":
            words.append(piece)
    return " ".join(words)
