"""notifications and their deliveries; an organisation's contact e-mail and webhook

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import traceapp.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

KIND = sa.Enum(
    "rejected", "recalled", "disputed", "short", name="notificationkind", native_enum=False, length=32
)
CHANNEL = sa.Enum("email", "sms", "webhook", name="channel", native_enum=False, length=32)
STATUS = sa.Enum("queued", "sending", "sent", "failed", name="deliverystatus", native_enum=False, length=32)


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("webhook_url", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("webhook_secret", sa.String(length=100), nullable=True))

    op.create_table(
        "notifications",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("kind", KIND, nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("certificate_id", sa.Uuid(), nullable=True),
        sa.Column("trace_code", sa.String(length=14), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("created_at", traceapp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", traceapp.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["certificates.id"], name=op.f("fk_notifications_certificate_id_certificates")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_notifications_org_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("org_id", "kind", "subject_id", name=op.f("uq_notifications_org_id_kind_subject_id")),
    )
    op.create_index("ix_notifications_org_id_created_at", "notifications", ["org_id", "created_at"])
    op.create_index("ix_notifications_org_id_read_at", "notifications", ["org_id", "read_at"])

    op.create_table(
        "notification_deliveries",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("channel", CHANNEL, nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", traceapp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", traceapp.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", traceapp.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_deliveries_notification_id_notifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint(
            "notification_id",
            "channel",
            "address",
            name=op.f("uq_notification_deliveries_notification_id_channel_address"),
        ),
    )
    op.create_index(
        op.f("ix_notification_deliveries_notification_id"), "notification_deliveries", ["notification_id"]
    )
    op.create_index(
        "ix_notification_deliveries_status_claimed_at", "notification_deliveries", ["status", "claimed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_notification_deliveries_status_claimed_at", table_name="notification_deliveries")
    op.drop_index(op.f("ix_notification_deliveries_notification_id"), table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
    op.drop_index("ix_notifications_org_id_read_at", table_name="notifications")
    op.drop_index("ix_notifications_org_id_created_at", table_name="notifications")
    op.drop_table("notifications")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("webhook_secret")
        batch.drop_column("webhook_url")
        batch.drop_column("email")
