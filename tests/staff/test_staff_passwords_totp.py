"""Password rules and hashing, TOTP windows and backup codes: the pure parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loket.clock import FakeClock
from loket.staff import totp
from loket.staff.errors import Throttled
from loket.staff.passwords import HashParameters, Passwords, WeakPassword, check_strength, strength_problems
from loket.staff.policy import StaffKeys, StaffPolicy
from loket.staff.throttle import IpLimiter

PERSONAL = ["siti.rahayu@andalas.example", "Siti Rahayu", "bank-a", "Bank Andalas"]


@pytest.mark.parametrize(
    "password",
    ["bismillah", "Bismillah123!", "sayangku2025", "P@ssw0rd2024", "indonesia1945", "qwertyuiop12", "aaaaaaaaaaaaaaa"],
)
def test_common_passwords_are_refused(password: str) -> None:
    assert any("commonly used" in p for p in strength_problems(password))


@pytest.mark.parametrize("password", ["rahayu-kopi-2024", "Andalas-hebat-sekali", "xx-siti.rahayu-xx"])
def test_personal_words_are_refused(password: str) -> None:
    assert strength_problems(password, personal=PERSONAL) == [
        "it contains your name, your email address or the institution's name"
    ]


def test_all_problems_are_listed_at_once() -> None:
    with pytest.raises(WeakPassword) as weak:
        check_strength("rahayu", personal=PERSONAL)
    assert weak.value.problems[0] == "use at least 12 characters (this one has 6)"
    assert len(weak.value.problems) == 2
    assert str(weak.value).startswith("the password is too weak: use at least 12")


def test_a_decent_passphrase_passes() -> None:
    check_strength("Kopi tubruk di pagi hari", personal=PERSONAL)
    check_strength("correct horse battery staple")


def test_hashing_is_argon2id_and_knows_when_to_upgrade() -> None:
    cheap = Passwords(HashParameters(time_cost=1, memory_kib=8, parallelism=1))
    hashed = cheap.hash("Kopi tubruk di pagi hari")
    assert hashed.startswith("$argon2id$")
    assert cheap.verify(hashed, "Kopi tubruk di pagi hari")
    assert not cheap.verify(hashed, "kopi tubruk di pagi hari")
    assert not cheap.verify("not a hash", "x")
    assert not cheap.needs_rehash(hashed)
    assert Passwords(HashParameters(time_cost=2, memory_kib=8, parallelism=1)).needs_rehash(hashed)
    assert Passwords().needs_rehash("garbage")
    cheap.burn("anything")  # no error, same cost as a verification


def test_default_cost_is_at_least_owasp() -> None:
    default = HashParameters()
    assert default.memory_kib >= 19 * 1024 and default.time_cost >= 2


NOW = datetime(2026, 11, 2, 3, 0, 10, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_totp_accepts_one_step_of_drift_each_way() -> None:
    step = totp.step_at(NOW)
    for offset in (-1, 0, 1):
        code = totp.code_at(SECRET, NOW + timedelta(seconds=30 * offset))
        assert totp.matching_step(SECRET, code, now=NOW, last_used_step=None) == step + offset
    for offset in (-2, 2):
        code = totp.code_at(SECRET, NOW + timedelta(seconds=30 * offset))
        assert totp.matching_step(SECRET, code, now=NOW, last_used_step=None) is None


def test_totp_refuses_used_and_older_steps() -> None:
    step = totp.step_at(NOW)
    code = totp.code_at(SECRET, NOW)
    assert totp.matching_step(SECRET, code, now=NOW, last_used_step=step) is None
    assert totp.matching_step(SECRET, code, now=NOW, last_used_step=step + 1) is None
    assert totp.matching_step(SECRET, code, now=NOW, last_used_step=step - 1) == step
    assert totp.matching_step(SECRET, code[:3] + " " + code[3:], now=NOW, last_used_step=None) == step
    assert totp.matching_step(SECRET, "12345a", now=NOW, last_used_step=None) is None


def test_enrolment_gives_a_uri_and_an_svg_qr_code() -> None:
    enrolment = totp.enrolment(totp.new_secret(), account="siti@andalas.example")
    assert len(enrolment.secret) == 32
    assert enrolment.provisioning_uri.startswith("otpauth://totp/Loket:siti%40andalas.example?secret=")
    assert "issuer=Loket" in enrolment.provisioning_uri
    assert enrolment.qr_svg.startswith("<svg") and enrolment.qr_svg.rstrip().endswith("</svg>")


def test_backup_codes_are_random_readable_and_keyed() -> None:
    codes = totp.new_backup_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(c) == 11 and c[5] == "-" and not set(c) & set("01ilo") for c in codes)
    keys = StaffKeys(bytes(range(32)))
    digest = totp.backup_code_hash(keys.pepper, "user-1", codes[0])
    assert digest == totp.backup_code_hash(keys.pepper, "user-1", codes[0].upper().replace("-", ""))
    assert digest != totp.backup_code_hash(keys.pepper, "user-2", codes[0])
    assert digest != totp.backup_code_hash(StaffKeys(bytes(32)).pepper, "user-1", codes[0])


def test_backoff_schedule() -> None:
    policy = StaffPolicy()
    delays = [policy.delay_after(n).total_seconds() for n in range(11)]
    assert delays == [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60]


def test_the_address_limiter_counts_failures_per_address_block() -> None:
    clock = FakeClock()
    limiter = IpLimiter(clock, limit=3)
    for _ in range(50):
        limiter.check("login", "203.0.113.1")  # successes are not counted
    for _ in range(3):
        limiter.failed("login", "2001:db8:1:2::10")
    with pytest.raises(Throttled) as throttled:
        limiter.check("login", "2001:db8:1:2:ffff::99")  # same /64
    assert throttled.value.retry_after_seconds == 20  # FakeClock's monotonic starts at 1000 s
    limiter.check("login", "2001:db8:1:3::10")  # another /64
    limiter.check("totp", "2001:db8:1:2::10")  # another family
    clock.advance(20)
    limiter.check("login", "2001:db8:1:2::10")  # a new window
