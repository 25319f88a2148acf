"""pallets (SSCC) aggregated by an aggregating event; the organisation's GS1 company prefix

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

import traceapp.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("gs1_company_prefix", sa.String(length=12), nullable=True))
        batch.add_column(
            sa.Column("sscc_last_serial", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_table(
        "pallets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("sscc", sa.String(length=18), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", traceapp.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_pallets_org_id_organisations")),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_pallets_event_id_events")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pallets")),
        sa.UniqueConstraint("sscc", name=op.f("uq_pallets_sscc")),
        sa.UniqueConstraint("event_id", name=op.f("uq_pallets_event_id")),
    )
    op.create_index(op.f("ix_pallets_org_id"), "pallets", ["org_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_pallets_org_id"), table_name="pallets")
    op.drop_table("pallets")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("sscc_last_serial")
        batch.drop_column("gs1_company_prefix")
