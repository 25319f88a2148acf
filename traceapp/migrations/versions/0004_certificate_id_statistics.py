"""statistics target on certificate_id (PostgreSQL)

Revision ID: 0004
Revises: 0003

A certificate has a handful of event items and ledger rows, so ANALYZE's default sample (30,000
rows) sees most ids once and estimates ~3x too few distinct ids (278k for 1M on 6.9M ledger
rows). The trace and recall queries' IN-lists then look ~3x bigger than they are and tip into
parallel plans (worker start-up on every trace) or, for a recall, a sequential scan of the whole
ledger with JIT. A 300,000-row sample estimates within ~1.4x.
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

COLUMNS = (("event_items", "certificate_id"), ("holding_changes", "certificate_id"),
           ("holdings", "certificate_id"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS 1000")
        op.execute(f"ANALYZE {table} ({column})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS -1")
