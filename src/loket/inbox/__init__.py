"""The durable inbox: webhook envelopes in, one row per message and status, processed in order."""
