"""The examiner's report: counts, reveals per person, refusals per rule, data-subject request timeliness."""

from __future__ import annotations

from datetime import timedelta

from loket.audit.checkpoints import cut_checkpoint
from loket.audit.events import EventType
from loket.audit.examiner import build_report
from loket.audit.keys import KeyRing
from loket.audit.log import AuditLog
from loket.audit.render import to_html, to_pdf
from loket.clock import FakeClock
from loket.db.engine import Database

T = "bank-nusantara"


async def test_report_figures(audit: AuditLog, keyring: KeyRing, clock: FakeClock, db: Database) -> None:
    start = clock.now()

    async def rec(event: EventType, actor: str | None = None, **fields: object) -> None:
        clock.advance(600)
        await audit.record(event, tenant=T, actor=actor, fields=fields)

    for staff, reason in [("staff:1", "complaint"), ("staff:1", "fraud_investigation"), ("staff:2", "complaint")]:
        await rec(EventType.PII_REVEALED, staff, staff=staff, customer="6281", field="nik", reason=reason)
    for rule, decision in [
        ("offer_hours", "blocked"),
        ("offer_hours", "blocked"),
        ("consent", "blocked"),
        ("x", "allowed"),
    ]:
        await rec(EventType.POLICY_DECISION, rule=rule, decision=decision, message_class="marketing")
    due = lambda: clock.now() + timedelta(hours=72)  # noqa: E731
    await rec(EventType.DSR_RECEIVED, request="dsr-1", right="access", customer="6281", due_at=due())
    await rec(EventType.DSR_RECEIVED, request="dsr-2", right="erasure", customer="6282", due_at=due())
    await rec(EventType.DSR_RECEIVED, request="dsr-3", right="rectification", customer="6283", due_at=due())
    await rec(EventType.DSR_COMPLETED, request="dsr-1", outcome="fulfilled")
    clock.advance(80 * 3600)
    await rec(EventType.DSR_COMPLETED, request="dsr-2", outcome="fulfilled")
    await rec(EventType.COMPLAINT_MILESTONE, complaint="c-1", milestone="received")
    await cut_checkpoint(keyring, T)
    await rec(EventType.STAFF_LOGIN, "staff:1", staff="staff:1", method="password_totp")  # after the checkpoint

    report = await build_report(db, T, start, clock.now() + timedelta(days=1), clock=clock)
    assert report is not None
    ctx = report.context()
    assert ctx["checkpoint"]["size"] == 13 and ctx["entries"] == 13
    assert dict(ctx["by_type"])["policy.decision"] == 4 and "staff.login" not in dict(ctx["by_type"])
    assert ctx["reveals"] == [
        ("staff:1", 2, {"complaint": 1, "fraud_investigation": 1}),
        ("staff:2", 1, {"complaint": 1}),
    ]
    assert ctx["refusals"] == [("offer_hours", 2), ("consent", 1)]
    assert ctx["dsr_summary"] == {"late": 1, "on time": 1, "open, overdue": 1}
    html = to_html(report)
    assert "offer_hours" in html and "open, overdue" in html and "6281" not in html
    assert to_pdf(report).startswith(b"%PDF")


async def test_no_report_without_a_checkpoint(db: Database, clock: FakeClock) -> None:
    assert await build_report(db, T, clock.now(), clock.now(), clock=clock) is None
