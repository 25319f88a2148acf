"""organisations.gln: an organisation's GS1 Global Location Number (unique)

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("gln", sa.String(length=13), nullable=True))
        batch.create_unique_constraint(batch.f("uq_organisations_gln"), ["gln"])


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.drop_constraint(batch.f("uq_organisations_gln"), type_="unique")
        batch.drop_column("gln")
