"""The outbound check: a message that asks for a secret is caught; the warning that says never to
share one is not."""

from __future__ import annotations

import pytest

from loket.security.dlp import Kind
from loket.security.dlp_outbound import asks_for_secret


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("mohon kirimkan kode OTP", Kind.OTP),
        ("Sebutkan PIN anda", Kind.PIN),
        ("please share the code we sent", Kind.OTP),
        ("berikan 6 digit kode", Kind.OTP),
        ("Silakan balas dengan kode verifikasi yang Anda terima", Kind.OTP),
        ("Kode OTP-nya tolong dikirim ya", Kind.OTP),
        ("What is your PIN?", Kind.PIN),
        ("berapa kode OTP nya?", Kind.OTP),
        ("Untuk verifikasi, ketik password anda di sini", Kind.PASSWORD),
        ("Please enter your CVV", Kind.CVV),
        ("Kirimkan nomor kartu lengkap dan CVV", Kind.CARD_NUMBER),
        ("Kami perlu kode OTP Anda untuk membatalkan transaksi", Kind.OTP),
        ("Jangan khawatir, silakan kirim kode OTP", Kind.OTP),
        ("Reply with the 6-digit code", Kind.OTP),
        ("Kami TIDAK PERNAH meminta PIN. Mohon kirimkan OTP", Kind.OTP),
        ("Bapak cukup infokan kata sandi m-banking", Kind.PASSWORD),
        ("tell me the code you received", Kind.OTP),
        ("send me your one-time password", Kind.OTP),
        ("ketik PIN kamu disini", Kind.PIN),
        ("Mohon sebutkan 3 digit di belakang kartu Anda", Kind.CVV),
    ],
)
def test_requests_are_caught(text: str, kind: Kind) -> None:
    finding = asks_for_secret(text)
    assert finding is not None, text
    assert finding.kind is kind
    assert 0 <= finding.start < finding.end <= len(text)


@pytest.mark.parametrize(
    "text",
    [
        "Jangan berikan PIN/OTP kepada siapa pun",
        "jangan berikan PIN/OTP kepada siapa pun.",
        "We will never ask for your PIN",
        "Jangan berikan PIN, OTP, atau password kepada siapa pun, termasuk petugas bank.",
        "Bank Nusantara tidak pernah meminta PIN, OTP, password atau CVV.",
        "Never share your PIN, OTP or password with anyone, including us.",
        "Jika ada yang meminta kode OTP, itu penipuan.",
        "If anyone asks for your OTP, do not give it",
        "Penipu sering meminta OTP dengan alasan hadiah.",
        "Do not share this code with anyone.",
        "OTP hanya untuk Anda. Jangan bagikan.",
        "Apa itu OTP? OTP adalah kode sekali pakai dari bank.",
        "Masukkan PIN Anda di aplikasi Nusantara Mobile untuk menyetujui.",
        "Masukkan 6 digit PIN di ATM",
        "Setujui permintaan di aplikasi Nusantara Mobile dalam 2 menit.",
        "Saldo Anda Rp1.234.567",
        "Silakan sebutkan nomor tiket pengaduan Anda",
        "Sebutkan 4 digit terakhir kartu yang ingin diblokir",
        "Please tell us the last four digits of your card",
        "Ketik 1 untuk saldo, 2 untuk mutasi",
        "Kirim bukti transfer",
        "",
    ],
)
def test_warnings_and_ordinary_messages_pass(text: str) -> None:
    assert asks_for_secret(text) is None
