"""picture ids are never reused on SQLite (AUTOINCREMENT): each worker's hash index keys
pictures by id, and a deleted picture's id handed to a new one could answer the old picture's
copies with the new one's claim. PostgreSQL's sequences never reuse ids: nothing to do there."""

from alembic import op


revision = '0010'
down_revision = '0009'


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table(
            'picture', recreate='always', table_kwargs={'sqlite_autoincrement': True}
        ):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table(
            'picture', recreate='always', table_kwargs={'sqlite_autoincrement': False}
        ):
            pass
