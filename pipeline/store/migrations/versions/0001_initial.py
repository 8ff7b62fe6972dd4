"""The claims store's first schema: claims (hashed identity), documents,
verdicts (history; the claim row points at its current one), extracted fields
and the registry of claimed serial numbers (UNIQUE per serial scope).

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HASH = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("claim_id", sa.String(length=128), nullable=False),
        sa.Column("campaign_id", sa.String(length=128), nullable=False),
        sa.Column("serial_scope", sa.String(length=128), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("declared_serial", sa.String(length=64), nullable=True),
        sa.Column("email_hash", HASH, nullable=False),
        sa.Column("name_hash", HASH, nullable=False),
        sa.Column("bank_hash", HASH, nullable=True),
        sa.Column("current_seq", sa.Integer(), nullable=True),
        sa.Column("current_status", sa.String(length=16), nullable=True),
        sa.Column("fraud", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("fraud_note", sa.Text(), server_default="", nullable=False),
        sa.Column("fraud_marked_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("claim_id", name=op.f("pk_claims")),
    )
    op.create_index("ix_claims_campaign_submitted", "claims", ["campaign_id", "submitted_at"])
    op.create_index(op.f("ix_claims_email_hash"), "claims", ["email_hash"])
    op.create_index(op.f("ix_claims_name_hash"), "claims", ["name_hash"])
    op.create_index(op.f("ix_claims_bank_hash"), "claims", ["bank_hash"])

    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sha256", HASH, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("detected_type", sa.String(length=32), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.claim_id"], name=op.f("fk_documents_claim_id_claims"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("claim_id", "role", "name", name=op.f("uq_documents_claim_id")),
    )
    op.create_index(op.f("ix_documents_claim_id"), "documents", ["claim_id"])
    op.create_index(op.f("ix_documents_sha256"), "documents", ["sha256"])

    op.create_table(
        "serial_registry",
        sa.Column("serial_scope", sa.String(length=128), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("claim_id", sa.String(length=128), nullable=False),
        sa.Column("campaign_id", sa.String(length=128), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.claim_id"], name=op.f("fk_serial_registry_claim_id_claims"),
                                ondelete="CASCADE"),
        # the guard against two claims of one serial, also under concurrency
        sa.PrimaryKeyConstraint("serial_scope", "serial", name=op.f("pk_serial_registry")),
    )
    op.create_index(op.f("ix_serial_registry_claim_id"), "serial_registry", ["claim_id"])

    op.create_table(
        "verdicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("codes", sa.Text(), server_default="", nullable=False),
        sa.Column("screened_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("pipeline_version", sa.String(length=64), server_default="", nullable=False),
        sa.Column("verdict_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.claim_id"], name=op.f("fk_verdicts_claim_id_claims"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verdicts")),
        sa.UniqueConstraint("claim_id", "seq", name=op.f("uq_verdicts_claim_id")),
    )
    op.create_index(op.f("ix_verdicts_claim_id"), "verdicts", ["claim_id"])
    op.create_index(op.f("ix_verdicts_status"), "verdicts", ["status"])

    op.create_table(
        "extracted_fields",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("verdict_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("field_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.claim_id"], name=op.f("fk_extracted_fields_claim_id_claims"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["verdict_id"], ["verdicts.id"], name=op.f("fk_extracted_fields_verdict_id_verdicts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extracted_fields")),
        sa.UniqueConstraint("verdict_id", "name", name=op.f("uq_extracted_fields_verdict_id")),
    )
    op.create_index(op.f("ix_extracted_fields_claim_id"), "extracted_fields", ["claim_id"])
    op.create_index(op.f("ix_extracted_fields_verdict_id"), "extracted_fields", ["verdict_id"])


def downgrade() -> None:
    # dropping a table drops its indexes
    for table in ("extracted_fields", "verdicts", "serial_registry", "documents", "claims"):
        op.drop_table(table)
