"""the EPCIS repository: captured events as received, their identifiers, capture jobs

Revision ID: 0018
Revises: 0017
"""

from alembic import op
import sqlalchemy as sa
import traceapp.db


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('epcis_captures',
    sa.Column('capture_id', sa.String(length=40), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('behaviour', sa.String(length=10), nullable=False),
    sa.Column('status', sa.Enum('running', 'success', 'failed', name='capturestatus', native_enum=False, length=32), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('pending', sa.JSON(), nullable=True),
    sa.Column('job_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', traceapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_epcis_captures_created_by_id_users')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_epcis_captures_job_id_jobs')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_epcis_captures_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_epcis_captures')),
    sa.UniqueConstraint('capture_id', name=op.f('uq_epcis_captures_capture_id'))
    )
    with op.batch_alter_table('epcis_captures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_epcis_captures_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_epcis_captures_org_id'), ['org_id'], unique=False)

    op.create_table('epcis_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.String(length=500), nullable=False),
    sa.Column('event_hash', sa.String(length=120), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('capture_id', sa.Uuid(), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('event_time', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('event_time_zone_offset', sa.String(length=6), nullable=False),
    sa.Column('record_time', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=True),
    sa.Column('biz_step', sa.String(length=500), nullable=True),
    sa.Column('disposition', sa.String(length=500), nullable=True),
    sa.Column('read_point', sa.String(length=500), nullable=True),
    sa.Column('biz_location', sa.String(length=500), nullable=True),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['capture_id'], ['epcis_captures.id'], name=op.f('fk_epcis_events_capture_id_epcis_captures')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_epcis_events_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_epcis_events')),
    sa.UniqueConstraint('org_id', 'event_id', name='uq_epcis_events_org_id_event_id')
    )
    with op.batch_alter_table('epcis_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_epcis_events_biz_location'), ['biz_location'], unique=False)
        batch_op.create_index(batch_op.f('ix_epcis_events_biz_step'), ['biz_step'], unique=False)
        batch_op.create_index(batch_op.f('ix_epcis_events_capture_id'), ['capture_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_epcis_events_disposition'), ['disposition'], unique=False)
        batch_op.create_index(batch_op.f('ix_epcis_events_event_hash'), ['event_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_epcis_events_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_epcis_events_event_type'), ['event_type'], unique=False)
        batch_op.create_index('ix_epcis_events_org_id_event_time', ['org_id', 'event_time'], unique=False)
        batch_op.create_index('ix_epcis_events_org_id_record_time', ['org_id', 'record_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_epcis_events_read_point'), ['read_point'], unique=False)

    op.create_table('epcis_identifiers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.Enum('epc', 'child', 'parent', 'input', 'output', 'class', 'input_class', 'output_class', name='identifierrole', native_enum=False, length=32), nullable=False),
    sa.Column('value', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['event_pk'], ['epcis_events.id'], name=op.f('fk_epcis_identifiers_event_pk_epcis_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_epcis_identifiers'))
    )
    with op.batch_alter_table('epcis_identifiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_epcis_identifiers_event_pk'), ['event_pk'], unique=False)
        batch_op.create_index('ix_epcis_identifiers_value_role', ['value', 'role'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('epcis_identifiers', schema=None) as batch_op:
        batch_op.drop_index('ix_epcis_identifiers_value_role')
        batch_op.drop_index(batch_op.f('ix_epcis_identifiers_event_pk'))

    op.drop_table('epcis_identifiers')
    with op.batch_alter_table('epcis_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_epcis_events_read_point'))
        batch_op.drop_index('ix_epcis_events_org_id_record_time')
        batch_op.drop_index('ix_epcis_events_org_id_event_time')
        batch_op.drop_index(batch_op.f('ix_epcis_events_event_type'))
        batch_op.drop_index(batch_op.f('ix_epcis_events_event_id'))
        batch_op.drop_index(batch_op.f('ix_epcis_events_event_hash'))
        batch_op.drop_index(batch_op.f('ix_epcis_events_disposition'))
        batch_op.drop_index(batch_op.f('ix_epcis_events_capture_id'))
        batch_op.drop_index(batch_op.f('ix_epcis_events_biz_step'))
        batch_op.drop_index(batch_op.f('ix_epcis_events_biz_location'))

    op.drop_table('epcis_events')
    with op.batch_alter_table('epcis_captures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_epcis_captures_org_id'))
        batch_op.drop_index(batch_op.f('ix_epcis_captures_created_at'))

    op.drop_table('epcis_captures')
