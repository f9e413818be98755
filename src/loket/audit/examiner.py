"""Building the examiner's report from the live log, pinned to the latest signed checkpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from loket.audit.canonical import Entry
from loket.audit.checkpoints import latest_checkpoint
from loket.audit.note import parse_body, split_note
from loket.audit.report import ExaminerReport, summarise_async
from loket.audit.store import seq_range, stream_entries
from loket.clock import Clock, system_clock
from loket.db.engine import Database


async def build_report(
    db: Database, tenant: str, start: datetime, end: datetime, *, clock: Clock = system_clock
) -> ExaminerReport | None:
    async with db.sessions() as session:
        latest = await latest_checkpoint(session, tenant)
        span = await seq_range(session, tenant, start, end)
    if latest is None:
        return None
    body, signatures = split_note(latest.note)
    report = ExaminerReport(tenant, start, end, clock.now(), parse_body(body), signatures[0][1].hex())
    if span is None:
        return report

    async def entries() -> AsyncIterator[Entry]:
        async with db.sessions() as session:
            async for entry, _ in stream_entries(session, tenant, start=span[0], stop=min(span[1], latest.size)):
                yield entry

    return await summarise_async(report, entries())
