"""match_log.reasons: why the matcher decided as it did (a JSON list of short lines), for admins
(`crowdcheck explain`) and `crowdcheck tune`"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'


def upgrade() -> None:
    # A plain ADD COLUMN, as 0011 does: match_log has no triggers, but a batch copy of it is
    # needless work on a big log.
    op.add_column('match_log', sa.Column('reasons', sa.Text(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_column('match_log', 'reasons')
    else:  # SQLite >= 3.35 drops a column in place, without copying the table
        op.execute("ALTER TABLE match_log DROP COLUMN reasons")
