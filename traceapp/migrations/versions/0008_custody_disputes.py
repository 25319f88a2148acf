"""custody at the gate: holders' hand-over codes and disputes of gate checks

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import traceapp.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    when = traceapp.db.UTCDateTime(timezone=True)
    op.create_table(
        "handover_codes",
        sa.Column("certificate_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("client_event_id", sa.Uuid(), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("quantity", traceapp.db.Quantity(), nullable=True),
        sa.Column("to_org_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("expires_at", when, nullable=False),
        sa.Column("used_at", when, nullable=True),
        sa.Column("used_by_event_id", sa.Uuid(), nullable=True),
        sa.Column("cancelled_at", when, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _fk("handover_codes", "certificate_id", "certificates"),
        _fk("handover_codes", "org_id", "organisations"),
        _fk("handover_codes", "created_by_id", "users"),
        _fk("handover_codes", "to_org_id", "organisations"),
        _fk("handover_codes", "used_by_event_id", "events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_codes")),
        sa.UniqueConstraint("org_id", "client_event_id", name=op.f("uq_handover_codes_org_id_client_event_id")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_handover_codes_code_hash")),
    )
    with op.batch_alter_table("handover_codes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_handover_codes_certificate_id_org_id", ["certificate_id", "org_id"], unique=False
        )
    op.create_table(
        "custody_disputes",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("opened_by_id", sa.Uuid(), nullable=True),
        sa.Column("client_event_id", sa.Uuid(), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("opened_at", when, nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "upheld", "dismissed", name="disputestatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("resolved_by_org_id", sa.Uuid(), nullable=True),
        sa.Column("resolved_by_id", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", when, nullable=True),
        sa.Column("resolution_note", sa.String(length=500), nullable=True),
        sa.Column("correction_event_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _fk("custody_disputes", "event_id", "events"),
        _fk("custody_disputes", "org_id", "organisations"),
        _fk("custody_disputes", "opened_by_id", "users"),
        _fk("custody_disputes", "resolved_by_org_id", "organisations"),
        _fk("custody_disputes", "resolved_by_id", "users"),
        _fk("custody_disputes", "correction_event_id", "events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_disputes")),
        sa.UniqueConstraint("org_id", "client_event_id", name=op.f("uq_custody_disputes_org_id_client_event_id")),
        sa.UniqueConstraint("event_id", name=op.f("uq_custody_disputes_event_id")),
    )
    with op.batch_alter_table("custody_disputes", schema=None) as batch_op:
        batch_op.create_index("ix_custody_disputes_status", ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("custody_disputes")
    op.drop_table("handover_codes")
