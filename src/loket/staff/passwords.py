"""Staff passwords: argon2id hashes that upgrade themselves on login, and a minimum strength check."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256

# A small list on purpose: the length rule does most of the work, this catches what people still pick.
COMMON_PASSWORDS = frozenset(
    {
        # international
        "password", "passw0rd", "qwerty", "qwertyuiop", "asdfghjkl", "zxcvbnm", "letmein", "welcome",
        "iloveyou", "admin", "administrator", "changeme", "monkey", "dragon", "sunshine", "princess",
        "football", "baseball", "superman", "batman", "trustno1", "master", "secret", "starwars",
        "whatever", "shadow", "michael", "charlie", "jennifer", "computer", "internet", "abcdef",
        "abcdefghijkl", "abc123", "123456", "1234567890", "12345678910", "123456789012", "111111111111",
        "000000000000", "123123123123", "987654321", "qazwsxedc", "1q2w3e4r5t6y", "q1w2e3r4t5y6",
        # Indonesian
        "bismillah", "sayangku", "sayang", "cintaku", "cinta", "kasih", "rahasia", "rahasiaku",
        "indonesia", "merdeka", "garuda", "pancasila", "jakarta", "surabaya", "bandung", "semarang",
        "medan", "yogyakarta", "persib", "persija", "arema", "alhamdulillah", "assalamualaikum",
        "insyaallah", "masyaallah", "allahuakbar", "subhanallah", "bidadari", "doraemon", "kucing",
        "anjing", "bangsat", "sayangkamu", "akusayangkamu", "cintakamu", "katasandi", "katasandiku",
        "kunci", "masuk", "selamat", "selamatdatang", "bangkit", "bismillah123", "indonesiaraya",
        "nasigoreng", "rendang", "bakso", "cilok", "mamah", "mamaku", "papaku", "ayahku", "ibuku",
        "bebas", "tuhan", "doa", "semangat", "kampret", "rahmat", "sentosa", "sejahtera", "juara",
    }
)  # fmt: skip

_EDGE_NOISE = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t"})


class WeakPassword(ValueError):
    """Lists every rule the password broke, so the user can fix all of them at once."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("the password is too weak: " + "; ".join(problems))


def strength_problems(password: str, *, personal: Iterable[str] = ()) -> list[str]:
    """Rules broken by `password`; `personal` holds the email, names and tenant names it must not contain."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"use at least {MIN_LENGTH} characters (this one has {len(password)})")
    if len(password) > MAX_LENGTH:
        problems.append(f"use at most {MAX_LENGTH} characters")
    lowered = password.casefold()
    core = _EDGE_NOISE.sub("", lowered)
    cores = {core, core.translate(_LEET), _EDGE_NOISE.sub("", lowered.translate(_LEET))}
    if lowered in COMMON_PASSWORDS or cores & COMMON_PASSWORDS or _is_repetitive(lowered):
        problems.append("it is a commonly used password, or one with digits or symbols merely added")
    for word in _personal_words(personal):
        if word in lowered:
            problems.append("it contains your name, your email address or the institution's name")
            break
    return problems


def check_strength(password: str, *, personal: Iterable[str] = ()) -> None:
    problems = strength_problems(password, personal=personal)
    if problems:
        raise WeakPassword(problems)


def _is_repetitive(password: str) -> bool:
    return len(set(password)) <= 3


def _personal_words(values: Iterable[str]) -> set[str]:
    words: set[str] = set()
    for value in values:
        lowered = value.casefold().strip()
        if not lowered:
            continue
        local = lowered.split("@", 1)[0]
        for candidate in (lowered, local, *re.split(r"[\s._+\-@]+", lowered)):
            if len(candidate) >= 4:
                words.add(candidate)
    return words


@dataclass(frozen=True)
class HashParameters:
    """argon2id cost; OWASP's floor is m=19 MiB, t=2. Tests lower it to keep the suite fast."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4


class Passwords:
    def __init__(self, parameters: HashParameters | None = None) -> None:
        p = parameters or HashParameters()
        self._hasher = PasswordHasher(
            time_cost=p.time_cost, memory_cost=p.memory_kib, parallelism=p.parallelism, type=Type.ID
        )
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    def burn(self, password: str) -> None:
        """Spend the time of one verification, so an unknown account answers as slowly as a known one."""
        if self._dummy is None:
            self._dummy = self._hasher.hash("loket: no such account")
        self.verify(self._dummy, password)
