"""scan counts flushed from the counter, the places they came from, a revoked certificate's replacement

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

import traceapp.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("replaced_by_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_certificates_replaced_by_id_certificates"), "certificates", ["replaced_by_id"], ["id"]
        )
    op.create_table(
        "scan_counts",
        sa.Column("certificate_id", sa.Uuid(), nullable=False),
        sa.Column("first_scanned_at", traceapp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_scanned_at", traceapp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("shown_scans", sa.Integer(), server_default="0", nullable=False),
        sa.Column("shown_places", sa.Integer(), server_default="0", nullable=False),
        sa.Column("shown_at", traceapp.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_scan_counts_certificate_id_certificates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("certificate_id", name=op.f("pk_scan_counts")),
    )
    op.create_table(
        "scan_places",
        sa.Column("certificate_id", sa.Uuid(), nullable=False),
        sa.Column("place", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_scan_places_certificate_id_certificates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("certificate_id", "place", name=op.f("pk_scan_places")),
    )


def downgrade() -> None:
    op.drop_table("scan_places")
    op.drop_table("scan_counts")
    with op.batch_alter_table("certificates") as batch:
        batch.drop_constraint(batch.f("fk_certificates_replaced_by_id_certificates"), type_="foreignkey")
        batch.drop_column("replaced_by_id")
