"""Entry point of the `keras-recipes` command."""

import argparse
import sys


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-recipes",
        description="Classic deep-learning training know-how for Keras 3.",
    )
    parser.add_subparsers(dest="command", required=True)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
