"""WhatsApp Flows on Loket's side: the business key, single-use Flow sessions, and the data endpoint's logic."""
