"""Receipt fingerprints for duplicate detection across claims: one row per
claim (file hash, content key, perceptual hashes, compressed local features)
and the LSH band keys that index them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HASH = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "receipt_fingerprints",
        sa.Column("claim_id", sa.String(length=128), nullable=False),
        sa.Column("campaign_id", sa.String(length=128), nullable=False),
        sa.Column("sha256", HASH, nullable=False),
        sa.Column("content_key", HASH, nullable=True),
        sa.Column("hashes", sa.Text(), server_default="", nullable=False),
        sa.Column("features", sa.LargeBinary(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.claim_id"],
                                name=op.f("fk_receipt_fingerprints_claim_id_claims"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("claim_id", name=op.f("pk_receipt_fingerprints")),
    )
    op.create_index(op.f("ix_receipt_fingerprints_sha256"), "receipt_fingerprints", ["sha256"])
    op.create_index(op.f("ix_receipt_fingerprints_content_key"), "receipt_fingerprints", ["content_key"])

    op.create_table(
        "receipt_fingerprint_keys",
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("claim_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.claim_id"],
                                name=op.f("fk_receipt_fingerprint_keys_claim_id_claims"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", "claim_id", name=op.f("pk_receipt_fingerprint_keys")),
    )
    op.create_index(op.f("ix_receipt_fingerprint_keys_claim_id"), "receipt_fingerprint_keys", ["claim_id"])


def downgrade() -> None:
    for table in ("receipt_fingerprint_keys", "receipt_fingerprints"):
        op.drop_table(table)
