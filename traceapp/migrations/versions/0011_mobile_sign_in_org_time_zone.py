"""sign-in by mobile number, first passwords to change, each organisation's time zone

Revision ID: 0011
Revises: 0010

``users.mobile`` (E.164, unique) joins ``users.email``, which may now be empty (a user has one
of the two); ``users.must_change_password`` marks a first password an admin gave;
``organisations.timezone`` (IANA name) is where the organisation's dates are shown and its
"today" is taken. Existing organisations are in Asia/Shanghai.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("mobile", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.alter_column("email", existing_type=sa.String(length=254), nullable=True)
        batch.create_unique_constraint(batch.f("uq_users_mobile"), ["mobile"])
        batch.create_check_constraint(
            batch.f("ck_users_email_or_mobile"), "email IS NOT NULL OR mobile IS NOT NULL"
        )
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(
            sa.Column("timezone", sa.String(length=64), server_default="Asia/Shanghai", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("timezone")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(batch.f("ck_users_email_or_mobile"), type_="check")
        batch.drop_constraint(batch.f("uq_users_mobile"), type_="unique")
        batch.alter_column("email", existing_type=sa.String(length=254), nullable=False)
        batch.drop_column("must_change_password")
        batch.drop_column("mobile")
