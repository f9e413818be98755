"""The storage side of the conversation: security signals, step-up watches, documents to upload,
human handoffs and the agent API. Adapters around the pure engine (loket.conversation)."""
