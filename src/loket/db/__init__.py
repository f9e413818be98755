"""Storage: one schema on SQLite (embedded default) and PostgreSQL (production)."""
