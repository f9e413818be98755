"""Audit tables. Entries and stored hashes are insert-only; the head row is the per-tenant append lock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import BigInteger, Index, LargeBinary, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from loket.db.base import Base, BigId, UTCDateTime


class CanonicalJson(TypeDecorator[dict[str, Any]]):
    """A JSON object stored as canonical text (sorted keys, compact): cheaper to write than JSONB,
    read back with one orjson call, and still castable to jsonb for ad-hoc SQL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | str | None, dialect: Dialect) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()

    def process_result_value(self, value: str | None, dialect: Dialect) -> dict[str, Any] | None:
        return None if value is None else dict(orjson.loads(value))


class AuditHead(Base):
    """Size and right edge of each tenant's tree; every append locks and updates this row."""

    __tablename__ = "audit_heads"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_time", "tenant_id", "occurred_at"),)

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_type: Mapped[str] = mapped_column(String(48))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str | None] = mapped_column(String(200))
    fields: Mapped[dict[str, Any]] = mapped_column(CanonicalJson)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)


class AuditNode(Base):
    """Hash of the complete subtree (level >= 1, index); level 0 is audit_entries.leaf_hash."""

    __tablename__ = "audit_nodes"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class AuditKey(Base):
    __tablename__ = "audit_keys"
    __table_args__ = (Index("ix_audit_keys_tenant", "tenant_id", "valid_from"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(8))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    private_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    valid_from: Mapped[int] = mapped_column(BigInteger)  # unix seconds, like the checkpoint time line
    retired_at: Mapped[int | None] = mapped_column(BigInteger)


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"
    __table_args__ = (UniqueConstraint("tenant_id", "tree_size", "key_ref"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    signed_at: Mapped[int] = mapped_column(BigInteger)
    key_ref: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text)
