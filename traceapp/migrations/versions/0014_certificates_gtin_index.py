"""an index on the certificates' GTIN and lot, for the Digital Link resolver's look-up

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_certificates_gtin_batch_no", "certificates", ["gtin", "batch_no"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_certificates_gtin_batch_no", table_name="certificates")
