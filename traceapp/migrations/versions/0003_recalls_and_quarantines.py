"""recalls and quarantines

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 01:28:03.367252
"""

from alembic import op
import sqlalchemy as sa
import traceapp.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recalls',
    sa.Column('opened_by_org_id', sa.Uuid(), nullable=False),
    sa.Column('opened_by_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('instructions', sa.String(length=500), nullable=True),
    sa.Column('severity', sa.Enum('class_i', 'class_ii', 'class_iii', name='severity', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', name='recallstatus', native_enum=False, length=32), nullable=False),
    sa.Column('opened_at', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', traceapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Uuid(), nullable=True),
    sa.Column('close_note', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_recalls_closed_by_id_users')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_recalls_opened_by_id_users')),
    sa.ForeignKeyConstraint(['opened_by_org_id'], ['organisations.id'], name=op.f('fk_recalls_opened_by_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recalls'))
    )
    op.create_table('quarantines',
    sa.Column('certificate_id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('placed_at', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('released_at', traceapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_quarantines_certificate_id_certificates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantines'))
    )
    with op.batch_alter_table('quarantines', schema=None) as batch_op:
        batch_op.create_index('ix_quarantines_certificate_id_released_at', ['certificate_id', 'released_at'], unique=False)

    op.create_table('recall_batches',
    sa.Column('recall_id', sa.Uuid(), nullable=False),
    sa.Column('certificate_id', sa.Uuid(), nullable=False),
    sa.Column('root', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_recall_batches_certificate_id_certificates')),
    sa.ForeignKeyConstraint(['recall_id'], ['recalls.id'], name=op.f('fk_recall_batches_recall_id_recalls')),
    sa.PrimaryKeyConstraint('recall_id', 'certificate_id', name=op.f('pk_recall_batches'))
    )
    with op.batch_alter_table('recall_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recall_batches_certificate_id'), ['certificate_id'], unique=False)

    op.create_table('recall_parties',
    sa.Column('recall_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('acknowledged_at', traceapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_recall_parties_acknowledged_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_recall_parties_org_id_organisations')),
    sa.ForeignKeyConstraint(['recall_id'], ['recalls.id'], name=op.f('fk_recall_parties_recall_id_recalls')),
    sa.PrimaryKeyConstraint('recall_id', 'org_id', name=op.f('pk_recall_parties'))
    )
    with op.batch_alter_table('recall_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recall_parties_org_id'), ['org_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('recall_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recall_parties_org_id'))

    op.drop_table('recall_parties')
    with op.batch_alter_table('recall_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recall_batches_certificate_id'))

    op.drop_table('recall_batches')
    with op.batch_alter_table('quarantines', schema=None) as batch_op:
        batch_op.drop_index('ix_quarantines_certificate_id_released_at')

    op.drop_table('quarantines')
    op.drop_table('recalls')
