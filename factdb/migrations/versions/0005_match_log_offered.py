"""match_log.offered: the claims a citizen was offered to pick from, so a forged pick is refused"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'


def upgrade() -> None:
    with op.batch_alter_table('match_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offered', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('match_log', schema=None) as batch_op:
        batch_op.drop_column('offered')
