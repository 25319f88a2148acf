"""events, holdings, certificate kinds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 01:17:01.519114
"""

from alembic import op
import sqlalchemy as sa
import traceapp.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('events',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('recorded_by_id', sa.Uuid(), nullable=True),
    sa.Column('client_event_id', sa.Uuid(), nullable=False),
    sa.Column('request_digest', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('commissioning', 'shipping', 'receiving', 'storing', 'transporting', 'inspecting', 'transforming', 'portioning', 'retail_selling', 'destroying', 'voiding', name='eventkind', native_enum=False, length=32), nullable=False),
    sa.Column('epcis_type', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=True),
    sa.Column('biz_step', sa.String(length=32), nullable=False),
    sa.Column('disposition', sa.String(length=32), nullable=True),
    sa.Column('occurred_at', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tz_offset', sa.String(length=6), nullable=False),
    sa.Column('recorded_at', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('source_org_id', sa.Uuid(), nullable=True),
    sa.Column('destination_org_id', sa.Uuid(), nullable=True),
    sa.Column('carrier_org_id', sa.Uuid(), nullable=True),
    sa.Column('answers_id', sa.Uuid(), nullable=True),
    sa.Column('corrects_id', sa.Uuid(), nullable=True),
    sa.Column('correction_reason', sa.String(length=500), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['answers_id'], ['events.id'], name=op.f('fk_events_answers_id_events')),
    sa.ForeignKeyConstraint(['carrier_org_id'], ['organisations.id'], name=op.f('fk_events_carrier_org_id_organisations')),
    sa.ForeignKeyConstraint(['corrects_id'], ['events.id'], name=op.f('fk_events_corrects_id_events')),
    sa.ForeignKeyConstraint(['destination_org_id'], ['organisations.id'], name=op.f('fk_events_destination_org_id_organisations')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_events_org_id_organisations')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_events_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['source_org_id'], ['organisations.id'], name=op.f('fk_events_source_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('corrects_id', name=op.f('uq_events_corrects_id')),
    sa.UniqueConstraint('org_id', 'client_event_id', name=op.f('uq_events_org_id_client_event_id'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_org_id'), ['org_id'], unique=False)

    op.create_table('event_items',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.Enum('subject', 'input', 'output', name='itemrole', native_enum=False, length=32), nullable=False),
    sa.Column('quantity', traceapp.db.Quantity(), nullable=True),
    sa.Column('unit', sa.Enum('kg', 'jin', 'piece', 'box', name='unit', native_enum=False, length=32), nullable=True),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_event_items_certificate_id_certificates')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_items_event_id_events')),
    sa.PrimaryKeyConstraint('event_id', 'position', name=op.f('pk_event_items'))
    )
    with op.batch_alter_table('event_items', schema=None) as batch_op:
        batch_op.create_index('ix_event_items_certificate_id_role', ['certificate_id', 'role'], unique=False)

    op.create_table('holding_changes',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('state', sa.Enum('on_hand', 'in_transit', name='holdingstate', native_enum=False, length=32), nullable=False),
    sa.Column('delta', traceapp.db.Quantity(), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_holding_changes_certificate_id_certificates')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_holding_changes_event_id_events')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_holding_changes_org_id_organisations')),
    sa.PrimaryKeyConstraint('event_id', 'position', name=op.f('pk_holding_changes'))
    )
    with op.batch_alter_table('holding_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_holding_changes_certificate_id'), ['certificate_id'], unique=False)

    op.create_table('holdings',
    sa.Column('certificate_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('state', sa.Enum('on_hand', 'in_transit', name='holdingstate', native_enum=False, length=32), nullable=False),
    sa.Column('quantity', traceapp.db.Quantity(), nullable=False),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_holdings_not_negative')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_holdings_certificate_id_certificates')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_holdings_org_id_organisations')),
    sa.PrimaryKeyConstraint('certificate_id', 'org_id', 'state', name=op.f('pk_holdings'))
    )
    with op.batch_alter_table('holdings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_holdings_org_id'), ['org_id'], unique=False)

    op.create_table('temperature_readings',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('at', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('celsius', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_temperature_readings_event_id_events')),
    sa.PrimaryKeyConstraint('event_id', 'position', name=op.f('pk_temperature_readings'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('certificate', 'portion', 'entry_record', name='certificatekind', native_enum=False, length=32), server_default='certificate', nullable=False))
    # Certificates issued before holdings existed: the issuer holds the whole batch.
    op.execute("INSERT INTO holdings (certificate_id, org_id, state, quantity) "
               "SELECT id, org_id, 'on_hand', quantity FROM certificates")



def downgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_column('kind')

    op.drop_table('temperature_readings')
    with op.batch_alter_table('holdings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_holdings_org_id'))

    op.drop_table('holdings')
    with op.batch_alter_table('holding_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_holding_changes_certificate_id'))

    op.drop_table('holding_changes')
    with op.batch_alter_table('event_items', schema=None) as batch_op:
        batch_op.drop_index('ix_event_items_certificate_id_role')

    op.drop_table('event_items')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_org_id'))
        batch_op.drop_index(batch_op.f('ix_events_occurred_at'))

    op.drop_table('events')
