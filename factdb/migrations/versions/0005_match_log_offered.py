"""match_log.offered: the claims a citizen was offered to pick from, so a forged pick is refused

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 00:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('match_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offered', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('match_log', schema=None) as batch_op:
        batch_op.drop_column('offered')
