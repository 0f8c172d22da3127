"""`keras-recipes train`: trains a recipe MLP on scikit-learn's digits."""


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train", help="train a recipe MLP on scikit-learn's embedded digits"
    )
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(handler=run)
    return parser


def run(args):
    raise NotImplementedError("filled in with the core recipes")
