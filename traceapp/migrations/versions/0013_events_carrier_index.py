"""an index on the shipments' carrier, for the carrier's list of what is in its care

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_events_carrier_org_id"), "events", ["carrier_org_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_events_carrier_org_id"), table_name="events")
