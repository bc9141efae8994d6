"""`crowdcheck …`: a thin shell over the library. Every command has --help, fails with one
clear line, and creates an empty database on first use.

    base.py         the group: configuration, logging, the database, shared helpers
    running.py      run, serve, demo
    doctor.py       doctor (its checks: checks.py)
    database.py     db upgrade
    interchange.py  import, export (progress bars: progress.py)
    matching.py     match, tune
    people.py       reviewers list|add|remove, citizens erase
    figures.py      stats
"""

from bot.cli import database, doctor, figures, interchange, matching, people, running
from bot.cli.base import main, setup_logging

# The command modules register themselves on `main` when imported.
COMMAND_MODULES = (database, doctor, figures, interchange, matching, people, running)

__all__ = ["main", "setup_logging"]
