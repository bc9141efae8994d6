"""`python -m bot.cli …` does what `crowdcheck …` does."""

from bot.cli import main

main()
