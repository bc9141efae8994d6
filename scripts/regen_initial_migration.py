"""Regenerate migration 0001 from the models (only while no database in the wild uses it)."""

import os
import tempfile
from pathlib import Path

from alembic import command

from factdb.db import MIGRATIONS, Database, alembic_config

for old in (MIGRATIONS / "versions").glob("0001_*.py"):
    old.unlink()
path = Path(tempfile.mkdtemp()) / "autogen.sqlite3"
db = Database(f"sqlite:///{path}")
command.revision(alembic_config(db.engine), message="initial schema", autogenerate=True, rev_id="0001")
os.remove(path)
