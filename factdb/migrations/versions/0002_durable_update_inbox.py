"""durable update inbox"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'


def upgrade() -> None:
    op.create_table('inbox_update',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('update_id')
    )
    with op.batch_alter_table('inbox_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_update_owner'), ['owner'], unique=False)

    op.create_table('inbox_worker',
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('owner')
    )


def downgrade() -> None:
    op.drop_table('inbox_worker')
    with op.batch_alter_table('inbox_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_update_owner'))

    op.drop_table('inbox_update')
