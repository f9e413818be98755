"""Prometheus metrics. Labels carry ids and outcomes, never personal data."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

WEBHOOK_REQUESTS = Counter("loket_webhook_requests_total", "Webhook POSTs by outcome", ["outcome"])
WEBHOOK_ITEMS = Counter("loket_webhook_items_total", "Stored webhook items by kind", ["kind"])
WEBHOOK_DUPLICATES = Counter("loket_webhook_duplicates_total", "Webhook items already stored", ["kind"])
UNKNOWN_PHONE_NUMBER = Counter(
    "loket_webhook_unknown_phone_number_total", "Webhook items for a phone_number_id no tenant owns"
)
SECRETS_REDACTED = Counter(
    "loket_inbound_secrets_redacted_total", "Inbound messages whose secrets were redacted before storage"
)
INGEST_BATCH = Histogram(
    "loket_ingest_batch_size", "Envelopes committed per database transaction", buckets=(1, 2, 4, 8, 16, 32, 64, 128)
)
INBOUND_PROCESSED = Counter("loket_inbound_processed_total", "Inbound messages processed", ["outcome"])
OUTBOX_SENT = Counter("loket_outbox_sent_total", "Outbox sends by outcome", ["outcome"])
OUTBOX_DEPTH = Gauge("loket_outbox_queued", "Outbox rows waiting to be sent")
SEND_LATENCY = Histogram("loket_graph_send_seconds", "Graph API send latency")
FLOW_REQUESTS = Counter("loket_flow_requests_total", "WhatsApp Flow data-endpoint requests by HTTP status", ["status"])
