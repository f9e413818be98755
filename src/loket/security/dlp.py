"""The secret shield: find OTPs, PINs, passwords, card numbers, CVVs, NIKs and risky account numbers
in a customer's message, and produce the text Loket may store and show staff, with each secret
replaced by a neutral marker.

Digits alone say little, so every kind but card numbers and NIKs needs its context ("kode OTP 123456",
"pin atm 1234", "password: hunter2", "cvv 123"); card numbers need a valid Luhn check digit and a
plausible issuer prefix; NIKs a plausible province, birth date and serial. Ordinary amounts, dates,
phone numbers and ticket numbers are not secrets. Everything is precompiled and a message without
digits or a password word costs a few microseconds.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from loket.security.dlp_rules import (
    ACCOUNT_NUMBER,
    CARD_TAIL_CVV,
    CREDENTIAL_WORDS,
    CVV_DESCRIBED,
    CVV_EXPLICIT,
    DIGIT_RUN,
    OTP_AFTER,
    OTP_BEFORE,
    OTP_FROM_SMS,
    PASSWORD,
    PASSWORD_HINT,
    PIN_AFTER,
    PIN_BEFORE,
    card_candidates,
    nik_context,
    nik_plausible,
    otp_keyword_allowed,
    password_confidence,
)


class Kind(enum.StrEnum):
    OTP = "otp"
    PIN = "pin"
    PASSWORD = "password"  # noqa: S105 - the name of a kind of secret
    CARD_NUMBER = "card_number"
    CVV = "cvv"
    NIK = "nik"
    ACCOUNT_NUMBER = "account_number"


# Neutral markers for what is stored and shown to staff; the customer's warning comes from the
# message catalogs, keyed by kind.
MARKERS: dict[Kind, str] = {
    Kind.OTP: "[OTP disembunyikan]",
    Kind.PIN: "[PIN disembunyikan]",
    Kind.PASSWORD: "[kata sandi disembunyikan]",
    Kind.CARD_NUMBER: "[nomor kartu disembunyikan]",
    Kind.CVV: "[CVV disembunyikan]",
    Kind.NIK: "[NIK disembunyikan]",
    Kind.ACCOUNT_NUMBER: "[nomor rekening disembunyikan]",
}
# When two findings overlap, the surer one wins, and between equally sure ones the earlier kind here.
_PRIORITY = (Kind.CARD_NUMBER, Kind.NIK, Kind.CVV, Kind.PIN, Kind.OTP, Kind.PASSWORD, Kind.ACCOUNT_NUMBER)
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    start: int
    end: int
    confidence: float

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


@dataclass(frozen=True, slots=True)
class ScanResult:
    findings: tuple[Finding, ...]
    redacted: str

    @property
    def kinds(self) -> frozenset[Kind]:
        return frozenset(finding.kind for finding in self.findings)

    def __bool__(self) -> bool:
        return bool(self.findings)


def _cards_and_niks(text: str, out: list[Finding]) -> None:
    for run in DIGIT_RUN.finditer(text):
        for start, end, digits, luhn in card_candidates(text, run):
            if nik_plausible(digits) and (not luhn or nik_context(text, start)):
                out.append(Finding(Kind.NIK, start, end, 0.95 if nik_context(text, start) else 0.8))
            elif luhn:
                out.append(Finding(Kind.CARD_NUMBER, start, end, 0.95))
                tail = CARD_TAIL_CVV.match(text, end)
                if tail:
                    out.append(Finding(Kind.CVV, tail.start("cvv"), tail.end("cvv"), 0.6))


def _contextual(text: str, out: list[Finding]) -> None:
    for pattern in (CVV_EXPLICIT, CVV_DESCRIBED):
        for match in pattern.finditer(text):
            out.append(Finding(Kind.CVV, match.start("secret"), match.end("secret"), 0.9))
    # A keyword before the digits ("pin 1234") is surer than one after them ("1234 itu pin").
    for pattern, confidence in ((PIN_BEFORE, 0.9), (PIN_AFTER, 0.8)):
        for match in pattern.finditer(text):
            out.append(Finding(Kind.PIN, match.start("secret"), match.end("secret"), confidence))
    for pattern, confidence in ((OTP_BEFORE, 0.9), (OTP_AFTER, 0.8)):
        for match in pattern.finditer(text):
            if otp_keyword_allowed(text, match):
                out.append(Finding(Kind.OTP, match.start("secret"), match.end("secret"), confidence))
    for match in OTP_FROM_SMS.finditer(text):
        out.append(Finding(Kind.OTP, match.start("secret"), match.end("secret"), 0.7))


def _passwords(text: str, out: list[Finding]) -> None:
    for match in PASSWORD.finditer(text):
        confidence = password_confidence(match)
        if confidence > 0.0:
            start = match.start("secret")
            secret = match.group("secret")
            trimmed = secret.rstrip(".,;:)") or secret  # sentence punctuation after the password stays
            out.append(Finding(Kind.PASSWORD, start, start + len(trimmed), confidence))


def _accounts(text: str, found: list[Finding], out: list[Finding]) -> None:
    risky = any(f.kind in {Kind.PIN, Kind.OTP, Kind.PASSWORD, Kind.CVV} for f in found)
    if not risky and not CREDENTIAL_WORDS.search(text):
        return
    for match in ACCOUNT_NUMBER.finditer(text):
        out.append(Finding(Kind.ACCOUNT_NUMBER, match.start("secret"), match.end("secret"), 0.7))


def _resolve(findings: list[Finding]) -> tuple[Finding, ...]:
    ordered = sorted(findings, key=lambda f: (-f.confidence, _PRIORITY.index(f.kind), f.start))
    kept: list[Finding] = []
    for finding in ordered:
        if all(finding.end <= other.start or other.end <= finding.start for other in kept):
            kept.append(finding)
    return tuple(sorted(kept, key=lambda f: f.start))


def redact(text: str, findings: tuple[Finding, ...] | list[Finding]) -> str:
    """`text` with each (non-overlapping) finding replaced by its kind's marker."""
    parts: list[str] = []
    position = 0
    for finding in sorted(findings, key=lambda f: f.start):
        parts.append(text[position : finding.start])
        parts.append(MARKERS[finding.kind])
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def scan(text: str) -> ScanResult:
    """The secrets in an inbound text or caption, and the text with them redacted."""
    found: list[Finding] = []
    has_digit = _DIGIT.search(text) is not None
    if has_digit:
        _cards_and_niks(text, found)
        _contextual(text, found)
    if PASSWORD_HINT.search(text):
        _passwords(text, found)
    if has_digit:
        _accounts(text, list(found), found)
    if not found:
        return ScanResult((), text)
    findings = _resolve(found)
    return ScanResult(findings, redact(text, findings))
