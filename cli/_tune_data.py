"""Data for `keras-recipes tune`: digits, or a numeric CSV table (train/val/test splits)."""

import os
import re
from types import SimpleNamespace

import numpy as np

from keras_recipes.cli import _csv
from keras_recipes.cli._errors import CommandError

#: A target with more distinct values than this is not a class label.
MAX_CLASSES = 100

#: The fewest rows that fill the train, validation and test splits.
MIN_ROWS = 10


def _read_csv(path, target):
    import pandas as pd

    if target is None:
        raise CommandError("--data needs --target COLUMN (the column to predict)")
    if not os.path.isfile(path):
        raise CommandError(f"no such file: {path}")
    table = _csv.read_table(path)
    if target not in table.columns:
        raise CommandError(
            f"column {target!r} not found in {path}; columns: {', '.join(map(str, table.columns))}"
        )
    features = _csv.numeric_features(table, target, path)
    if features.shape[1] == 0 or features.isna().any().any():
        raise CommandError(f"{path} needs at least one feature column and no missing values")
    if not np.isfinite(features.to_numpy("float64")).all():
        raise CommandError(f"{path} has infinite feature values; expected finite numbers")
    labels, classes = pd.factorize(table[target])
    if not 2 <= len(classes) <= MAX_CLASSES:
        raise CommandError(f"target {target!r} has {len(classes)} distinct values; "
                           f"expected 2 to {MAX_CLASSES} classes")
    if len(table) < MIN_ROWS:
        raise CommandError(f"{path} has {len(table)} row(s); at least {MIN_ROWS} are needed "
                           "for the train, validation and test splits")
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", os.path.splitext(os.path.basename(path))[0])
    return features.to_numpy("float32"), labels.astype("int64"), len(classes), f"{stem}_{target}"


def load(path, target, *, seed=0):
    """Loads digits (scaled to [0, 1]) or a CSV (standardized); splits 60/15/25."""
    from sklearn.model_selection import train_test_split

    if path is None:
        from sklearn.datasets import load_digits

        digits = load_digits()
        x, y, classes, name = (digits.data / 16.0).astype("float32"), digits.target, 10, "digits"
    else:
        x, y, classes, name = _read_csv(path, target)
    stratify = y if np.bincount(y).min() >= 4 else None
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=0.25, random_state=seed, stratify=stratify)
    stratify = y_rest if stratify is not None else None
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=0.2, random_state=seed, stratify=stratify)
    if path is not None:
        mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-7
        x_train, x_val, x_test = [(a - mean) / std for a in (x_train, x_val, x_test)]
    return SimpleNamespace(name=name, classes=classes, x_train=x_train, y_train=y_train,
                           x_val=x_val, y_val=y_val, x_test=x_test, y_test=y_test)
