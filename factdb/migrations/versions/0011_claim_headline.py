"""claim.headline: the imported fact-check's headline, a second wording the matcher finds a
claim by (factdb/matching/matcher.py); the change feed's update trigger watches it too"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'

BEFORE = ("text", "public_text", "status")
AFTER = ("text", "public_text", "headline", "status")


def _update_trigger(watched: tuple[str, ...], postgres: bool) -> list[str]:
    columns = ", ".join(watched)
    if postgres:
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in watched)
        return [
            "DROP TRIGGER IF EXISTS claim_change_update ON claim",
            f"CREATE TRIGGER claim_change_update AFTER UPDATE OF {columns} ON claim "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION claim_change_stamp()",
        ]
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watched)
    stamp = (
        "INSERT INTO claim_change (claim_id, seq) VALUES "
        "(NEW.id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM claim_change)) "
        "ON CONFLICT (claim_id) DO UPDATE SET seq = excluded.seq;"
    )
    return [
        "DROP TRIGGER IF EXISTS claim_change_update",
        f"CREATE TRIGGER claim_change_update AFTER UPDATE OF {columns} ON claim "
        f"WHEN {changed} BEGIN {stamp} END",
    ]


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy): on SQLite a table copy would drop the feed's triggers.
    op.add_column('claim', sa.Column('headline', sa.Text(), nullable=True))
    postgres = op.get_bind().dialect.name == 'postgresql'
    for statement in _update_trigger(AFTER, postgres):
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for statement in _update_trigger(BEFORE, postgres):
        op.execute(statement)
    if postgres:
        op.drop_column('claim', 'headline')
    else:  # SQLite >= 3.35 drops a column in place; a batch copy would drop the triggers
        op.execute("ALTER TABLE claim DROP COLUMN headline")
