"""`python -m hookwire` runs the console script."""

from hookwire.cli.main import main

main()
