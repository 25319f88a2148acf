"""the operator as NY/T 4712 names it (credit code, natural person, platform code); seal images,
and the seal version each certificate was issued with

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

import traceapp.db

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("credit_code", sa.String(length=18), nullable=True))
        batch.add_column(sa.Column("person_name", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("id_number", sa.String(length=18), nullable=True))
        batch.add_column(sa.Column("platform_code", sa.String(length=32), nullable=True))
    op.create_table(
        "org_seals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_by_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", traceapp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", traceapp.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_org_seals_org_id_organisations")),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_org_seals_uploaded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_seals")),
    )
    op.create_index("ix_org_seals_org_id_created_at", "org_seals", ["org_id", "created_at"], unique=False)
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("seal_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(op.f("fk_certificates_seal_id_org_seals"), "org_seals", ["seal_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.drop_constraint(op.f("fk_certificates_seal_id_org_seals"), type_="foreignkey")
        batch.drop_column("seal_id")
    op.drop_index("ix_org_seals_org_id_created_at", table_name="org_seals")
    op.drop_table("org_seals")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("platform_code")
        batch.drop_column("id_number")
        batch.drop_column("person_name")
        batch.drop_column("credit_code")
