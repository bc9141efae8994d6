"""picture: pictures citizens sent, stripped of metadata, with their perceptual hashes and OCR text"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'


def upgrade() -> None:
    op.create_table('picture',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.Column('citizen_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('hash_coarse', sa.LargeBinary(length=8), nullable=False),
    sa.Column('hash_fine', sa.LargeBinary(length=32), nullable=False),
    sa.Column('flat', sa.Boolean(), nullable=False),
    sa.Column('ocr_text', sa.Text(), nullable=True),
    sa.Column('ocr_lang', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('publishable', sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('picture', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_picture_citizen_id'), ['citizen_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_picture_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_picture_sha256'), ['sha256'], unique=False)
        batch_op.create_index('ix_picture_claim_publishable', ['claim_id', 'publishable'], unique=False)


def downgrade() -> None:
    op.drop_table('picture')
