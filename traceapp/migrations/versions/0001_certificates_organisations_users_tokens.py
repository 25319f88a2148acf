"""certificates, organisations, users, tokens

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 01:00:14.353416
"""

import sqlalchemy as sa
from alembic import op

import traceapp.db

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('organisations',
    sa.Column('kind', sa.Enum('producer', 'market', 'carrier', 'processor', 'retailer', 'regulator', name='orgkind', native_enum=False, length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('created_at', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations'))
    )
    op.create_table('products',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('category', sa.Enum('vegetable', 'edible_fungus', 'fruit', 'tea', 'livestock', 'poultry', 'egg', 'aquatic', 'other', name='category', native_enum=False, length=32), nullable=True),
    sa.Column('unit', sa.Enum('kg', 'jin', 'piece', 'box', name='unit', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_products_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('org_id', 'name', name=op.f('uq_products_org_id_name'))
    )
    op.create_table('test_reports',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_test_reports_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_test_reports'))
    )
    with op.batch_alter_table('test_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_test_reports_org_id'), ['org_id'], unique=False)

    op.create_table('users',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.Enum('admin', 'member', name='role', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_users_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_org_id'), ['org_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', traceapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('certificates',
    sa.Column('trace_code', sa.String(length=14), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('issued_by_id', sa.Uuid(), nullable=False),
    sa.Column('client_event_id', sa.Uuid(), nullable=True),
    sa.Column('request_digest', sa.String(length=64), nullable=True),
    sa.Column('product_name', sa.String(length=60), nullable=False),
    sa.Column('category', sa.Enum('vegetable', 'edible_fungus', 'fruit', 'tea', 'livestock', 'poultry', 'egg', 'aquatic', 'other', name='category', native_enum=False, length=32), nullable=True),
    sa.Column('quantity', traceapp.db.Quantity(), nullable=False),
    sa.Column('unit', sa.Enum('kg', 'jin', 'piece', 'box', name='unit', native_enum=False, length=32), nullable=False),
    sa.Column('origin_region_code', sa.String(length=6), nullable=False),
    sa.Column('origin_address', sa.String(length=200), nullable=True),
    sa.Column('harvest_date', sa.Date(), nullable=True),
    sa.Column('batch_no', sa.String(length=40), nullable=True),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('commitments', sa.JSON(), nullable=False),
    sa.Column('basis', sa.JSON(), nullable=False),
    sa.Column('lab_name', sa.String(length=100), nullable=True),
    sa.Column('report_number', sa.String(length=60), nullable=True),
    sa.Column('report_id', sa.Uuid(), nullable=True),
    sa.Column('producer_name', sa.String(length=200), nullable=False),
    sa.Column('producer_phone', sa.String(length=32), nullable=True),
    sa.Column('producer_region_code', sa.String(length=6), nullable=True),
    sa.Column('issued_at', traceapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', traceapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Uuid(), nullable=True),
    sa.Column('revoke_reason', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_certificates_issued_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_certificates_org_id_organisations')),
    sa.ForeignKeyConstraint(['report_id'], ['test_reports.id'], name=op.f('fk_certificates_report_id_test_reports')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_certificates_revoked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('org_id', 'client_event_id', name=op.f('uq_certificates_org_id_client_event_id')),
    sa.UniqueConstraint('trace_code', name=op.f('uq_certificates_trace_code'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('ix_certificates_org_id_issued_at', ['org_id', 'issued_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_org_id_issued_at')

    op.drop_table('certificates')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_org_id'))

    op.drop_table('users')
    with op.batch_alter_table('test_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_test_reports_org_id'))

    op.drop_table('test_reports')
    op.drop_table('products')
    op.drop_table('organisations')
