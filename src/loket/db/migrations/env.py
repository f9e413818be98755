"""Alembic environment: always driven programmatically by loket.db.migrate with a live connection."""

from __future__ import annotations

from alembic import context

from loket.audit import tables as audit_tables  # noqa: F401  (registers the audit tables)
from loket.complaints import tables as complaints_tables  # noqa: F401  (registers the complaints tables)
from loket.console import conversation_tables as console_conversation_tables  # noqa: F401  (console: notes, CSAT)
from loket.console import tables as console_tables  # noqa: F401  (registers the console inbox tables)
from loket.db import models  # noqa: F401  (registers the tables)
from loket.db.base import Base
from loket.dialogue import tables as dialogue_tables  # noqa: F401  (registers the conversation tables)
from loket.events import tables as events_tables  # noqa: F401  (registers the events tables)
from loket.outbound import tables as outbound_tables  # noqa: F401  (registers the outbound tables)
from loket.privacy import tables as privacy_tables  # noqa: F401  (registers the privacy tables)
from loket.security import tables as security_tables  # noqa: F401  (registers the key tables)
from loket.staff import tables as staff_tables  # noqa: F401  (registers the staff tables)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
