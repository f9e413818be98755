"""Prometheus metrics of the outbound engine. Labels are ids, rule ids and states, never personal data."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DECISIONS = Counter("loket_outbound_decisions_total", "Policy gate decisions", ["verdict", "rule"])
SETTLED = Counter("loket_outbound_settled_total", "Outbox rows settled by the dispatcher, by new state", ["state"])
SENT_BY_NUMBER = Counter("loket_outbound_sent_by_number_total", "Messages accepted by Meta", ["phone_number_id"])
PACED = Counter(
    "loket_outbound_paced_total",
    "Sends paced: waited for a slot, or rescheduled because the slot was too far",
    ["key", "how"],
)
PACING_WAIT = Histogram(
    "loket_outbound_pacing_wait_seconds",
    "Time a send waited for its rate slot",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.5, 1),
)
NUMBER_HELD = Counter("loket_outbound_number_held_total", "Number-wide back-offs after 130429", ["phone_number_id"])
RECOVERED = Counter("loket_outbound_recovered_total", "Rows recovered from crashed workers", ["how"])
SETTLE_BATCH = Histogram(
    "loket_outbound_settle_batch_size", "Settled rows per transaction", buckets=(1, 4, 16, 64, 128, 256, 512)
)
QUEUE_ROWS = Gauge("loket_outbox_rows", "Outbox rows by state and priority", ["state", "priority"])
OLDEST_DUE = Gauge("loket_outbox_oldest_due_seconds", "Age of the oldest due queued row")
WORKERS_ALIVE = Gauge("loket_outbound_workers_alive", "Dispatchers with a fresh heartbeat")
LIMITER_DEGRADED = Gauge("loket_ratelimit_degraded", "1 while the shared (Redis) limiter is unreachable")
AUDIT_FAILED = Counter(
    "loket_outbound_audit_failed_total", "Policy decisions the audit log refused (kept on the outbox row)"
)
CALLBACKS = Counter("loket_institution_callbacks_total", "Callbacks to institutions by outcome", ["outcome"])
