"""Entry point of the `keras-recipes` command.

Each subcommand lives in its own module of this package with two functions:
`add_parser(subparsers)` registers its options and sets `handler`, and the
handler takes the parsed arguments and returns an exit status. Bad input is
reported by raising `CommandError`: one line on stderr, exit status 2.
"""

import argparse
import importlib
import sys

from keras_recipes.cli._errors import CommandError

# Subcommand modules, in the order `--help` lists them.
_COMMAND_MODULES = ("tune", "diagnose", "train")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-recipes",
        description="Classic deep-learning training know-how for Keras 3.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in _COMMAND_MODULES:
        module = importlib.import_module(f"keras_recipes.cli.{name}")
        module.add_parser(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CommandError as error:
        print(f"keras-recipes {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
