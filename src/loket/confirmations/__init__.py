"""Transaction confirmations: the state machine and the messages (domain code, no I/O)."""
