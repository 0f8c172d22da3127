"""`keras-recipes train`: trains a recipe classifier on scikit-learn's digits."""

import numpy as np

from keras_recipes.cli._errors import CommandError, check_seed


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train", help="train a recipe MLP on scikit-learn's embedded digits"
    )
    parser.add_argument("--epochs", type=int, default=30, help="training epochs (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.set_defaults(handler=run)
    return parser


def run(args):
    import keras
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from keras_recipes.recipes import classifier

    if args.epochs < 1:
        raise CommandError(f"--epochs must be >= 1. Received: --epochs={args.epochs}")
    check_seed(args.seed)
    keras.utils.set_random_seed(args.seed)
    data = load_digits()
    x = (data.data / 16.0).astype("float32")
    x_train, x_test, y_train, y_test = train_test_split(
        x, data.target, test_size=0.25, random_state=args.seed, stratify=data.target
    )
    model = classifier(
        (64,), [64, 32], 10, batch_norm=True, dropout=0.2, l2=1e-4, learning_rate=3e-3
    )
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=32, verbose=2)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test_accuracy={accuracy:.4f}")
    return 0 if np.isfinite(accuracy) else 1
