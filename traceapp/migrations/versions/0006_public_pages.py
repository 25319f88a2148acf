"""stored public pages (one row per certificate, both languages)

Revision ID: 0006
Revises: 0005

Existing certificates get a row at version 1 with nothing rendered: their pages render live
until ``traceapp pages refresh`` stores them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "public_pages",
        sa.Column("certificate_id", sa.Uuid(), nullable=False),
        sa.Column("trace_code", sa.String(length=14), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("rendered_version", sa.Integer(), nullable=True),
        sa.Column("build", sa.String(length=16), nullable=True),
        sa.Column("html_zh", sa.LargeBinary(), nullable=True),
        sa.Column("html_en", sa.LargeBinary(), nullable=True),
        sa.Column("rendered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["certificate_id"], ["certificates.id"],
                                name=op.f("fk_public_pages_certificate_id_certificates"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("certificate_id", name=op.f("pk_public_pages")),
        sa.UniqueConstraint("trace_code", name=op.f("uq_public_pages_trace_code")),
    )
    op.execute("INSERT INTO public_pages (certificate_id, trace_code, version) "
               "SELECT id, trace_code, 1 FROM certificates")


def downgrade() -> None:
    op.drop_table("public_pages")
