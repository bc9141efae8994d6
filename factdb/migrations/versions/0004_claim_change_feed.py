"""claim_change: a per-claim change stamp written by triggers, for the match index to catch up"""

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'

# The columns whose change alters what the match index holds for a claim (factdb/changes.py).
WATCHED = ("text", "public_text", "status")

_SQLITE_STAMP = """
    INSERT INTO claim_change (claim_id, seq) VALUES ({ref}.id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM claim_change))
    ON CONFLICT (claim_id) DO UPDATE SET seq = excluded.seq;
"""
_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
SQLITE_DDL = [
    f"CREATE TRIGGER claim_change_insert AFTER INSERT ON claim BEGIN {_SQLITE_STAMP.format(ref='NEW')} END",
    f"CREATE TRIGGER claim_change_update AFTER UPDATE OF {', '.join(WATCHED)} ON claim "
    f"WHEN {_CHANGED} BEGIN {_SQLITE_STAMP.format(ref='NEW')} END",
    f"CREATE TRIGGER claim_change_delete AFTER DELETE ON claim BEGIN {_SQLITE_STAMP.format(ref='OLD')} END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS claim_change_insert",
    "DROP TRIGGER IF EXISTS claim_change_update",
    "DROP TRIGGER IF EXISTS claim_change_delete",
]

_PG_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
POSTGRES_DDL = [
    "CREATE SEQUENCE claim_change_seq",
    """
    CREATE FUNCTION claim_change_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO claim_change (claim_id, seq, xid)
        VALUES (
            CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
            nextval('claim_change_seq'),
            pg_current_xact_id()::text::bigint
        )
        ON CONFLICT (claim_id) DO UPDATE SET seq = EXCLUDED.seq, xid = EXCLUDED.xid;
        RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER claim_change_insert AFTER INSERT OR DELETE ON claim "
    "FOR EACH ROW EXECUTE FUNCTION claim_change_stamp()",
    f"CREATE TRIGGER claim_change_update AFTER UPDATE OF {', '.join(WATCHED)} ON claim "
    f"FOR EACH ROW WHEN ({_PG_CHANGED}) EXECUTE FUNCTION claim_change_stamp()",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS claim_change_update ON claim",
    "DROP TRIGGER IF EXISTS claim_change_insert ON claim",
    "DROP FUNCTION IF EXISTS claim_change_stamp()",
    "DROP SEQUENCE IF EXISTS claim_change_seq",
]
# Existing claims count as changed once, before any worker reads the feed.
SQLITE_BACKFILL = "INSERT INTO claim_change (claim_id, seq) SELECT id, id FROM claim"
POSTGRES_BACKFILL = (
    "INSERT INTO claim_change (claim_id, seq, xid) "
    "SELECT id, nextval('claim_change_seq'), pg_current_xact_id()::text::bigint "
    "FROM (SELECT id FROM claim ORDER BY id) AS existing"
)




def upgrade() -> None:
    op.create_table(
        'claim_change',
        sa.Column('claim_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('xid', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('claim_id'),
    )
    with op.batch_alter_table('claim_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_change_seq'), ['seq'], unique=True)
        batch_op.create_index(batch_op.f('ix_claim_change_xid'), ['xid'], unique=False)
    postgres = op.get_bind().dialect.name == 'postgresql'
    for statement in POSTGRES_DDL if postgres else SQLITE_DDL:
        op.execute(statement)
    op.execute(POSTGRES_BACKFILL if postgres else SQLITE_BACKFILL)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for statement in POSTGRES_DROP if postgres else SQLITE_DROP:
        op.execute(statement)
    with op.batch_alter_table('claim_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_change_xid'))
        batch_op.drop_index(batch_op.f('ix_claim_change_seq'))
    op.drop_table('claim_change')
