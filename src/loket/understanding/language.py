"""Which of our two languages a message is written in, from its everyday words.

Counting marker words is enough here: messages are short, the choice is between two languages
that share almost no function words, and code-mixed Indonesian ("cek balance dong") still carries
Indonesian particles. Loan words both languages use (bank, atm, ok, promo) count for neither.
"""

from __future__ import annotations

from loket.understanding.normalise import normalise

_INDONESIAN = frozenset(
    """
    saya aku gue kamu anda kak admin bapak ibu mas mbak bang dong deh sih kok ya iya nya lah kah
    yang dan atau di ke dari ini itu ada tidak bukan belum sudah mau ingin pengen bisa boleh tolong
    mohon minta apa berapa gimana bagaimana kenapa kapan dimana siapa mana cek lihat liat kirim
    hapus blokir kartu saldo rekening tabungan mutasi koran bulan minggu hari tahun lalu kemarin
    terakhir uang duit dengan untuk pada juga saja cuma lagi sama jadi kalau karena tapi terus
    hilang dicuri klaim polis premi asuransi pengaduan komplain keluhan tagihan pinjaman bunga
    terima kasih makasih halo selamat pagi siang sore malam batal jangan benar betul salah punya
    resmi nomor penipuan hadiah bahasa indonesia dulu nih banget masih harus sekarang baru lama
    pengeluaran belanja pribadi kalian kami kita mereka akan sedang pernah
    """.split()
)
_ENGLISH = frozenset(
    """
    i me my mine you your we us our the a an is are was were be been do does did not no yes
    what how why when where who which can could would should will please thanks thank hello hi hey
    check show send want need get give tell my balance statement card cards lost stolen block
    account accounts transaction transactions history last month week day days today yesterday
    money spend spent spending claim policy complaint delete personal human agent person
    speak talk english this that it of to for with from in on at and or but about have has
    morning afternoon evening bye goodbye sorry help insurance official number real scam
    """.split()
)


def guess_language(text: str) -> str | None:
    """ "id", "en", or None when the message has no marker word of either (e.g. "ok", "👍")."""
    return guess_normalised(normalise(text))


def guess_normalised(normalised_text: str) -> str | None:
    indonesian = english = 0
    for word in normalised_text.split():
        indonesian += word in _INDONESIAN
        english += word in _ENGLISH
    if indonesian == english:
        return None
    return "id" if indonesian > english else "en"
