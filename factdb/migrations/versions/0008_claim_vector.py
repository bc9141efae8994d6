"""claim_vector: one stored sentence embedding per matchable claim (factdb/semantic/store.py)"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'


def upgrade() -> None:
    # No foreign key: vectors of deleted claims are dropped by the next sync (SQLite does not
    # enforce them by default, and /forget deletes claims in bulk).
    op.create_table(
        'claim_vector',
        sa.Column('claim_id', sa.Integer(), nullable=False),
        sa.Column('model', sa.String(length=64), nullable=False),
        sa.Column('text_hash', sa.String(length=16), nullable=False),
        sa.Column('vector', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('claim_id'),
    )


def downgrade() -> None:
    op.drop_table('claim_vector')
