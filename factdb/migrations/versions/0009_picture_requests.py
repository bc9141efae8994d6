"""picture.request_id and request.media_kind: a picture belongs to the request it came with
until that request has a claim (a citizen choosing among near matches), and the per-citizen
picture limit counts requests that came with a picture."""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'


def upgrade() -> None:
    # No foreign key (as claim_vector): /forget deletes requests in bulk, and SQLite cannot add
    # one to an existing table without rebuilding it.
    with op.batch_alter_table('picture') as batch:
        batch.add_column(sa.Column('request_id', sa.Integer(), nullable=True))
        batch.create_index('ix_picture_request_id', ['request_id'])
    with op.batch_alter_table('request') as batch:
        batch.add_column(sa.Column('media_kind', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('request') as batch:
        batch.drop_column('media_kind')
    with op.batch_alter_table('picture') as batch:
        batch.drop_index('ix_picture_request_id')
        batch.drop_column('request_id')
