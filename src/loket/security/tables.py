"""Tables of encryption at rest (docs/encryption.md).

- `master_keys`: one row per master key ever used, by a non-secret id, with a key check value: a
  known constant sealed under the key, so start-up can tell a wrong `LOKET_MASTER_KEY` from a new one.
- `tenant_keks`: the versions of each tenant's key-encryption key. A KEK is never stored: it is
  derived (HKDF) from the master key named by `master_key_id`, the tenant id and the version.
- `tenant_keys`: each tenant's blind-index key, random, stored wrapped under the tenant's KEK.
- `customer_keys`: one data key per customer per tenant (and one per tenant for what belongs to no
  single customer), random, stored wrapped under a KEK version. The customer is named only by the
  blind index of their WhatsApp number. Shredding nulls `wrapped_dek`: every ciphertext under it
  becomes unreadable, in this database and in every backup of it.

The owner column is `key_scope` (a tenant id, or "_platform" for rows no tenant owns yet), not
`tenant_id`: these rows are key material read by the key store whatever the caller's tenant scope,
and each is useless without the master key, which never reaches the database (ADR 0006).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loket.db.base import Base, BigId, UTCDateTime


class MasterKeyRecord(Base):
    __tablename__ = "master_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    check_value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TenantKek(Base):
    __tablename__ = "tenant_keks"

    key_scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    master_key_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TenantKey(Base):
    __tablename__ = "tenant_keys"

    key_scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    index_key_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    kek_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CustomerKey(Base):
    __tablename__ = "customer_keys"
    __table_args__ = (UniqueConstraint("key_scope", "subject"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_scope: Mapped[str] = mapped_column(String(64))
    # The blind index of the customer's wa_id; TENANT_SUBJECT for the tenant's own key; after
    # shredding, "erased:<id>" so the customer's next message gets a fresh key.
    subject: Mapped[str] = mapped_column(String(64))
    wrapped_dek: Mapped[bytes | None] = mapped_column(LargeBinary)
    kek_version: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
