"""``python -m autonomos.cli``."""

from autonomos.cli import main

main()
