"""sessions on the server, token names, scopes, expiry and last use, the audit log

Revision ID: 0009
Revises: 0007

Existing API tokens keep working: they get every scope, no expiry, and their prefix as name.
Cookies signed before this revision name no server session and so no longer sign anyone in.
"""

import sqlalchemy as sa
from alembic import op

import traceapp.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: Every scope at the time of this revision (``traceapp/orgs/scopes.py``).
ALL_SCOPES = '["read", "events", "certificates", "recall"]'


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("name", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("scopes", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("expires_at", traceapp.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_used_at", traceapp.db.UTCDateTime(timezone=True), nullable=True))
    op.execute(sa.text(f"UPDATE api_tokens SET name = prefix, scopes = '{ALL_SCOPES}'"))
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("name", existing_type=sa.String(length=100), nullable=False)
        batch.alter_column("scopes", existing_type=sa.JSON(), nullable=False)

    op.create_table(
        "user_sessions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", traceapp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", traceapp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", traceapp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", traceapp.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_user_sessions_key_hash")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"])

    op.create_table(
        "audit_log",
        sa.Column("at", traceapp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("token_id", sa.Uuid(), nullable=True),
        sa.Column("subject_type", sa.String(length=40), nullable=True),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_audit_log_actor_user_id_users")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_audit_log_org_id_organisations")),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], name=op.f("fk_audit_log_token_id_api_tokens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index("ix_audit_log_org_id_at", "audit_log", ["org_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_org_id_at", table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
        batch.drop_column("scopes")
        batch.drop_column("name")
