"""The error a subcommand raises for bad input (printed as one line, exit 2)."""


class CommandError(Exception):
    """Bad command-line input: a missing file, a missing column, a shape mismatch."""


def check_seed(seed):
    """A seed NumPy and TensorFlow both accept: 0 to 2**32 - 1."""
    if not 0 <= seed < 2**32:
        raise CommandError(f"--seed must be from 0 to 2**32 - 1. Received: --seed={seed}")
