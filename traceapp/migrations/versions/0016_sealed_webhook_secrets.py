"""webhook signing secrets sealed at rest (traceapp/sealed.py), no longer in clear

Revision ID: 0016
Revises: 0015

Seals every secret stored in clear with the app's SECRET_KEY, which ``traceapp db upgrade``
(and ``traceapp demo``) hand over; run any other way on a database holding such secrets, it
stops and says so rather than leave them in clear or drop them.
"""

import sqlalchemy as sa
from alembic import context, op

from traceapp import sealed

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_orgs = sa.table("organisations", sa.column("id", sa.Uuid()), sa.column("webhook_secret", sa.String()))


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.alter_column("webhook_secret", type_=sa.String(length=255), existing_type=sa.String(length=100))
    connection = op.get_bind()
    clear = [
        (org_id, secret)
        for org_id, secret in connection.execute(
            sa.select(_orgs.c.id, _orgs.c.webhook_secret).where(_orgs.c.webhook_secret.is_not(None))
        )
        if not sealed.is_sealed(secret)
    ]
    if not clear:
        return
    keys = context.config.attributes.get("secret_keys")
    if not keys:
        raise RuntimeError(
            f"{len(clear)} webhook secret(s) are stored in clear and must be sealed with the app's "
            "SECRET_KEY: run this migration with `traceapp db upgrade`."
        )
    for org_id, secret in clear:
        connection.execute(
            sa.update(_orgs).where(_orgs.c.id == org_id).values(webhook_secret=sealed.seal(keys, secret))
        )


def downgrade() -> None:
    # Sealed secrets stay sealed (a downgrade must not write them out in clear); a 255-character
    # value no longer fits the old column, so the secrets are dropped: set the webhook again.
    op.execute(sa.update(_orgs).values(webhook_secret=None))
    with op.batch_alter_table("organisations") as batch:
        batch.alter_column("webhook_secret", type_=sa.String(length=100), existing_type=sa.String(length=255))
