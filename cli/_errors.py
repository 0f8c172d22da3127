"""The error a subcommand raises for bad input (printed as one line, exit 2)."""

import os


class CommandError(Exception):
    """Bad command-line input: a missing file, a missing column, a shape mismatch."""


def check_seed(seed):
    """A seed NumPy and TensorFlow both accept: 0 to 2**32 - 1."""
    if not 0 <= seed < 2**32:
        raise CommandError(f"--seed must be from 0 to 2**32 - 1. Received: --seed={seed}")


def check_out_folder(out):
    """`--out` must be a folder or a path a folder can be made at: no file on the way."""
    existing = out
    while existing and not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if existing and not os.path.isdir(existing):
        raise CommandError(f"--out must be a folder, but {existing} is a file")
