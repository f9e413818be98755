"""Verifying a live database: every entry, every stored subtree hash, the head and every checkpoint."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select

from loket.audit.checkpoints import checkpoints, keys_of
from loket.audit.merkle import HASH_SIZE
from loket.audit.note import PublicKey
from loket.audit.store import head, stream_entries
from loket.audit.tables import AuditNode
from loket.audit.verify import Finding, Verifier, VerifyReport
from loket.db.engine import Database

Progress = Callable[[int, int], None]


async def verify_database(
    db: Database,
    tenant: str,
    *,
    keys: Sequence[PublicKey] | None = None,
    trusted: Sequence[str] = (),
    progress: Progress | None = None,
    check_nodes: bool = True,
) -> VerifyReport:
    """`keys`: pinned public keys (from the published list); without them the database's own are used,
    which an operator could have edited. `trusted`: checkpoints the examiner kept from earlier."""
    async with db.sessions() as session:
        stored_keys = await keys_of(session, tenant)
        notes = [c.note for c in await checkpoints(session, tenant)]
        current = await head(session, tenant)
    verifier = Verifier(tenant, keys if keys is not None else stored_keys, keep_nodes=check_nodes)
    if keys is None:
        verifier.report.warnings.append("public keys read from the database itself: pin them with --keys")
    for note in notes:
        verifier.add_checkpoint(note)
    for note in trusted:
        verifier.add_checkpoint(note, trusted=True)
    async with db.sessions() as session:
        async for entry, recorded in stream_entries(session, tenant):
            verifier.feed(entry, recorded)
            if progress is not None and verifier.report.end % 10_000 == 0:
                progress(verifier.report.end, current.size)
    report = verifier.finish()
    if progress is not None:
        progress(report.end, current.size)
    if current.size != report.end:
        report.findings.append(
            Finding(min(current.size, report.end), "head", f"the head says {current.size} entries, found {report.end}")
        )
    elif report.ok and report.end and current.root() != verifier.root():
        report.findings.append(Finding(0, "head", "the stored head's right edge does not match the entries"))
    if verifier.nodes is not None and report.ok:
        await _check_stored_nodes(db, tenant, verifier.nodes, report)
    return report


async def _check_stored_nodes(db: Database, tenant: str, expected: dict[int, bytearray], report: VerifyReport) -> None:
    """Each stored subtree hash must equal the one recomputed from the entries; proofs are built from them."""
    async with db.connect() as conn:
        for level in sorted(expected):
            want = expected[level]
            count = len(want) // HASH_SIZE
            query = (
                select(AuditNode.idx, AuditNode.hash)
                .where(AuditNode.tenant_id == tenant, AuditNode.level == level)
                .order_by(AuditNode.idx)
            )
            position = 0
            for idx, value in await conn.execute(query):
                if idx != position or position >= count or bytes(value) != want[position * 32 : position * 32 + 32]:
                    bad = min(int(idx), position)
                    report.findings.append(
                        Finding(bad << level, "node", f"stored subtree hash (level {level}, index {bad}) is wrong")
                    )
                    return
                position += 1
            if position != count:
                report.findings.append(
                    Finding(
                        position << level, "node", f"stored subtree hash (level {level}, index {position}) is missing"
                    )
                )
                return
