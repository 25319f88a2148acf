"""purchases (收购), their lines and collected certificates, paper photos, re-issue sources; retention setting

Revision ID: 0019
Revises: 0018
"""

from alembic import op
import sqlalchemy as sa
import traceapp.db


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('purchase_photos',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_purchase_photos_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_photos'))
    )
    with op.batch_alter_table('purchase_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_photos_org_id'), ['org_id'], unique=False)

    op.create_table('purchases',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('recorded_by_id', sa.Uuid(), nullable=True),
    sa.Column('client_event_id', sa.Uuid(), nullable=False),
    sa.Column('request_digest', sa.String(length=64), nullable=False),
    sa.Column('seller_org_id', sa.Uuid(), nullable=True),
    sa.Column('seller_name', sa.String(length=200), nullable=False),
    sa.Column('seller_phone', sa.String(length=32), nullable=True),
    sa.Column('seller_region_code', sa.String(length=6), nullable=True),
    sa.Column('purchased_at', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tz_offset', sa.String(length=6), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('reference_document', sa.String(length=60), nullable=True),
    sa.Column('recorded_at', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('voided_at', traceapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('voided_by_id', sa.Uuid(), nullable=True),
    sa.Column('void_reason', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_purchases_org_id_organisations')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_purchases_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['seller_org_id'], ['organisations.id'], name=op.f('fk_purchases_seller_org_id_organisations')),
    sa.ForeignKeyConstraint(['voided_by_id'], ['users.id'], name=op.f('fk_purchases_voided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchases')),
    sa.UniqueConstraint('org_id', 'client_event_id', name=op.f('uq_purchases_org_id_client_event_id'))
    )
    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.create_index('ix_purchases_org_id_purchased_at', ['org_id', 'purchased_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_purchases_seller_org_id'), ['seller_org_id'], unique=False)

    op.create_table('purchase_lines',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('purchase_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('product_name', sa.String(length=60), nullable=False),
    sa.Column('quantity', traceapp.db.Quantity(), nullable=False),
    sa.Column('unit', sa.Enum('kg', 'jin', 'piece', 'box', name='unit', native_enum=False, length=32), nullable=False),
    sa.Column('remaining', traceapp.db.Quantity(), nullable=False),
    sa.Column('collected', sa.Enum('ours', 'foreign', 'paper', 'none', name='collectedkind', native_enum=False, length=32), nullable=False),
    sa.Column('certificate_id', sa.Uuid(), nullable=True),
    sa.Column('receiving_event_id', sa.Uuid(), nullable=True),
    sa.Column('external_code', sa.String(length=200), nullable=True),
    sa.Column('external_url', sa.String(length=500), nullable=True),
    sa.Column('photo_id', sa.Uuid(), nullable=True),
    sa.Column('producer_name', sa.String(length=200), nullable=True),
    sa.Column('origin', sa.String(length=200), nullable=True),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('exemption', sa.String(length=20), nullable=True),
    sa.Column('exemption_note', sa.String(length=200), nullable=True),
    sa.CheckConstraint('remaining <= quantity', name=op.f('ck_purchase_lines_within_quantity')),
    sa.CheckConstraint('remaining >= 0', name=op.f('ck_purchase_lines_not_negative')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_purchase_lines_certificate_id_certificates')),
    sa.ForeignKeyConstraint(['photo_id'], ['purchase_photos.id'], name=op.f('fk_purchase_lines_photo_id_purchase_photos'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchases.id'], name=op.f('fk_purchase_lines_purchase_id_purchases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['receiving_event_id'], ['events.id'], name=op.f('fk_purchase_lines_receiving_event_id_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_lines')),
    sa.UniqueConstraint('purchase_id', 'position', name=op.f('uq_purchase_lines_purchase_id_position'))
    )
    with op.batch_alter_table('purchase_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_lines_certificate_id'), ['certificate_id'], unique=False)

    op.create_table('reissue_sources',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Uuid(), nullable=False),
    sa.Column('quantity', traceapp.db.Quantity(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_reissue_sources_event_id_events')),
    sa.ForeignKeyConstraint(['line_id'], ['purchase_lines.id'], name=op.f('fk_reissue_sources_line_id_purchase_lines')),
    sa.PrimaryKeyConstraint('event_id', 'position', name=op.f('pk_reissue_sources'))
    )
    with op.batch_alter_table('reissue_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reissue_sources_line_id'), ['line_id'], unique=False)

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_months', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('retention_months')

    with op.batch_alter_table('reissue_sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reissue_sources_line_id'))

    op.drop_table('reissue_sources')
    with op.batch_alter_table('purchase_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_lines_certificate_id'))

    op.drop_table('purchase_lines')
    with op.batch_alter_table('purchases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchases_seller_org_id'))
        batch_op.drop_index('ix_purchases_org_id_purchased_at')

    op.drop_table('purchases')
    with op.batch_alter_table('purchase_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_purchase_photos_org_id'))

    op.drop_table('purchase_photos')
