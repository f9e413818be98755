"""Policies and claims of the demo insurer's customers."""

from __future__ import annotations

import dataclasses
import random
import string
from collections.abc import Callable
from datetime import date, timedelta

from loket.core.demo import catalog as cat
from loket.core.demo.people import PLATE_PREFIXES
from loket.core.demo.tenants import AS_HEALTH, AS_LIFE, AS_MOTOR
from loket.core.port import Claim, Customer, Policy

CLAIM_STATUSES = ("submitted", "in_review", "approved", "paid", "rejected")
_NUMBER_CODES = {"motor": "MV", "health": "HK", "life": "JW"}


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _age(dob: date, on: date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def plate_number(rng: random.Random, province: str) -> str:
    prefix = rng.choice(PLATE_PREFIXES.get(province, ("B",)))
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(1 if prefix != "B" else 2, 3)))
    return f"{prefix} {rng.randint(1, 9999)} {letters}"


def build_policies(rng: random.Random, customer: Customer, as_of: date, new_id: Callable[[str], str]) -> list[Policy]:
    """One to three policies; `new_id(prefix)` hands out unique ids."""
    kinds = [k for k, chance in (("motor", 0.6), ("health", 0.5), ("life", 0.2)) if rng.random() < chance]
    if not kinds:
        kinds = [rng.choice(("motor", "health"))]
    return [_policy(rng, customer, as_of, kind, new_id) for kind in kinds]


def _policy(rng: random.Random, customer: Customer, as_of: date, kind: str, new_id: Callable[[str], str]) -> Policy:
    age = _age(customer.date_of_birth, as_of)
    if kind == "life":
        start = as_of - timedelta(days=rng.randint(60, 5 * 365))
        end = _add_years(start, rng.choice((10, 15, 20)))
        sum_insured = rng.randrange(250_000_000, 2_000_000_001, 50_000_000)
        premium = round(sum_insured * (0.0009 + age * 0.00004) / 12, -2)
        frequency, obj, product = "monthly", f"Jiwa tertanggung: {customer.full_name}", AS_LIFE
    else:
        lapsed = rng.random() < 0.12
        start = as_of - timedelta(days=rng.randint(400, 700) if lapsed else rng.randint(20, 350))
        end = _add_years(start, 1)
        if kind == "motor":
            model, low, high = rng.choice(cat.CARS)
            vehicle_age = rng.randint(0, 8)
            value = rng.randint(low, high) * (1 - 0.08 * vehicle_age)
            sum_insured = int(round(value, -6))
            premium = int(round(sum_insured * rng.uniform(0.026, 0.039), -3))
            plate = plate_number(rng, customer.province)
            frequency, product = "yearly", AS_MOTOR
            obj = f"{model} ({start.year - vehicle_age}), {plate}"
        else:
            members = rng.randint(1, 4)
            sum_insured = rng.choice((100_000_000, 250_000_000, 500_000_000, 1_000_000_000))
            base = 250_000 + age * 9_000 + sum_insured // 2_000
            premium = round(base * (1 + 0.7 * (members - 1)), -3)
            frequency, product = "monthly", AS_HEALTH
            obj = f"Rawat inap & rawat jalan, {members} tertanggung"
    if kind != "life" and end < as_of:
        status = "lapsed"
    else:
        status = "lapsed" if kind != "motor" and rng.random() < 0.08 else "active"
    policy_id = new_id("POL")
    return Policy(
        policy_id=policy_id,
        customer_id=customer.customer_id,
        product_name=product,
        kind=kind,
        policy_number=f"ASI-{_NUMBER_CODES[kind]}-{start.year}-{policy_id[-6:]}",
        status=status,
        sum_insured=sum_insured,
        premium=int(premium),
        premium_frequency=frequency,
        start_date=start,
        end_date=end,
        insured_object=obj,
    )


def attach_claims(
    rng: random.Random, policies: list[Policy], as_of: date, new_id: Callable[[str], str]
) -> list[Policy]:
    """Give some motor and health policies claims, cycling statuses so every status appears."""
    eligible = [i for i, p in enumerate(policies) if p.kind in ("motor", "health")]
    chosen = sorted(rng.sample(eligible, min(len(eligible), max(5, len(eligible) * 2 // 5))))
    statuses = list(CLAIM_STATUSES)
    rng.shuffle(statuses)
    out = list(policies)
    n = 0
    for i in chosen:
        policy = out[i]
        claims = []
        for _ in range(rng.choice((1, 1, 2)) if policy.kind == "health" else 1):
            claims.append(_claim(rng, policy, statuses[n % len(statuses)], as_of, new_id))
            n += 1
        claims.sort(key=lambda c: c.submitted_on)
        out[i] = dataclasses.replace(policy, claims=tuple(claims))
    return out


def _claim(rng: random.Random, policy: Policy, status: str, as_of: date, new_id: Callable[[str], str]) -> Claim:
    table = cat.MOTOR_CLAIMS if policy.kind == "motor" else cat.HEALTH_CLAIMS
    # Flood damage and childbirth are the usual exclusions, so they make convincing rejections.
    description, low, high = (
        table[4 if policy.kind == "motor" else 5] if status == "rejected" else rng.choice(table[:4])
    )
    recent_days = {"submitted": 10, "in_review": 30, "approved": 45}.get(status, 300)
    latest = min(policy.end_date, as_of - timedelta(days=1))
    earliest = max(policy.start_date, latest - timedelta(days=recent_days))
    submitted = earliest + timedelta(days=rng.randint(0, max(0, (latest - earliest).days)))
    claimed = int(round(rng.randint(low, high), -3))
    approved: int | None = None
    if status in ("approved", "paid"):
        share = rng.uniform(0.75, 1.0) if policy.kind == "motor" else rng.uniform(0.85, 1.0)
        deductible = cat.MOTOR_DEDUCTIBLE if policy.kind == "motor" else 0
        approved = int(round(claimed * share, -3)) - deductible
    return Claim(
        claim_id=new_id("CLM"),
        policy_id=policy.policy_id,
        submitted_on=submitted,
        status=status,
        amount_claimed=claimed,
        amount_approved=approved,
        description=description,
    )
