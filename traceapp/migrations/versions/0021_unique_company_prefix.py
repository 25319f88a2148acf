"""organisations.gs1_company_prefix unique: a prefix claimed by one organisation is refused to
the next (its GLNs and SSCCs are allocated from it, and we cannot ask GS1 who holds it)

Revision ID: 0021
Revises: 0020
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.create_unique_constraint(batch.f("uq_organisations_gs1_company_prefix"), ["gs1_company_prefix"])


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.drop_constraint(batch.f("uq_organisations_gs1_company_prefix"), type_="unique")
