"""`keras-recipes diagnose`: trains a saved model briefly with the training doctor."""

import os
import warnings

import numpy as np

from keras_recipes.cli import _csv
from keras_recipes.cli._errors import CommandError, check_out_folder

_DEFAULT_OUT = os.path.join("keras_recipes_out", "diagnose")


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "diagnose",
        help="train a saved model briefly with the training doctor and report its findings",
    )
    parser.add_argument("model", help="a saved Keras model (.keras)")
    parser.add_argument("--data", required=True, help="DATA.npz (arrays x, y) or DATA.csv")
    parser.add_argument("--target", default=None, help="target column of a CSV file")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", default=_DEFAULT_OUT, help="folder for report.md and plots")
    parser.set_defaults(handler=run)
    return parser


#: The fewest examples that leave one for validation (`validation_split=0.2`).
MIN_EXAMPLES = 5


def run(args):
    if args.epochs < 1:
        raise CommandError(f"--epochs must be at least 1, got {args.epochs}")
    if args.batch_size < 1:
        raise CommandError(f"--batch-size must be at least 1, got {args.batch_size}")
    check_out_folder(args.out)
    if not os.path.isfile(args.model):
        raise CommandError(f"model file not found: {args.model}")
    x, y = load_data(args.data, args.target)
    model = load_model(args.model)
    check_shapes(model, x, args.data)
    from keras_recipes.callbacks import TrainingDoctor

    # The labels give the doctor the data's chance level (the prior's entropy,
    # the targets' variance) and are checked against the loss before training.
    doctor = TrainingDoctor(every_n_batches=max(1, len(x) // (args.batch_size * 10)), y=y)
    try:
        model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, validation_split=0.2,
                  verbose=0, callbacks=[doctor])
    except ValueError as error:
        if not str(error).startswith("`y` does not match"):
            raise
        raise CommandError(f"{args.data}: {error}") from None
    print(doctor.report())
    path = doctor.save_report(args.out)
    print(f"Report written to {path}")
    return 0


def load_data(path, target):
    """(x, y) from an .npz file (arrays `x` and `y`) or a CSV file (`target`
    column): numbers only, no missing values, as many labels as examples,
    and at least `MIN_EXAMPLES` of them."""
    if not os.path.isfile(path):
        raise CommandError(f"data file not found: {path}")
    if path.endswith(".npz"):
        x, y = _read_npz(path)
    elif path.endswith(".csv"):
        x, y = _read_csv(path, target)
    else:
        raise CommandError(f"data must be a .npz or .csv file, got: {path}")
    if len(x) != len(y):
        raise CommandError(f"{path} has {len(x)} examples in x but {len(y)} labels in y")
    if len(x) < MIN_EXAMPLES:
        raise CommandError(
            f"{path} has {len(x)} example(s); at least {MIN_EXAMPLES} are needed "
            "(a fifth is held out for validation)"
        )
    for name, values in (("x", x), ("y", y)):
        missing = int(np.sum(~np.isfinite(values)))
        if missing:
            raise CommandError(f"{path} has {missing} missing or non-finite value(s) in {name}")
    return x, y


def _read_npz(path):
    try:
        with np.load(path) as arrays:
            if "x" not in arrays or "y" not in arrays:
                raise CommandError(f"{path} must hold arrays 'x' and 'y', found: {sorted(arrays)}")
            x, y = arrays["x"], arrays["y"]
    except CommandError:
        raise
    except Exception as error:  # not a zip, pickled objects, a truncated file
        raise CommandError(f"cannot read {path} as .npz: {_csv.first_line(error)}") from error
    return _numeric(x, "x", path), _numeric(y, "y", path)


def _read_csv(path, target):
    table = _csv.read_table(path)
    if target is None or target not in table:
        raise CommandError(
            f"target column {target!r} not in {path}; pass --target, one of: "
            f"{', '.join(map(str, table.columns))}"
        )
    features = _csv.numeric_features(table, target, path)
    if features.shape[1] == 0:
        raise CommandError(f"{path} has no feature column besides {target!r}")
    return features.to_numpy("float32"), _numeric(table[target].to_numpy(), "y", path)


def _numeric(values, name, path):
    if values.dtype.kind not in "biuf":
        raise CommandError(
            f"{name} in {path} must be numbers (class labels as integers), "
            f"got values of type {values.dtype}"
        )
    return values.astype("float32") if name == "x" else values



def load_model(path):
    """The saved model, compiled (with Adam and a loss fitting its output if it was not)."""
    if not os.path.isfile(path):
        raise CommandError(f"model file not found: {path}")
    import keras

    import keras_recipes.recipes  # noqa: F401 - registers the recipes' layers for loading

    try:
        # Keras warns when a saved optimizer's state does not match; the doctor's
        # short training run needs no saved optimizer state, so that is noise here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            model = keras.models.load_model(path)
    except Exception as error:  # many formats of failure, reported as one line
        raise CommandError(
            f"cannot load model {path}: {type(error).__name__}: {_csv.first_line(error)}"
        ) from error
    if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
        model.compile(optimizer="adam", loss=_default_loss(model))
    return model


def check_shapes(model, x, data_path):
    expected = tuple(model.input_shape[1:])
    if len(expected) != x.ndim - 1 or any(e not in (None, g) for e, g in zip(expected, x.shape[1:])):
        raise CommandError(
            f"model expects inputs of shape {(None, *expected)} but {data_path} has x of "
            f"shape {x.shape}"
        )


def _default_loss(model):
    units = model.output_shape[-1]
    if units == 1:
        return "binary_crossentropy" if _activation_name(model) == "sigmoid" else "mse"
    return "sparse_categorical_crossentropy" if _activation_name(model) == "softmax" else "mse"


def _activation_name(model):
    activation = getattr(model.layers[-1], "activation", None)
    return getattr(activation, "__name__", None)
