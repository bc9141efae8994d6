"""quiet groups, weekly digest and public channel"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'


def upgrade() -> None:
    op.create_table('group_chat',
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('lang', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('joined_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('chat_id')
    )
    op.create_table('public_channel',
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('chat_id')
    )
    op.create_table('channel_post',
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('posted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.PrimaryKeyConstraint('claim_id', 'chat_id')
    )
    op.create_table('claim_reach',
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('group_answers', sa.Integer(), nullable=False),
    sa.Column('inline_shares', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.PrimaryKeyConstraint('claim_id')
    )
    op.create_table('digest_subscriber',
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_week', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('subscribed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ),
    sa.PrimaryKeyConstraint('citizen_id')
    )
    op.create_table('group_answer',
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.PrimaryKeyConstraint('chat_id', 'claim_id', 'day')
    )


def downgrade() -> None:
    op.drop_table('group_answer')
    op.drop_table('digest_subscriber')
    op.drop_table('claim_reach')
    op.drop_table('channel_post')
    op.drop_table('public_channel')
    op.drop_table('group_chat')
