"""`python -m redress`: the same as the `redress` command."""

from redress.cli.main import run

run()
