"""Maintenance tools run with `python -m ftorch_cli.tools.<name>`."""
