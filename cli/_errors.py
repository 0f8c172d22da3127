"""The error a subcommand raises for bad input (printed as one line, exit 2)."""


class CommandError(Exception):
    """Bad command-line input: a missing file, a missing column, a shape mismatch."""
