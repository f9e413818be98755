"""The dispatcher: claims due outbox rows, passes them through the policy gate and the pacer, sends
them, records what Meta said.

No transaction is open while a request is in flight: a batch is claimed (state `sending`) and
committed, gated, paced and sent, then settled in batches (settle.py). Messages to one recipient go
out in order: only the oldest unsettled row per recipient can be claimed (a row the gate deferred
to a later slot does not hold the others back). A row left in `sending` by a crashed worker
becomes `unknown` (workers.py) and is reconciled from status webhooks (biz_opaque_callback_data
carries the outbox id), never blindly resent.

Gate (policy.py): Allow sends; Defer requeues at the exact next allowed moment without counting an
attempt; Refuse ends the row as `refused` and tells the institution; SwitchToTemplate sends the
row's approved fallback template. Pacing (ratelimit*.py): the number at its configured rate (with
headroom) and, for business-initiated purposes, the recipient at the pair rate; a slot further
away than a moment reschedules the row rather than holding a worker slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Select

from loket.channel.errors import ChannelError
from loket.channel.outgoing import JSONObject
from loket.channel.port import ChannelPort
from loket.clock import Clock, system_clock
from loket.db.engine import Database
from loket.metrics import OUTBOX_SENT, SEND_LATENCY
from loket.outbound.claim import Claimed, claim_rows, due_rows, release_claims
from loket.outbound.facts import DbPolicyFacts
from loket.outbound.metrics import DECISIONS, NUMBER_HELD, SENT_BY_NUMBER
from loket.outbound.outbox import READ_RECEIPT
from loket.outbound.outcomes import Outcome, outcome_for
from loket.outbound.pacing import Pacing, pace
from loket.outbound.policy import OutboundPolicy, PolicyRequest
from loket.outbound.policy_content import PolicyInputError
from loket.outbound.policy_rules import Decision, Defer, Refuse, Rule, SwitchToTemplate, Verdict
from loket.outbound.ratelimit import LocalGcra, RateLimiter, pair_key, sender_key
from loket.outbound.settle import OutcomeListener, Settle, SettleWriter
from loket.tenancy.directory import PhoneDirectory

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoredPayload:
    """An outbox payload, already validated when it was queued."""

    payload: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.payload.get("type", "unknown"))

    def validate(self) -> None:
        return None

    def to_payload(self) -> JSONObject:
        return cast(JSONObject, self.payload)


@dataclass(frozen=True, slots=True)
class _Go:
    row: Claimed
    payload: dict[str, Any]
    decisions: list[Decision]


class Dispatcher:
    def __init__(
        self,
        db: Database,
        channel: ChannelPort,
        directory: PhoneDirectory,
        *,
        clock: Clock = system_clock,
        concurrency: int = 64,
        worker_id: str | None = None,
        pace: bool | Pacing = True,
        limiter: RateLimiter | None = None,
        policy: OutboundPolicy | None = None,
        facts: DbPolicyFacts | None = None,
        listener: OutcomeListener | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self._channel = channel
        self._directory = directory
        self._clock = clock
        self._concurrency = concurrency
        self._in_flight: set[asyncio.Task[None]] = set()
        self._busy = 0  # claimed rows not yet sent or set aside: what `concurrency` bounds
        self._released = asyncio.Event()
        self.pacing = pace if isinstance(pace, Pacing) else Pacing(enabled=pace)
        # (not `limiter or ...`: an empty LocalGcra is falsy, it has a __len__)
        self.limiter: RateLimiter = limiter if limiter is not None else LocalGcra(clock=clock)
        self.policy = policy if policy is not None else OutboundPolicy(clock=clock)
        self.facts = facts if facts is not None else DbPolicyFacts(db, directory, clock=clock, templates=None)
        self._rng = rng if rng is not None else random.Random()
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:8]}"
        self.writer = SettleWriter(db, self.worker_id, clock=clock, listener=listener)
        self.wake = asyncio.Event()
        self._stopping = False
        self._sends: dict[asyncio.Future[None], Claimed] = {}  # send tasks and their rows
        self._on_wire: set[int] = set()  # rows whose request may have left: never released, never resent
        self._held: set[int] = set()  # rows claimed by this worker whose settle has not committed yet

    # --- claiming -------------------------------------------------------------------------------

    def _due(self, limit: int) -> Select[Any]:
        return due_rows(self._clock.now(), limit)

    async def claim(self, limit: int) -> list[Claimed]:
        rows = await claim_rows(self._db, self.worker_id, self._clock.now(), limit)
        self._held.update(row.id for row in rows)
        return rows

    async def release_orphans(self) -> int:
        """Put back rows claimed under this worker's id that it does not hold: a claim whose commit
        reached the database while the connection broke (a database restart) returned nothing."""
        return await release_claims(self._db, self.worker_id, keep=self._held)

    # --- the policy gate ------------------------------------------------------------------------

    def _request(self, row: Claimed, payload: dict[str, Any]) -> PolicyRequest:
        return PolicyRequest(row.tenant_id, row.phone_number_id, row.to_wa_id, row.purpose_enum, payload)

    async def _gate(self, rows: Sequence[Claimed]) -> list[_Go]:
        go = [_Go(row, row.payload, []) for row in rows if row.kind == READ_RECEIPT]
        messages = [row for row in rows if row.kind != READ_RECEIPT]
        facts = await self.facts.facts_for([self._request(row, row.payload) for row in messages])
        switched: list[tuple[Claimed, Decision]] = []
        for row, fact in zip(messages, facts, strict=True):
            if isinstance(fact, PolicyInputError):
                self._spawn(self._finish(row, "dead", f"policy facts: {fact}"[:300]), row=True)
                continue
            decision = self._decided(self.policy.decide(fact))
            if isinstance(decision, SwitchToTemplate) and row.fallback:
                switched.append((row, decision))
            elif decision.verdict is Verdict.ALLOW:
                go.append(_Go(row, row.payload, [decision]))
            else:
                self._spawn(self._not_now(row, decision), row=True)
        if switched:
            again = await self.facts.facts_for([self._request(row, row.fallback or {}) for row, _ in switched])
            for (row, switch), fact in zip(switched, again, strict=True):
                if isinstance(fact, PolicyInputError):
                    failed = self._finish(row, "dead", f"fallback template: {fact}"[:300], decisions=[switch])
                    self._spawn(failed, row=True)
                    continue
                decision = self._decided(self.policy.decide(fact))
                if decision.verdict is Verdict.ALLOW:
                    go.append(_Go(row, row.fallback or {}, [switch, decision]))
                else:
                    self._spawn(self._not_now(row, decision, earlier=[switch]), row=True)
        return go

    @staticmethod
    def _decided(decision: Decision) -> Decision:
        DECISIONS.labels(decision.verdict.value, decision.rule_id).inc()
        return decision

    async def _not_now(self, row: Claimed, decision: Decision, earlier: Sequence[Decision] = ()) -> None:
        decisions = [*earlier, decision]
        if isinstance(decision, Defer):
            values = self._requeue_values(decision.until, counted=False, row=row)
            await self._settle(row, values | _policy_values(decision), decisions=decisions)
        elif isinstance(decision, Refuse | SwitchToTemplate):
            reason = f"refused by policy rule {decision.rule_id}" + (
                "" if isinstance(decision, Refuse) else " (no approved template to send instead)"
            )
            await self._finish(row, "refused", reason, decisions=decisions, notify="message.refused")
        else:  # an Allow never gets here
            raise AssertionError(decision)

    # --- sending --------------------------------------------------------------------------------

    async def _send(self, go: _Go) -> None:
        row = go.row
        try:
            number = await self._directory.number(row.phone_number_id)
            if number is None or number.status != "active":
                await self._finish(row, "refused", "phone number not active", notify="message.refused")
                return
            token = await self._directory.access_token(row.phone_number_id)
            if self.pacing.enabled:
                delay = await pace(self.limiter, self.pacing, row, number)
                if delay is not None:
                    values = self._requeue_values(self._clock.now() + timedelta(seconds=delay), counted=False, row=row)
                    await self._settle(row, values, decisions=go.decisions)
                    return
            started = self._clock.monotonic()
            self._on_wire.add(row.id)
            if row.kind == READ_RECEIPT:
                await self._channel.mark_read(
                    row.phone_number_id, token, str(row.payload["message_id"]), typing=bool(row.payload.get("typing"))
                )
                wamid = None
            else:
                sent = await self._channel.send(
                    row.phone_number_id,
                    token,
                    row.to_wa_id,
                    StoredPayload(go.payload),
                    biz_opaque_callback_data=str(row.id),
                    context_message_id=row.context_message_id,
                )
                wamid = sent.wamid
            SEND_LATENCY.observe(self._clock.monotonic() - started)
        except asyncio.CancelledError:
            self._abandon(row, decisions=go.decisions)
            raise
        except ChannelError as exc:
            await self._failed(go, exc)
            return
        except Exception as exc:
            # Not a channel answer (a bad payload, a missing token): retrying cannot help.
            log.exception("outbox %s could not be sent", row.id)
            OUTBOX_SENT.labels("dead").inc()
            await self._finish(row, "dead", type(exc).__name__, decisions=go.decisions, notify="message.failed")
            return
        OUTBOX_SENT.labels("sent").inc()
        SENT_BY_NUMBER.labels(row.phone_number_id).inc()
        sent_values: dict[str, Any] = {"state": "sent", "sent_at": self._clock.now(), "wamid": wamid}
        sent_values["attempts"] = row.attempts + 1
        if go.decisions:
            sent_values.update(_policy_values(go.decisions[-1]))
        if go.payload is not row.payload:
            sent_values.update(payload=go.payload, kind=str(go.payload.get("type", "unknown")))
        await self._settle(row, sent_values, decisions=go.decisions)

    def _abandon(self, row: Claimed, *, decisions: list[Decision]) -> None:
        """A send cancelled at shutdown: back to the queue if its request never left, else
        `unknown`, for the status webhook to settle (never resent blindly)."""
        if row.id in self._on_wire:
            values: dict[str, Any] = {"state": "unknown", "last_error": "worker stopped with the request in flight"}
        else:
            values = {"state": "queued", "claimed_by": None, "claimed_at": None}  # its place in the queue kept
        done = self.writer.submit(Settle(row.id, row.tenant_id, row.to_wa_id, row.origin, values, decisions))
        done.add_done_callback(lambda _: self._held.discard(row.id))

    async def _failed(self, go: _Go, exc: ChannelError) -> None:
        row = go.row
        attempts = row.attempts + 1
        outcome = outcome_for(
            exc,
            attempts=attempts,
            now=self._clock.now(),
            deadline=row.due_by(),
            has_fallback=bool(row.fallback) and go.payload is row.payload,
            rng=self._rng,
        )
        OUTBOX_SENT.labels(_legacy_label(exc, outcome)).inc()
        await self._hold(row, outcome)
        values: dict[str, Any] = {"last_error": outcome.reason, "last_error_code": outcome.code}
        if go.decisions:
            values.update(_policy_values(go.decisions[-1]))
        counted = attempts if outcome.count_attempt else row.attempts
        if outcome.state == "queued":
            at = self._clock.now() + timedelta(seconds=outcome.delay or 0.0)
            values |= self._requeue_values(at, counted=outcome.count_attempt, row=row)
            if outcome.use_template and row.fallback:
                values.update(payload=row.fallback, kind=str(row.fallback.get("type", "template")))
        else:
            values.update(state=outcome.state, attempts=counted)
        log.warning("outbox %s: %s (%s), attempt %d", row.id, outcome.state, outcome.code, attempts)
        await self._settle(row, values, decisions=go.decisions, opt_out=outcome.opt_out, notify=outcome.notify)

    async def _hold(self, row: Claimed, outcome: Outcome) -> None:
        if outcome.hold_sender:
            NUMBER_HELD.labels(row.phone_number_id).inc()
            await self.limiter.hold(sender_key(row.phone_number_id), outcome.hold_sender)
        if outcome.hold_pair:
            await self.limiter.hold(pair_key(row.phone_number_id, row.to_wa_id), outcome.hold_pair)

    def _requeue_values(self, at: datetime, *, counted: bool, row: Claimed) -> dict[str, Any]:
        return {
            "state": "queued",
            "not_before": at,
            "claimed_by": None,
            "claimed_at": None,
            "attempts": row.attempts + 1 if counted else row.attempts,
        }

    async def _finish(
        self,
        row: Claimed,
        state: str,
        reason: str,
        *,
        decisions: Sequence[Decision] = (),
        notify: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"state": state, "last_error": reason[:300]}
        if decisions:
            values.update(_policy_values(decisions[-1]))
        await self._settle(row, values, decisions=list(decisions), notify=notify)

    async def _settle(
        self,
        row: Claimed,
        values: dict[str, Any],
        *,
        decisions: list[Decision],
        opt_out: bool = False,
        notify: str | None = None,
    ) -> None:
        item = Settle(row.id, row.tenant_id, row.to_wa_id, row.origin, values, decisions, opt_out, notify)
        # The worker slot is free once the request is answered; the row stays `sending` until the
        # settle commits, which is all the ordering and recovery rules need.
        self.writer.submit(item).add_done_callback(lambda _: self._settled(row.id))

    def _settled(self, row_id: int) -> None:
        self._held.discard(row_id)
        self.wake.set()

    # --- the loop -------------------------------------------------------------------------------

    def _spawn(self, work: Awaitable[None], *, row: bool = False) -> asyncio.Future[None]:
        """Run `work` in the background; `row=True`: it finishes one claimed row, freeing its slot."""
        task = asyncio.ensure_future(work)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        if row:
            task.add_done_callback(self._release)
        return task

    def _sent_off(self, task: asyncio.Future[None]) -> None:
        row = self._sends.pop(task, None)
        if row is not None:
            self._on_wire.discard(row.id)

    def _release(self, _: object) -> None:
        self._busy -= 1
        self._released.set()

    async def run_once(self) -> int:
        free = self._concurrency - self._busy
        if free <= 0:
            return 0
        rows = await self.claim(free)
        if not rows:
            return 0
        self._busy += len(rows)
        await self._gate_and_send(rows)
        return len(rows)

    async def _gate_and_send(self, rows: list[Claimed]) -> None:
        try:
            ready = await self._gate(rows)
        except Exception:
            log.exception("the policy gate could not run for %d rows; they go back to the queue", len(rows))
            for row in rows:
                values = self._requeue_values(self._clock.now() + timedelta(seconds=5), counted=False, row=row)
                self._spawn(self._settle(row, values, decisions=[]), row=True)
            return
        for go in ready:
            task = self._spawn(self._send(go), row=True)
            self._sends[task] = go.row
            task.add_done_callback(self._sent_off)

    async def drain(self) -> None:
        """Send everything due now and wait for it (tests, shutdown)."""
        while True:
            await self.run_once()
            if not self._in_flight:
                await self.writer.flushed()
                if not await self.claim_peek():
                    return
                continue
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def claim_peek(self) -> bool:
        async with self._db.sessions() as session:
            return (await session.execute(self._due(1))).first() is not None

    async def run_forever(self, *, idle_poll: float = 0.1) -> None:
        """Claims and sends until `stop_claiming()`; then returns (the sends go on: `shutdown`)."""
        while not self._stopping:
            try:
                claimed = await self.run_once()
            except Exception:
                log.exception("dispatch pass failed; retrying")
                claimed = 0
                await asyncio.sleep(1.0)
                with contextlib.suppress(Exception):  # the database may still be away: next failure
                    if released := await self.release_orphans():
                        log.warning("dispatcher %s put back %d rows of a claim it never got", self.worker_id, released)
            if claimed:
                # Claim in batches, not a row at a time as single slots free up: each claim is a
                # transaction and a gate pass, whatever its size.
                while self._busy > self._concurrency // 2 and not self._stopping:
                    self._released.clear()
                    await self._released.wait()
                continue
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=idle_poll)
            except TimeoutError:
                pass

    def stop_claiming(self) -> None:
        """The first step of a graceful stop: claim nothing more (`run_forever` returns)."""
        self._stopping = True
        self.wake.set()
        self._released.set()

    async def shutdown(self, grace: float) -> ShutdownReport:
        """Stop gracefully: claim nothing more, put back the claimed rows whose request has not left
        (waiting for a rate slot, say), let the requests in flight finish for up to `grace` seconds,
        then mark the ones still unanswered `unknown` (status webhooks settle them) and return any
        row still claimed to the queue."""
        self.stop_claiming()
        waiting = [task for task, row in self._sends.items() if row.id not in self._on_wire]
        for task in waiting:
            task.cancel()
        in_flight = len(self._sends) - len(waiting)
        late: set[asyncio.Future[None]] = set()
        if self._in_flight:
            _, late = await asyncio.wait(set(self._in_flight), timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        try:
            # Bounded too: with the database away the rows stay `sending` and are recovered as
            # `unknown` after the heartbeat timeout (then settled by their status webhook).
            await asyncio.wait_for(self.writer.flushed(), timeout=max(grace, 5.0))
            swept = await release_claims(self._db, self.worker_id)
        except Exception:  # the database is away: the rows wait for heartbeat recovery instead
            log.exception("dispatcher %s could not settle or put back its claimed rows", self.worker_id)
            swept = 0
        report = ShutdownReport(released=len(waiting) + swept, finished=in_flight - len(late), unknown=len(late))
        log.info(
            "dispatcher %s stopped: %d in-flight sends finished, %d left unknown, %d claimed rows released",
            self.worker_id,
            report.finished,
            report.unknown,
            report.released,
        )
        return report

    async def close(self) -> None:
        if self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)
        await self.writer.flushed()

    async def recover_stale(self) -> int:
        """Rows a crashed worker left in `sending` become `unknown` (see workers.py)."""
        from loket.outbound.workers import recover_claims

        return await recover_claims(self._db, clock=self._clock, exclude=self.worker_id)


@dataclass(frozen=True, slots=True)
class ShutdownReport:
    released: int  # claimed rows put back in the queue, never sent
    finished: int  # sends in flight that were answered within the grace period
    unknown: int  # sends still unanswered at the end of it: `unknown`, settled by status webhooks


def _policy_values(decision: Decision) -> dict[str, Any]:
    return {
        "policy_verdict": decision.verdict.value,
        "policy_rule": decision.rule_id,
        "policy_record": decision.as_record(),
        "purpose": decision.evaluation.purpose.value,
    }


def _legacy_label(exc: ChannelError, outcome: Outcome) -> str:
    """The `loket_outbox_sent_total` outcome label: the channel's action, as before the gate existed."""
    return exc.action.value if outcome.state != "dead" else "dead"


__all__ = ["Claimed", "Dispatcher", "Pacing", "Rule", "ShutdownReport", "StoredPayload"]
