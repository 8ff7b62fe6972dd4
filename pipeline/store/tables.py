"""The claims store's tables (SQLAlchemy 2 declarative). The schema itself is
created and changed only by the Alembic migrations in `migrations/versions/`;
these classes must match them (a test compares the two).

Personal data: a claim keeps only salted hashes of its claimant's normalised
e-mail, name and bank account (see `identity.py`), never the values.
Times are stored as naive UTC (`DateTime` without time zone) on every backend,
so SQLite and PostgreSQL compare them alike.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

HASH = String(64)  # hex SHA-256


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ClaimRow(Base):
    """One claim, upserted on every screening. `current_seq`/`current_status`
    point at its current verdict in `verdicts` (no circular foreign key, so the
    SQLite migration needs no table rebuild)."""

    __tablename__ = "claims"

    claim_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(128))
    serial_scope: Mapped[str] = mapped_column(String(128))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime())  # naive UTC
    declared_serial: Mapped[str | None] = mapped_column(String(64))  # normalised; a product id, not personal
    email_hash: Mapped[str] = mapped_column(HASH, index=True)
    name_hash: Mapped[str] = mapped_column(HASH, index=True)
    bank_hash: Mapped[str | None] = mapped_column(HASH, index=True)
    current_seq: Mapped[int | None] = mapped_column(Integer)
    current_status: Mapped[str | None] = mapped_column(String(16))
    fraud: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    fraud_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    fraud_marked_at: Mapped[dt.datetime | None] = mapped_column(DateTime())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime())


class DocumentRow(Base):
    """An uploaded file of a claim, by content hash. Replaced on re-screening."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("claim_id", "role", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(HASH, index=True)
    size: Mapped[int] = mapped_column(Integer)
    detected_type: Mapped[str] = mapped_column(String(32), default="", server_default="")


class VerdictRow(Base):
    """Every verdict a claim was given, in order (`seq` 1, 2, ...). The claim's
    current one is `claims.current_seq`. `verdict_json` is the full Verdict."""

    __tablename__ = "verdicts"
    __table_args__ = (UniqueConstraint("claim_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    campaign_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), index=True)
    codes: Mapped[str] = mapped_column(Text, default="", server_default="")  # reason codes, space-separated
    screened_at: Mapped[dt.datetime] = mapped_column(DateTime())  # naive UTC
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime())
    pipeline_version: Mapped[str] = mapped_column(String(64), default="", server_default="")
    verdict_json: Mapped[str] = mapped_column(Text)


class FieldRow(Base):
    """The extracted fields (Verdict.fields) of one screening."""

    __tablename__ = "extracted_fields"
    __table_args__ = (UniqueConstraint("verdict_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    verdict_id: Mapped[int] = mapped_column(ForeignKey("verdicts.id", ondelete="CASCADE"), index=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    raw: Mapped[str] = mapped_column(Text)
    value: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column()
    field_json: Mapped[str] = mapped_column(Text)


class SerialRow(Base):
    """The registry of claimed serial numbers. The primary key (serial_scope,
    serial) is what stops two claims holding one serial, even when two workers
    record them at the same moment: the second insert fails."""

    __tablename__ = "serial_registry"

    serial_scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[str] = mapped_column(String(128))
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime())


class FingerprintRow(Base):
    """The receipt fingerprint of a claim (pipeline/forensics/fingerprint.py):
    hashes and local-feature descriptors only, no image and no text. Replaced
    on re-screening."""

    __tablename__ = "receipt_fingerprints"

    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(HASH, index=True)
    content_key: Mapped[str | None] = mapped_column(HASH, index=True)  # sha256 of reseller + number + date
    hashes: Mapped[str] = mapped_column(Text, default="", server_default="")  # "g:<hex> t:<hex> ..."
    features: Mapped[bytes | None] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime())


class FingerprintKeyRow(Base):
    """LSH band keys of the fingerprints' perceptual hashes: the index a
    duplicate look-up starts from (candidates share a key)."""

    __tablename__ = "receipt_fingerprint_keys"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), primary_key=True,
                                          index=True)


Index("ix_claims_campaign_submitted", ClaimRow.campaign_id, ClaimRow.submitted_at)
